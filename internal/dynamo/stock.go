package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// maxBatchKeys is BatchGetItem's limit of keys per call.
const maxBatchKeys = 100

// ReadStock reads the items, levels and locations a stock change needs in
// one strongly consistent BatchGetItem (a stock change names at most 90
// records).
func (s *Store) ReadStock(ctx context.Context, keys inventory.StockKeys) (inventory.StockState, error) {
	var ks []key
	for _, id := range keys.Items {
		ks = append(ks, itemKey(id))
	}
	for _, l := range keys.Levels {
		ks = append(ks, stockKey(l.ItemID, l.LocationID))
	}
	for _, id := range keys.Locations {
		ks = append(ks, locationKey(id))
	}
	st := inventory.StockState{Items: map[string]inventory.Item{}, Levels: map[inventory.LevelKey]inventory.Level{},
		Locations: map[string]inventory.Location{}}
	records, err := s.batchGet(ctx, ks, true)
	if err != nil {
		return st, err
	}
	for _, m := range records {
		pk, sk := sOf(m, "PK"), sOf(m, "SK")
		switch {
		case sk == itemSK:
			it, err := decodeItem(m)
			if err != nil {
				return st, err
			}
			st.Items[it.ID] = it
		case strings.HasPrefix(sk, stockPrefix):
			l, err := decodeLevel(m)
			if err != nil {
				return st, err
			}
			st.Levels[inventory.LevelKey{ItemID: l.ItemID, LocationID: l.LocationID}] = l
		case sk == locSK:
			loc, err := decodeLocation(m)
			if err != nil {
				return st, err
			}
			st.Locations[loc.ID] = loc
		default:
			return st, fmt.Errorf("read stock: unexpected record %s/%s", pk, sk)
		}
	}
	return st, nil
}

// GetItems reads items by id with eventually consistent BatchGetItems.
func (s *Store) GetItems(ctx context.Context, ids []string) (map[string]inventory.Item, error) {
	var ks []key
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			ks = append(ks, itemKey(id))
		}
	}
	records, err := s.batchGet(ctx, ks, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]inventory.Item, len(records))
	for _, m := range records {
		it, err := decodeItem(m)
		if err != nil {
			return nil, err
		}
		out[it.ID] = it
	}
	return out, nil
}

// batchGet reads records by key, maxBatchKeys per call, retrying the keys
// DynamoDB leaves unprocessed (under throttling) with backoff.
func (s *Store) batchGet(ctx context.Context, keys []key, consistent bool) ([]attrMap, error) {
	var out []attrMap
	for chunk := range slices.Chunk(keys, maxBatchKeys) {
		request := map[string]types.KeysAndAttributes{s.table: {Keys: chunk, ConsistentRead: aws.Bool(consistent)}}
		for attempt := 0; len(request) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 5 {
					return nil, inventory.Unavailable(errors.New("batch get: keys still unprocessed after 5 retries"))
				}
				t := time.NewTimer(time.Duration(10<<attempt) * time.Millisecond)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, classify(ctx.Err())
				case <-t.C:
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
			if err != nil {
				return nil, classify(fmt.Errorf("batch get: %w", err))
			}
			out = append(out, res.Responses[s.table]...)
			request = res.UnprocessedKeys
		}
	}
	return out, nil
}

// SaveStock writes a change of stock in one transaction: the items whose
// totals change (each on its version), the levels with their ledger lines
// and the guards of their locations, and the idempotency record.
func (s *Store) SaveStock(ctx context.Context, c inventory.StockChange) error {
	return s.commit(ctx, stockTxn(s.table, c), "save stock change", nil)
}

// stockTxn is the transaction of SaveStock.
func stockTxn(table string, c inventory.StockChange) *txn {
	tx := &txn{table: table}
	putIdempotency(tx, c.Idempotency)
	for _, r := range c.Items {
		tx.put("item", encodeItem(r.Next), "version = :v", attrMap{":v": num(r.Old.Version)})
	}
	for _, it := range c.Checked {
		tx.check("item", itemKey(it.ID), "version = :v", attrMap{":v": num(it.Version)})
	}
	writeLevels(tx, c.Levels, c.Ledger)
	return tx
}

