// Package dynamo stores Depot's inventory in one DynamoDB table
// (docs/data-model.md) and implements the use cases' Store port. Every
// change is one TransactWriteItems; every list is one Query from a
// position. It never scans.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/depot-inventory/depot/internal/inventory"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store reads and writes inventory in the table.
type Store struct {
	db    API
	table string
}

// New returns a store on the named table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

// GetItem reads an item, live or deleted, with a strongly consistent read.
func (s *Store) GetItem(ctx context.Context, id string) (inventory.Item, error) {
	return getRecord(ctx, s, itemKey(id), "item "+id, decodeItem, func() error {
		return inventory.Errorf(inventory.KindNotFound, inventory.CodeItemNotFound, "no item with id %s", id)
	})
}

// getRecord reads one record strongly consistently; notFound is the error
// of a missing one.
func getRecord[T any](ctx context.Context, s *Store, k key, what string, decode func(attrMap) (T, error), notFound func() error) (T, error) {
	var zero T
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return zero, classify(fmt.Errorf("get %s: %w", what, err))
	}
	if out.Item == nil {
		return zero, notFound()
	}
	return decode(out.Item)
}

// SaveItem writes a change in one transaction with everything that must
// change with the item: the SKU marker, facet rows, tag and group counts,
// stock levels (and the guards of their locations), ledger lines, activity
// entries and the idempotency record.
func (s *Store) SaveItem(ctx context.Context, c inventory.ItemChange) error {
	return s.SaveItems(ctx, []inventory.ItemChange{c}, c.Idempotency)
}

// SaveItems writes changes of several items in one transaction, each as
// SaveItem writes one, with one update per tag and group counter they
// move; a change's LiveGroup must be live.
func (s *Store) SaveItems(ctx context.Context, changes []inventory.ItemChange, idem *inventory.IdempotencyRecord) error {
	tx := itemsTxn(s.table, changes, idem)
	what := "save items"
	if len(changes) > 0 {
		what = "save item " + changes[len(changes)-1].Next.ID
	}
	return s.commit(ctx, tx, what, func(failed map[string]bool) error {
		if failed["sku"] {
			for _, c := range changes {
				if c.Old == nil || c.Old.SKU != c.Next.SKU || c.Old.Deleted != nil {
					return inventory.Errorf(inventory.KindConflict, inventory.CodeSKUConflict, "a live item already has sku %q", c.Next.SKU)
				}
			}
		}
		return nil
	})
}

// itemsTxn is the transaction of SaveItems.
func itemsTxn(table string, changes []inventory.ItemChange, idem *inventory.IdempotencyRecord) *txn {
	tx := &txn{table: table}
	putIdempotency(tx, idem)
	counts := counters{tags: map[string]int64{}, groups: map[string]int64{}, liveGroups: map[string]bool{}}
	for _, c := range changes {
		if c.Old == nil {
			tx.put("item", encodeItem(c.Next), "attribute_not_exists(PK)", nil)
		} else {
			tx.put("item", encodeItem(c.Next), "version = :v", attrMap{":v": num(c.Old.Version)})
		}
		skuChanges(tx, c.Old, c.Next)
		facetChanges(tx, c.Old, c.Next, &counts)
		writeLevels(tx, c.Levels, c.Ledger)
		for _, a := range c.Activity {
			tx.put("activity", encodeActivity(a), "attribute_not_exists(PK)", nil)
		}
		if c.LiveGroup != "" {
			counts.liveGroups[c.LiveGroup] = true
		}
	}
	counts.write(tx)
	return tx
}

// counters gathers what a transaction adds to tag and group counters, so
// that each counter is one action however many items move it.
type counters struct {
	tags       map[string]int64
	groups     map[string]int64
	liveGroups map[string]bool // groups that must be live
}

