package dynamo

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// Key prefixes and fixed partitions of the single table; docs/data-model.md
// explains each.
const (
	itemPrefix     = "ITEM#"
	skuPrefix      = "SKU#"
	tagPrefix      = "TAG#"
	stockPrefix    = "STOCK#"
	ledgerPrefix   = "LEDGER#"
	activityPrefix = "ACT#"
	locPrefix      = "LOC#"
	locCodePrefix  = "LOCCODE#"
	idemPrefix     = "IDEM#"
	itemSK         = "ITEM"
	skuSK          = "SKU"
	locSK          = "LOC"
	locCodeSK      = "LOCCODE"
	idemSK         = "IDEM"
	liveItems      = "ITEMS#LIVE"
	deletedItems   = "ITEMS#DELETED"
	lowStockItems  = "LOWSTOCK"
	liveLocations  = "LOCATIONS"
	deadLocations  = "LOCATIONS#DELETED"
	gsi1           = "GSI1"
	gsi2           = "GSI2"
	gsi3           = "GSI3"
)

type key = map[string]types.AttributeValue

func tableKey(pk, sk string) key { return key{"PK": str(pk), "SK": str(sk)} }

func itemKey(id string) key             { return tableKey(itemPrefix+id, itemSK) }
func skuKey(sku string) key             { return tableKey(skuPrefix+sku, skuSK) }
func tagKey(tag, itemID string) key     { return tableKey(tagPrefix+tag, itemPrefix+itemID) }
func stockKey(itemID, loc string) key   { return tableKey(itemPrefix+itemID, stockPrefix+loc) }
func ledgerKey(itemID, id string) key   { return tableKey(itemPrefix+itemID, ledgerPrefix+id) }
func activityKey(itemID, id string) key { return tableKey(itemPrefix+itemID, activityPrefix+id) }
func idemKey(scope string) key          { return tableKey(idemPrefix+scope, idemSK) }
func locationKey(id string) key         { return tableKey(locPrefix+id, locSK) }
func locCodeKey(code string) key        { return tableKey(locCodePrefix+code, locCodeSK) }

// levelLedger is the GSI1 partition of one level's ledger lines.
func levelLedger(itemID, loc string) string { return ledgerPrefix + itemID + "#" + loc }

// deletedSort is an item's GSI1 sort key in the deleted list: newest
// deletion last, so the list reads backward.
func deletedSort(at time.Time, id string) string { return formatTime(at) + "#" + id }

func formatTime(t time.Time) string { return t.UTC().Format(inventory.TimeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// The positions of the lists in the keys of their queries.

func itemsStart(p inventory.Position) key {
	if p == nil {
		return nil
	}
	k := itemKey(p[1])
	k["GSI1PK"], k["GSI1SK"] = str(liveItems), str(p[0])
	return k
}

func itemsPosition(k key) inventory.Position {
	return inventory.Position{sOf(k, "GSI1SK"), strings.TrimPrefix(sOf(k, "PK"), itemPrefix)}
}

func deletedStart(p inventory.Position) key {
	if p == nil {
		return nil
	}
	k := itemKey(p[1])
	k["GSI1PK"], k["GSI1SK"] = str(deletedItems), str(p[0]+"#"+p[1])
	return k
}

func deletedPosition(k key) inventory.Position {
	at, id, _ := strings.Cut(sOf(k, "GSI1SK"), "#")
	return inventory.Position{at, id}
}

func lowStockStart(p inventory.Position) key {
	if p == nil {
		return nil
	}
	k := itemKey(p[1])
	k["GSI3PK"], k["GSI3SK"] = str(lowStockItems), str(p[0])
	return k
}

func lowStockPosition(k key) inventory.Position {
	return inventory.Position{sOf(k, "GSI3SK"), strings.TrimPrefix(sOf(k, "PK"), itemPrefix)}
}

func locationsStart(p inventory.Position) key {
	if p == nil {
		return nil
	}
	k := locationKey(p[1])
	k["GSI1PK"], k["GSI1SK"] = str(liveLocations), str(p[0])
	return k
}

func locationsPosition(k key) inventory.Position {
	return inventory.Position{sOf(k, "GSI1SK"), strings.TrimPrefix(sOf(k, "PK"), locPrefix)}
}

func deletedLocationsStart(p inventory.Position) key {
	if p == nil {
		return nil
	}
	k := locationKey(p[1])
	k["GSI1PK"], k["GSI1SK"] = str(deadLocations), str(p[0]+"#"+p[1])
	return k
}

func sOf(k key, name string) string {
	if s, ok := k[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
