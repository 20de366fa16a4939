// Package dynamo stores Depot's inventory in one DynamoDB table
// (docs/data-model.md). Every multi-item change is one TransactWriteItems;
// every list is one Query with an opaque cursor. It never scans.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Store reads and writes inventory in the table.
type Store struct {
	db    API
	table string
}

// New returns a store on the named table.
func New(db API, table string) *Store { return &Store{db: db, table: table} }

// Errors of the store that callers act on.
var (
	// ErrVersionConflict: the item changed since it was read.
	ErrVersionConflict = errors.New("item changed concurrently")
	// ErrIdempotencyRace: another request with the same idempotency key committed first.
	ErrIdempotencyRace = errors.New("idempotency key used concurrently")
)

// Page is one page of a list and the cursor of the next, nil on the last.
type Page[T any] struct {
	Items      []T
	NextCursor *string
}

// GetItem reads an item, live or deleted, with a strongly consistent read.
func (s *Store) GetItem(ctx context.Context, id string) (inventory.Item, error) {
	pk, sk := itemKey(id)
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            stringKey(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return inventory.Item{}, fmt.Errorf("get item %s: %w", id, err)
	}
	if out.Item == nil {
		return inventory.Item{}, inventory.Errorf(inventory.CodeItemNotFound, "no item with id %s", id)
	}
	rec, err := decodeItemRecord(out.Item)
	if err != nil {
		return inventory.Item{}, fmt.Errorf("decode item %s: %w", id, err)
	}
	return rec.item(), nil
}

// SaveItem writes next in one transaction together with everything that must
// change with it: the SKU marker, tag rows, the stock row and the ledger
// entry (when entry is not nil), and the idempotency record (when idem is not
// nil). old is the item as read (nil to create); the write fails with
// ErrVersionConflict if the stored item is no longer old.
func (s *Store) SaveItem(ctx context.Context, old *inventory.Item, next inventory.Item, entry *inventory.LedgerEntry, idem *IdempotencyRecord) error {
	tx := &txn{table: s.table}
	if idem != nil {
		// First, so that an engine that stops at the first failed condition
		// still reports a concurrent retry as such.
		tx.put("idem", idem.record(), "attribute_not_exists(PK) OR expiresAtEpoch < :now", idempotencyNow())
	}
	rec := newItemRecord(next)
	if old == nil {
		tx.put("item", rec, "attribute_not_exists(PK)", nil)
	} else {
		tx.put("item", rec, "version = :v", map[string]types.AttributeValue{":v": number(old.Version)})
	}
	s.skuChanges(tx, old, next)
	s.tagChanges(tx, old, next)
	if entry != nil {
		pk, sk := stockKey(next.ID, entry.LocationID)
		stock := stockRecord{
			PK: pk, SK: sk, GSI2PK: locPrefix + entry.LocationID, GSI2SK: itemPrefix + next.ID,
			Type: "stock", ItemID: next.ID, LocationID: entry.LocationID,
			Quantity: entry.QuantityAfter, UpdatedAt: formatTime(entry.At),
		}
		if old == nil {
			tx.put("stock", stock, "attribute_not_exists(PK)", nil)
		} else {
			tx.put("stock", stock, "quantity = :before", map[string]types.AttributeValue{
				":before": number(entry.QuantityAfter - entry.Delta)})
		}
		tx.put("ledger", newLedgerRecord(*entry), "attribute_not_exists(PK)", nil)
	}
	if tx.err != nil {
		return fmt.Errorf("save item %s: %w", next.ID, tx.err)
	}
	return s.commit(ctx, tx, next)
}

func (s *Store) skuChanges(tx *txn, old *inventory.Item, next inventory.Item) {
	oldLive := old != nil && old.Deleted == nil
	nextLive := next.Deleted == nil
	if oldLive && (!nextLive || old.SKU != next.SKU) {
		pk, sk := skuKey(old.SKU)
		tx.delete("skuRelease", pk, sk, "itemId = :id", map[string]types.AttributeValue{":id": str(next.ID)})
	}
	if nextLive && (!oldLive || old.SKU != next.SKU) {
		pk, sk := skuKey(next.SKU)
		tx.put("sku", skuRecord{PK: pk, SK: sk, Type: "sku", ItemID: next.ID}, "attribute_not_exists(PK)", nil)
	}
}

func (s *Store) tagChanges(tx *txn, old *inventory.Item, next inventory.Item) {
	var before, after []string
	if old != nil && old.Deleted == nil {
		before = old.Tags
	}
	if next.Deleted == nil {
		after = next.Tags
	}
	for _, t := range before {
		if !slices.Contains(after, t) {
			pk, sk := tagKey(t, next.ID)
			tx.delete("tag", pk, sk, "", nil)
		}
	}
	for _, t := range after {
		if !slices.Contains(before, t) {
			pk, sk := tagKey(t, next.ID)
			tx.put("tag", tagRecord{PK: pk, SK: sk, Type: "tag", ItemID: next.ID, Tag: t}, "", nil)
		}
	}
}