func (c *counters) write(tx *txn) {
	for _, t := range slices.Sorted(maps.Keys(c.tags)) {
		if d := c.tags[t]; d != 0 {
			tx.updateNamed("tagCount", tagCountKey(t), "ADD itemCount :d SET #type = :type, #tag = :tag", "",
				map[string]string{"#type": "type", "#tag": "tag"},
				attrMap{":d": num(d), ":type": str("tagCount"), ":tag": str(t)})
		}
	}
	for _, g := range slices.Sorted(maps.Keys(c.groups)) {
		cond := "attribute_exists(PK)"
		if c.liveGroups[g] {
			cond = "attribute_exists(PK) AND attribute_not_exists(deleted)"
		}
		tx.update("group", groupKey(g), "ADD memberCount :d", cond, attrMap{":d": num(c.groups[g])})
	}
	for _, g := range slices.Sorted(maps.Keys(c.liveGroups)) {
		if _, counted := c.groups[g]; !counted {
			tx.check("group", groupKey(g), "attribute_exists(PK) AND attribute_not_exists(deleted)", nil)
		}
	}
}

// putIdempotency adds the idempotency record, if any, to the transaction.
// It comes first, so that an engine that stops at the first failed
// condition still reports a concurrent retry as such.
func putIdempotency(tx *txn, r *inventory.IdempotencyRecord) {
	if r != nil {
		tx.put("idem", encodeIdempotency(*r), "attribute_not_exists(PK) OR expiresAtEpoch < :now",
			attrMap{":now": num(r.CreatedAt.Unix())})
	}
}

// legacyLevel is the LastLedgerID a level written before levels had one
// is read with; its write is conditioned on its quantity instead.
const legacyLevel = "legacy"

// writeLevels adds the levels, their ledger lines and the guards of their
// locations (inventory.LocationGuards) to the transaction. A level is
// written on the condition that it is still the one read (its last ledger
// line names its state), or does not exist yet.
func writeLevels(tx *txn, levels []inventory.LevelChange, ledger []inventory.LedgerEntry) {
	for _, l := range levels {
		switch {
		case l.Old == nil:
			tx.put("level", encodeLevel(l.Next), "attribute_not_exists(PK)", nil)
		case l.Old.LastLedgerID == legacyLevel:
			tx.put("level", encodeLevel(l.Next), "attribute_not_exists(lastLedgerId) AND quantity = :q",
				attrMap{":q": num(l.Old.OnHand)})
		default:
			tx.put("level", encodeLevel(l.Next), "lastLedgerId = :last", attrMap{":last": str(l.Old.LastLedgerID)})
		}
	}
	for _, e := range ledger {
		tx.put("ledger", encodeLedger(e), "attribute_not_exists(PK)", nil)
	}
	const exists, live = "attribute_exists(PK)", "attribute_exists(PK) AND attribute_not_exists(deleted)"
	for _, g := range inventory.LocationGuards(levels) {
		cond := exists
		if g.NeedsLive {
			cond = live
		}
		if g.Delta == 0 {
			tx.check("location", locationKey(g.LocationID), cond, nil)
		} else {
			tx.update("location", locationKey(g.LocationID), "ADD stockedLevels :d", cond, attrMap{":d": num(g.Delta)})
		}
	}
}

func skuChanges(tx *txn, old *inventory.Item, next inventory.Item) {
	uniqueMarker(tx, "sku", "sku", "itemId", next.ID, old != nil && old.Deleted == nil, next.Deleted == nil,
		func() key { return skuKey(old.SKU) }, skuKey(next.SKU), old != nil && old.SKU != next.SKU)
}

