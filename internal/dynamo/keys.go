package dynamo

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	facetPrefix    = "F#"
	groupPrefix    = "GROUP#"
	groupNamePfx   = "GROUPNAME#"
	groupSK        = "GROUP"
	groupNameSK    = "GROUPNAME"
	tagSK          = "TAG"
	tagCountSK     = "COUNT"
	liveGroups     = "GROUPS"
	deadGroups     = "GROUPS#DELETED"
	allTags        = "TAGS"
	itemsByName    = "ITEMS#NAME"
	itemsByUpdate  = "ITEMS#UPDATED"
	gsi4           = "GSI4"
	deletedSuffix  = "#DELETED"
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
func tagKey(tag string) key             { return tableKey(tagPrefix+tag, tagSK) }
func tagCountKey(tag string) key        { return tableKey(tagPrefix+tag, tagCountSK) }
func facetKey(itemID, facet string) key { return tableKey(itemPrefix+itemID, facetPrefix+facet) }
func groupKey(id string) key            { return tableKey(groupPrefix+id, groupSK) }
func groupNameKey(name string) key {
	return tableKey(groupNamePfx+inventory.NameKey(name), groupNameSK)
}
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

// indexList is a list read from one partition of an index: its records'
// sort key there is one value of theirs (a SKU, a code), or that value,
// sep and the record's id (the deletion or update time and "#"; the
// NameKey of a name and " "). A position is (that value, the record's id);
// storage turns it into the query's ExclusiveStartKey and the page's
// LastEvaluatedKey back into one.
type indexList struct {
	index     string // "GSI1"
	partition string // e.g. ITEMS#LIVE
	prefix    string // the records' PK prefix, e.g. ITEM#
	sk        string // the records' sort key in the base table
	sep       string // "": the sort key is the value alone
	backward  bool   // newest first (lists by time)
}

// The lists of whole records.
var (
	liveItemsList        = indexList{gsi1, liveItems, itemPrefix, itemSK, "", false}
	deletedItemsList     = indexList{gsi1, deletedItems, itemPrefix, itemSK, "#", true}
	lowStockList         = indexList{gsi3, lowStockItems, itemPrefix, itemSK, "", false}
	itemsByNameList      = indexList{gsi2, itemsByName, itemPrefix, itemSK, " ", false}
	itemsByUpdateList    = indexList{gsi4, itemsByUpdate, itemPrefix, itemSK, "#", true}
	liveLocationsList    = indexList{gsi1, liveLocations, locPrefix, locSK, "", false}
	deletedLocationsList = indexList{gsi1, deadLocations, locPrefix, locSK, "#", true}
	liveGroupsList       = indexList{gsi1, liveGroups, groupPrefix, groupSK, "", false}
	deletedGroupsList    = indexList{gsi1, deadGroups, groupPrefix, groupSK, "#", true}
)

// maxStartValue bounds the sort value of a start key: an index's sort key
// holds at most 1,024 bytes, and a value no record can have (a position
// the server never issued) may be longer. Shortened at a character
// boundary, the start is no later than the position asked for.
const maxStartValue = 900

// startValue is a position's sort value as a start key can hold it.
func startValue(v string) string {
	if len(v) <= maxStartValue {
		return v
	}
	cut := maxStartValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

// levelSort is a level's GSI2 sort key at its location: its item's SKU
// and id, so a location lists its levels in SKU order. A level written
// before levels held their SKU has the item id alone.
func levelSort(l inventory.Level) string {
	if l.SKU == "" {
		return itemPrefix + l.ItemID
	}
	return itemPrefix + l.SKU + "#" + l.ItemID
}

// levelPosition is the position (sku, item id) of a level's GSI2 sort key.
func levelPosition(sort string) inventory.Position {
	rest := strings.TrimPrefix(sort, itemPrefix)
	if i := strings.LastIndex(rest, "#"); i >= 0 {
		return inventory.Position{rest[:i], rest[i+1:]}
	}
	return inventory.Position{rest, rest}
}

// start is the ExclusiveStartKey of a page after p (nil: the first page).
func (l indexList) start(p inventory.Position) key {
	if p == nil || (p[0] == "" && l.sep == "") {
		return nil // before every record: the start
	}
	sort := startValue(p[0])
	if l.sep != "" {
		sort += l.sep + p[1]
	}
	k := tableKey(l.prefix+p[1], l.sk)
	k[l.index+"PK"], k[l.index+"SK"] = str(l.partition), str(sort)
	return k
}

// position is the position of a page's LastEvaluatedKey.
func (l indexList) position(k key) inventory.Position {
	sort := sOf(k, l.index+"SK")
	if l.sep != "" {
		i := strings.LastIndex(sort, l.sep)
		return inventory.Position{sort[:i], sort[i+len(l.sep):]}
	}
	return inventory.Position{sort, strings.TrimPrefix(sOf(k, "PK"), l.prefix)}
}

// queryList reads one page of the list.
func queryList[T any](ctx context.Context, s *Store, l indexList, r inventory.Range, decode func(attrMap) (T, error)) ([]T, inventory.Position, error) {
	return query(ctx, s, &dynamodb.QueryInput{
		IndexName:                 aws.String(l.index),
		KeyConditionExpression:    aws.String(l.index + "PK = :p"),
		ExpressionAttributeValues: attrMap{":p": str(l.partition)},
		ScanIndexForward:          aws.Bool(!l.backward),
		ExclusiveStartKey:         l.start(r.After),
	}, r.Limit, decode, l.position)
}

func sOf(k key, name string) string {
	if s, ok := k[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