func (s *Store) commit(ctx context.Context, tx *txn, next inventory.Item) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx.items})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return fmt.Errorf("save item %s: %w", next.ID, err)
	}
	failed := map[string]bool{}
	for i, reason := range canceled.CancellationReasons {
		if aws.ToString(reason.Code) == "ConditionalCheckFailed" && i < len(tx.roles) {
			failed[tx.roles[i]] = true
		}
	}
	switch {
	case failed["idem"]:
		return ErrIdempotencyRace
	case failed["sku"]:
		return inventory.Errorf(inventory.CodeSKUConflict, "a live item already has sku %q", next.SKU)
	}
	// A failed version, stock or marker condition, or a conflict with a
	// concurrent transaction: the item changed under us.
	return fmt.Errorf("save item %s: %w (%v)", next.ID, ErrVersionConflict, err)
}

// ListItems lists live items in SKU order.
func (s *Store) ListItems(ctx context.Context, limit int, cursor string) (Page[inventory.Item], error) {
	return s.queryItems(ctx, liveItems, true, limit, cursor)
}

// ListDeletedItems lists deleted items, newest deletion first.
func (s *Store) ListDeletedItems(ctx context.Context, limit int, cursor string) (Page[inventory.Item], error) {
	return s.queryItems(ctx, deletedItems, false, limit, cursor)
}

func (s *Store) queryItems(ctx context.Context, partition string, forward bool, limit int, cursor string) (Page[inventory.Item], error) {
	start, err := decodeCursor(cursor, []string{"PK", "SK", "GSI1PK", "GSI1SK"}, "GSI1PK", partition)
	if err != nil {
		return Page[inventory.Item]{}, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsi1),
		KeyConditionExpression:    aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": str(partition)},
		ScanIndexForward:          aws.Bool(forward),
		Limit:                     aws.Int32(int32(limit)),
		ExclusiveStartKey:         start,
	})
	if err != nil {
		return Page[inventory.Item]{}, fmt.Errorf("list %s: %w", partition, err)
	}
	page := Page[inventory.Item]{Items: make([]inventory.Item, 0, len(out.Items))}
	for _, m := range out.Items {
		r, err := decodeItemRecord(m)
		if err != nil {
			return Page[inventory.Item]{}, fmt.Errorf("decode %s: %w", partition, err)
		}
		page.Items = append(page.Items, r.item())
	}
	page.NextCursor, err = encodeCursor(out.LastEvaluatedKey)
	return page, err
}

// ListHistory lists an item's ledger entries, newest first.
func (s *Store) ListHistory(ctx context.Context, itemID string, limit int, cursor string) (Page[inventory.LedgerEntry], error) {
	pk := itemPrefix + itemID
	start, err := decodeCursor(cursor, []string{"PK", "SK"}, "PK", pk)
	if err != nil {
		return Page[inventory.LedgerEntry]{}, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :p AND begins_with(SK, :l)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": str(pk), ":l": str(ledgerPrefix)},
		ScanIndexForward:  aws.Bool(false),
		Limit:             aws.Int32(int32(limit)),
		ExclusiveStartKey: start,
	})
	if err != nil {
		return Page[inventory.LedgerEntry]{}, fmt.Errorf("list history of %s: %w", itemID, err)
	}
	page := Page[inventory.LedgerEntry]{Items: make([]inventory.LedgerEntry, 0, len(out.Items))}
	for _, m := range out.Items {
		r, err := decodeLedgerRecord(m)
		if err != nil {
			return Page[inventory.LedgerEntry]{}, fmt.Errorf("decode history of %s: %w", itemID, err)
		}
		page.Items = append(page.Items, r.entry())
	}
	page.NextCursor, err = encodeCursor(out.LastEvaluatedKey)
	return page, err
}

// txn collects the actions of one TransactWriteItems and the role of each,
// so a cancellation reason can be traced to the condition that failed.
type txn struct {
	table string
	items []types.TransactWriteItem
	roles []string
	err   error
}

func (t *txn) put(role string, record any, condition string, values map[string]types.AttributeValue) {
	item, err := attributevalue.MarshalMap(record)
	if err != nil {
		t.err = errors.Join(t.err, fmt.Errorf("encode %s: %w", role, err))
		return
	}
	p := &types.Put{TableName: &t.table, Item: item, ExpressionAttributeValues: values}
	if condition != "" {
		p.ConditionExpression = &condition
	}
	t.items = append(t.items, types.TransactWriteItem{Put: p})
	t.roles = append(t.roles, role)
}

func (t *txn) delete(role, pk, sk, condition string, values map[string]types.AttributeValue) {
	d := &types.Delete{TableName: &t.table, Key: stringKey(pk, sk), ExpressionAttributeValues: values}
	if condition != "" {
		d.ConditionExpression = &condition
	}
	t.items = append(t.items, types.TransactWriteItem{Delete: d})
	t.roles = append(t.roles, role)
}

func idempotencyNow() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":now": number(time.Now().Unix())}
}

func stringKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