// uniqueMarker keeps the marker of a unique value (a live item's SKU, a
// live location's code, a live group's name) with its record, in its
// transaction: the old one deleted on the condition that it is this
// record's (role+"Release"), the new one put on the condition that no
// record holds it (role: its failure is a conflict). The marker is of
// type typ, and its attribute owner names the record's id. changed is whether
// the value changed; oldKey is called only when the old value is released.
func uniqueMarker(tx *txn, role, typ, owner, id string, oldLive, nextLive bool, oldKey func() key, nextKey key, changed bool) {
	if oldLive && (!nextLive || changed) {
		tx.delete(role+"Release", oldKey(), owner+" = :id", attrMap{":id": str(id)})
	}
	if nextLive && (!oldLive || changed) {
		nextKey["type"], nextKey[owner] = str(typ), str(id)
		tx.put(role, nextKey, "attribute_not_exists(PK)", nil)
	}
}

// facetChanges writes the item's facet rows: a live item's tags, groups
// and search keys, each a row in SKU order, all rewritten when the SKU
// changes; and counts what the change adds to each tag and group.
func facetChanges(tx *txn, old *inventory.Item, next inventory.Item, counts *counters) {
	var before []string
	if old != nil {
		before = old.Facets()
	}
	after := next.Facets()
	resort := old != nil && old.SKU != next.SKU
	for _, f := range before {
		if !slices.Contains(after, f) {
			tx.delete("facet", facetKey(next.ID, f), "", nil)
		}
	}
	for _, f := range after {
		if resort || !slices.Contains(before, f) {
			tx.put("facet", encodeFacet(next, f), "", nil)
		}
	}
	for _, t := range inventory.NewTags(old, next) {
		tx.put("tag", encodeTag(t), "", nil)
	}
	live := func(it *inventory.Item) bool { return it != nil && it.Deleted == nil }
	var oldTags, oldGroups []string
	if live(old) {
		oldTags, oldGroups = old.Tags, old.Groups
	}
	var nextTags, nextGroups []string
	if live(&next) {
		nextTags, nextGroups = next.Tags, next.Groups
	}
	diff(oldTags, nextTags, counts.tags)
	diff(oldGroups, nextGroups, counts.groups)
}

// diff adds to counts −1 for each of before not in after and +1 for each
// of after not in before.
func diff(before, after []string, counts map[string]int64) {
	for _, v := range before {
		if !slices.Contains(after, v) {
			counts[v]--
		}
	}
	for _, v := range after {
		if !slices.Contains(before, v) {
			counts[v]++
		}
	}
}

// commit runs the transaction. A cancelled one is reported by the
// condition that failed: the idempotency record's is
// inventory.ErrIdempotencyRace; conflict may name a domain error for
// others; anything else — a record changed since it was read — is
// inventory.ErrStale. A transaction cancelled only because another one
// was under way on one of its items (TransactionConflict) wrote nothing and
// found nothing changed: it is sent again, conflictAttempts times in all,
// and then is inventory.Unavailable (never ErrStale, which would tell a
// caller with If-Match that the record changed, or a worker that another
// holds its job).
func (s *Store) commit(ctx context.Context, tx *txn, what string, conflict func(failed map[string]bool) error) error {
	for attempt := 1; ; attempt++ {
		err := s.commitOnce(ctx, tx, what, conflict)
		if !errors.Is(err, errConflicted) {
			return err
		}
		if attempt == conflictAttempts {
			return inventory.Unavailable(fmt.Errorf("%s: %d times: %w", what, attempt, err))
		}
		if err := pause(ctx, time.Duration(rand.Int64N(int64(conflictPause)*int64(attempt)))); err != nil {
			return err
		}
	}
}

// A transaction in conflict with others is sent up to conflictAttempts
// times in all, after a random pause of up to conflictPause × the attempts
// so far.
const (
	conflictAttempts = 4
	conflictPause    = 20 * time.Millisecond
)

// errConflicted: the transaction was cancelled for TransactionConflict
// alone.
var errConflicted = errors.New("in conflict with another transaction")

// pause waits d, or until ctx is done.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return inventory.Unavailable(ctx.Err())
	case <-t.C:
		return nil
	}
}