// ListLevels reads every level of an item, strongly consistently.
func (s *Store) ListLevels(ctx context.Context, itemID string) ([]inventory.Level, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("PK = :p AND begins_with(SK, :s)"),
		ExpressionAttributeValues: attrMap{":p": str(itemPrefix + itemID), ":s": str(stockPrefix)},
		ConsistentRead:            aws.Bool(true),
	}
	var out []inventory.Level
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, classify(fmt.Errorf("query levels of %s: %w", itemID, err))
		}
		for _, m := range res.Items {
			l, err := decodeLevel(m)
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// ListLocationLevels lists the levels at a location, in the SKU order of
// their items.
func (s *Store) ListLocationLevels(ctx context.Context, locationID string, r inventory.Range) ([]inventory.Level, inventory.Position, error) {
	return query(ctx, s, locationLevelsQuery(locationID, r.After), r.Limit, decodeLevel, func(k key) inventory.Position {
		return levelPosition(sOf(k, "GSI2SK"))
	})
}

// locationLevelsQuery reads a location's levels in SKU order after a
// position (sku, item id).
func locationLevelsQuery(locationID string, after inventory.Position) *dynamodb.QueryInput {
	var start key
	if after != nil {
		start = stockKey(after[1], locationID)
		start["GSI2PK"] = str(locPrefix + locationID)
		start["GSI2SK"] = str(levelSort(inventory.Level{ItemID: after[1], SKU: startValue(after[0])}))
	}
	return &dynamodb.QueryInput{
		IndexName:                 aws.String(gsi2),
		KeyConditionExpression:    aws.String("GSI2PK = :p AND begins_with(GSI2SK, :s)"),
		ExpressionAttributeValues: attrMap{":p": str(locPrefix + locationID), ":s": str(itemPrefix)},
		ExclusiveStartKey:         start,
	}
}

// ListLevelLedger lists one level's ledger lines, newest first (GSI1).
func (s *Store) ListLevelLedger(ctx context.Context, itemID, locationID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
	var start key
	if r.After != nil {
		start = ledgerKey(itemID, r.After[0])
		start["GSI1PK"], start["GSI1SK"] = str(levelLedger(itemID, locationID)), str(r.After[0])
	}
	return query(ctx, s, &dynamodb.QueryInput{
		IndexName:                 aws.String(gsi1),
		KeyConditionExpression:    aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: attrMap{":p": str(levelLedger(itemID, locationID))},
		ScanIndexForward:          aws.Bool(false),
		ExclusiveStartKey:         start,
	}, r.Limit, decodeLedger, func(k key) inventory.Position {
		return inventory.Position{sOf(k, "GSI1SK")}
	})
}

// ListLocationLedger lists every item's ledger lines at a location, newest
// first (GSI2).
func (s *Store) ListLocationLedger(ctx context.Context, locationID string, r inventory.Range) ([]inventory.LedgerEntry, inventory.Position, error) {
	var start key
	if r.After != nil {
		start = ledgerKey(r.After[1], r.After[0])
		start["GSI2PK"], start["GSI2SK"] = str(locPrefix+locationID), str(ledgerPrefix+r.After[0])
	}
	return query(ctx, s, &dynamodb.QueryInput{
		IndexName:                 aws.String(gsi2),
		KeyConditionExpression:    aws.String("GSI2PK = :p AND begins_with(GSI2SK, :s)"),
		ExpressionAttributeValues: attrMap{":p": str(locPrefix + locationID), ":s": str(ledgerPrefix)},
		ScanIndexForward:          aws.Bool(false),
		ExclusiveStartKey:         start,
	}, r.Limit, decodeLedger, func(k key) inventory.Position {
		return inventory.Position{strings.TrimPrefix(sOf(k, "GSI2SK"), ledgerPrefix), strings.TrimPrefix(sOf(k, "PK"), itemPrefix)}
	})
}

// LastLedgerEntry returns a level's newest ledger line with an id at most
// bound: one Query of GSI1 that reads one line, however long the history.
func (s *Store) LastLedgerEntry(ctx context.Context, itemID, locationID, bound string) (*inventory.LedgerEntry, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsi1),
		KeyConditionExpression:    aws.String("GSI1PK = :p AND GSI1SK <= :b"),
		ExpressionAttributeValues: attrMap{":p": str(levelLedger(itemID, locationID)), ":b": str(bound)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return nil, classify(fmt.Errorf("query the ledger of %s at %s: %w", itemID, locationID, err))
	}
	if len(out.Items) == 0 {
		return nil, nil
	}
	e, err := decodeLedger(out.Items[0])
	return &e, err
}