// commitOnce sends the transaction once, reporting its failure as commit
// does, and a cancellation for TransactionConflict alone as errConflicted.
func (s *Store) commitOnce(ctx context.Context, tx *txn, what string, conflict func(failed map[string]bool) error) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx.items})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return classify(fmt.Errorf("%s: %w", what, err))
	}
	failed := map[string]bool{}
	conflicted := false
	for i, reason := range canceled.CancellationReasons {
		switch code := aws.ToString(reason.Code); code {
		case "ConditionalCheckFailed":
			if i < len(tx.roles) {
				failed[tx.roles[i]] = true
			}
		case "TransactionConflict":
			conflicted = true
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			return inventory.Unavailable(fmt.Errorf("%s: %s: %w", what, code, err))
		}
	}
	if conflicted && len(failed) == 0 {
		return fmt.Errorf("%s: %w (%v)", what, errConflicted, err)
	}
	if failed["idem"] {
		return inventory.ErrIdempotencyRace
	}
	// A shipment step whose marker exists was applied (by another runner
	// of its transition, or by this one before its answer was lost); one
	// whose transition ended or turned back must not be.
	if failed["step"] {
		return fmt.Errorf("%s: %w", what, inventory.ErrStepDone)
	}
	if failed["stepTransition"] {
		return fmt.Errorf("%s: %w", what, inventory.ErrTransitionMoved)
	}
	// A record that is no longer as read makes the change stale whatever
	// else failed: a marker's condition can then fail because of that very
	// change (a retried call that had committed, or a change that took the
	// same name), which is no conflict with another record.
	if conflict != nil && !failed["item"] && !failed["groupRecord"] && !failed["locationRecord"] {
		if err := conflict(failed); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: %w (%v)", what, inventory.ErrStale, err)
}

// ListDeletedItems lists deleted items, newest deletion first.
func (s *Store) ListDeletedItems(ctx context.Context, r inventory.Range) ([]inventory.Item, inventory.Position, error) {
	return queryList(ctx, s, deletedItemsList, r, decodeItem)
}

// ListLedger lists an item's ledger lines, newest first.
func (s *Store) ListLedger(ctx context.Context, itemID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
	return queryItemLog(ctx, s, itemID, ledgerPrefix, r, decodeLedger, func(inventory.LedgerEntry) bool { return true })
}

// ListActivity lists an item's activity records, newest first. Stock
// changes are its ledger lines; an activity record of one, written before
// that was so, is skipped.
func (s *Store) ListActivity(ctx context.Context, itemID string, r inventory.Range) ([]inventory.Activity, inventory.Position, error) {
	return queryItemLog(ctx, s, itemID, activityPrefix, r, decodeActivity, func(a inventory.Activity) bool {
		return a.Type != inventory.ActivityStockChanged
	})
}

// queryItemLog lists the records of an item's partition whose sort keys are
// prefix + a ULID, newest first, with a strongly consistent read so that a
// change is listed as soon as it is answered. The page starts after any
// ULID position, whether or not it names one of these records (the
// activity trail merges two such lists at one position): the key condition
// reads up to the position inclusive, and the record at it, if any, is
// dropped.
func queryItemLog[T any](ctx context.Context, s *Store, itemID, prefix string, r inventory.Range,
	decode func(attrMap) (T, error), keep func(T) bool) ([]T, inventory.Position, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :p AND begins_with(SK, :s)"),
		ExpressionAttributeValues: attrMap{":p": str(itemPrefix + itemID), ":s": str(prefix)},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(r.Limit)),
	}
	var after string
	if r.After != nil {
		after = prefix + r.After[0]
		in.KeyConditionExpression = aws.String("PK = :p AND SK BETWEEN :s AND :after")
		in.ExpressionAttributeValues[":after"] = str(after)
		in.Limit = aws.Int32(int32(r.Limit + 1))
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, nil, classify(fmt.Errorf("query %s of %s: %w", prefix, itemID, err))
	}
	records := out.Items
	if len(records) > 0 && sOf(records[0], "SK") == after {
		records = records[1:]
	}
	more := len(out.LastEvaluatedKey) > 0
	if len(records) > r.Limit {
		records, more = records[:r.Limit], true
	}
	items := make([]T, 0, len(records))
	for _, m := range records {
		v, err := decode(m)
		if err != nil {
			return nil, nil, err
		}
		if keep(v) {
			items = append(items, v)
		}
	}
	if !more || len(records) == 0 {
		return items, nil, nil
	}
	return items, inventory.Position{sOf(records[len(records)-1], "SK")[len(prefix):]}, nil
}

// query runs one Query of at most limit records and decodes them; the
// position is that of the last record when there may be more.
func query[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, limit int,
	decode func(attrMap) (T, error), position func(key) inventory.Position) ([]T, inventory.Position, error) {
	in.TableName = &s.table
	in.Limit = aws.Int32(int32(limit))
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, nil, classify(fmt.Errorf("query: %w", err))
	}
	items := make([]T, 0, len(out.Items))
	for _, m := range out.Items {
		v, err := decode(m)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, v)
	}
	if len(out.LastEvaluatedKey) == 0 {
		return items, nil, nil
	}
	return items, position(out.LastEvaluatedKey), nil
}

// GetIdempotency returns the record of scope unexpired at now, or nil.
func (s *Store) GetIdempotency(ctx context.Context, scope string, now time.Time) (*inventory.IdempotencyRecord, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: idemKey(scope), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, classify(fmt.Errorf("get idempotency record: %w", err))
	}
	if out.Item == nil {
		return nil, nil
	}
	r, err := decodeIdempotency(scope, out.Item)
	if err != nil {
		return nil, err
	}
	// TTL deletes expired records some time after expiry, not at once.
	if r.ExpiresAt.Unix() < now.Unix() {
		return nil, nil
	}
	return &r, nil
}

// txn collects the actions of one TransactWriteItems and the role of each,
// so a cancellation reason can be traced to the condition that failed.
type txn struct {
	table string
	items []types.TransactWriteItem
	roles []string
}

func (t *txn) put(role string, item attrMap, condition string, values attrMap) {
	p := &types.Put{TableName: &t.table, Item: item, ExpressionAttributeValues: values}
	if condition != "" {
		p.ConditionExpression = &condition
	}
	t.items = append(t.items, types.TransactWriteItem{Put: p})
	t.roles = append(t.roles, role)
}

func (t *txn) update(role string, k key, update, condition string, values attrMap) {
	u := &types.Update{TableName: &t.table, Key: k, UpdateExpression: &update, ExpressionAttributeValues: values}
	if condition != "" {
		u.ConditionExpression = &condition
	}
	t.items = append(t.items, types.TransactWriteItem{Update: u})
	t.roles = append(t.roles, role)
}

func (t *txn) check(role string, k key, condition string, values attrMap) {
	t.items = append(t.items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &t.table, Key: k, ConditionExpression: &condition, ExpressionAttributeValues: values}})
	t.roles = append(t.roles, role)
}

func (t *txn) updateNamed(role string, k key, update, condition string, names map[string]string, values attrMap) {
	t.update(role, k, update, condition, values)
	t.items[len(t.items)-1].Update.ExpressionAttributeNames = names
}

func (t *txn) delete(role string, k key, condition string, values attrMap) {
	d := &types.Delete{TableName: &t.table, Key: k, ExpressionAttributeValues: values}
	if condition != "" {
		d.ConditionExpression = &condition
	}
	t.items = append(t.items, types.TransactWriteItem{Delete: d})
	t.roles = append(t.roles, role)
}

// classify turns what a retry may cure — throttling, a server error, a
// timeout, a dropped connection, after the SDK's own retries — into an
// inventory.Unavailable error; anything else stays as it is.
func classify(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionInProgressException":
			return inventory.Unavailable(err)
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return inventory.Unavailable(err)
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) {
		return inventory.Unavailable(err)
	}
	return err
}
