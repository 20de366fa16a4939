package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/depot-inventory/depot/internal/inventory"
)

// GetGroup reads a group, live or deleted, strongly consistently.
func (s *Store) GetGroup(ctx context.Context, id string) (inventory.Group, error) {
	return getRecord(ctx, s, groupKey(id), "group "+id, decodeGroup, func() error {
		return inventory.Errorf(inventory.KindNotFound, inventory.CodeGroupNotFound, "no group with id %s", id)
	})
}

// GetGroups reads groups by id with eventually consistent BatchGetItems.
func (s *Store) GetGroups(ctx context.Context, ids []string) (map[string]inventory.Group, error) {
	var ks []key
	for _, id := range ids {
		ks = append(ks, groupKey(id))
	}
	records, err := s.batchGet(ctx, ks, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]inventory.Group, len(records))
	for _, m := range records {
		g, err := decodeGroup(m)
		if err != nil {
			return nil, err
		}
		out[g.ID] = g
	}
	return out, nil
}

// SaveGroup writes a group with its name marker, in one transaction with
// the idempotency record. The group is written on the condition that it is
// still the one read: its version, and its member count, which membership
// changes keep with ADD and without a new version.
func (s *Store) SaveGroup(ctx context.Context, c inventory.GroupChange) error {
	tx := &txn{table: s.table}
	putIdempotency(tx, c.Idempotency)
	if c.Old == nil {
		tx.put("groupRecord", encodeGroup(c.Next), "attribute_not_exists(PK)", nil)
	} else {
		tx.put("groupRecord", encodeGroup(c.Next), "version = :v AND memberCount = :n",
			attrMap{":v": num(c.Old.Version), ":n": num(c.Old.MemberCount)})
	}
	uniqueMarker(tx, "name", "groupName", "groupId", c.Next.ID, c.Old != nil && c.Old.Deleted == nil, c.Next.Deleted == nil,
		func() key { return groupNameKey(c.Old.Name) }, groupNameKey(c.Next.Name),
		c.Old != nil && inventory.NameKey(c.Old.Name) != inventory.NameKey(c.Next.Name))
	return s.commit(ctx, tx, "save group "+c.Next.ID, func(failed map[string]bool) error {
		if failed["name"] {
			return inventory.Errorf(inventory.KindConflict, inventory.CodeGroupNameConflict,
				"a live group already has the name %q (names are compared without regard to case, accents, spacing or punctuation)", c.Next.Name)
		}
		return nil
	})
}

// ListGroups lists live groups in name order.
func (s *Store) ListGroups(ctx context.Context, r inventory.Range) ([]inventory.Group, inventory.Position, error) {
	return queryList(ctx, s, liveGroupsList, r, decodeGroup)
}

// ListDeletedGroups lists deleted groups, newest deletion first.
func (s *Store) ListDeletedGroups(ctx context.Context, r inventory.Range) ([]inventory.Group, inventory.Position, error) {
	return queryList(ctx, s, deletedGroupsList, r, decodeGroup)
}

// ListTags lists the tags of live items with their counts, in tag order:
// a page of the list of tags (GSI1), then their counters (BatchGetItem).
// Tags no live item has any more (a count of 0) are read and left out,
// reading on within the list budget (inventory.ListBudgetReads).
func (s *Store) ListTags(ctx context.Context, r inventory.Range) ([]inventory.TagCount, inventory.Position, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsi1),
		KeyConditionExpression:    aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: attrMap{":p": str(allTags)},
	}
	if r.After != nil {
		in.ExclusiveStartKey = tagKey(r.After[0])
		in.ExclusiveStartKey["GSI1PK"], in.ExclusiveStartKey["GSI1SK"] = str(allTags), str(r.After[0])
	}
	var out []inventory.TagCount
	var last string
	for reads := 0; reads < inventory.ListBudgetReads; reads++ {
		in.Limit = aws.Int32(int32(r.Limit - len(out)))
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, nil, classify(fmt.Errorf("query tags: %w", err))
		}
		var keys []key
		for _, m := range res.Items {
			last = sOf(m, "tag")
			keys = append(keys, tagCountKey(last))
		}
		counts, err := s.batchGet(ctx, keys, false)
		if err != nil {
			return nil, nil, err
		}
		byTag := map[string]int64{}
		for _, m := range counts {
			t, err := decodeTagCount(m)
			if err != nil {
				return nil, nil, err
			}
			byTag[t.Tag] = t.Count
		}
		for _, m := range res.Items {
			if t := sOf(m, "tag"); byTag[t] > 0 {
				out = append(out, inventory.TagCount{Tag: t, Count: byTag[t]})
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
		if len(out) == r.Limit {
			break
		}
	}
	return out, inventory.Position{last}, nil
}

// ListItemSource reads up to r.Limit entries of a source after r.After
// and returns the live items among them in the source's order, with the
// position of the last entry read. Indexes of whole items (every live
// item by SKU, name or update; low stock) are read directly; facet rows
// and levels are read, then their items with one BatchGetItem.
func (s *Store) ListItemSource(ctx context.Context, src inventory.ItemSource, r inventory.Range) ([]inventory.Item, inventory.Position, error) {
	switch {
	case src.LocationID != "":
		return s.joinItems(ctx, r.Limit, []*dynamodb.QueryInput{locationLevelsQuery(src.LocationID, r.After)},
			func(m attrMap) inventory.Position { return levelPosition(sOf(m, "GSI2SK")) })
	case len(src.Facets) > 0:
		var queries []*dynamodb.QueryInput
		for _, f := range src.Facets {
			queries = append(queries, facetQuery(f, r.After))
		}
		return s.joinItems(ctx, r.Limit, queries,
			func(m attrMap) inventory.Position { return inventory.Position{sOf(m, "GSI1SK"), sOf(m, "itemId")} })
	}
	l := map[string]indexList{inventory.SortName: itemsByNameList, inventory.SortUpdated: itemsByUpdateList}[src.Sort]
	switch {
	case src.LowStock:
		l = lowStockList
	case l.index == "":
		l = liveItemsList
	}
	items, next, err := queryList(ctx, s, l, r, decodeItem)
	return slices.DeleteFunc(items, func(it inventory.Item) bool { return it.Deleted != nil }), next, err
}

// facetQuery reads a facet's rows in SKU order after a position (sku, id).
func facetQuery(facet string, after inventory.Position) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(gsi1),
		KeyConditionExpression:    aws.String("GSI1PK = :p"),
		ExpressionAttributeValues: attrMap{":p": str(facetPrefix + facet)},
	}
	if after != nil && after[0] != "" {
		in.ExclusiveStartKey = facetKey(after[1], facet)
		in.ExclusiveStartKey["GSI1PK"], in.ExclusiveStartKey["GSI1SK"] = str(facetPrefix+facet), str(startValue(after[0]))
	}
	return in
}

// joinItems reads up to limit rows from the queries (each in (sku, id)
// order; entry is a row's position), merged in that order, and then their
// items with one BatchGetItem. A query with more to read bounds what the
// merge may take: nothing after its last row read. The position is that
// of the last row taken, unless every query is done.
func (s *Store) joinItems(ctx context.Context, limit int, queries []*dynamodb.QueryInput,
	entry func(attrMap) inventory.Position) ([]inventory.Item, inventory.Position, error) {
	less := func(a, b inventory.Position) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	}
	var rows []inventory.Position
	var bound inventory.Position // the least last row of a query with more
	for _, in := range queries {
		in.TableName = &s.table
		in.Limit = aws.Int32(int32(limit))
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, nil, classify(fmt.Errorf("query %s: %w", sOf(in.ExpressionAttributeValues, ":p"), err))
		}
		for _, m := range res.Items {
			rows = append(rows, entry(m))
		}
		if len(res.LastEvaluatedKey) > 0 && len(res.Items) > 0 {
			if last := entry(res.Items[len(res.Items)-1]); bound == nil || less(last, bound) < 0 {
				bound = last
			}
		}
	}
	slices.SortFunc(rows, less)
	rows = slices.CompactFunc(rows, func(a, b inventory.Position) bool { return less(a, b) == 0 })
	more := bound != nil
	if more {
		n, _ := slices.BinarySearchFunc(rows, bound, less)
		rows = rows[:min(n+1, len(rows))]
	}
	if len(rows) > limit {
		rows, more = rows[:limit], true
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r[1]
	}
	found, err := s.GetItems(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	items := make([]inventory.Item, 0, len(rows))
	for _, id := range ids {
		if it, ok := found[id]; ok && it.Deleted == nil {
			items = append(items, it)
		}
	}
	if !more || len(rows) == 0 {
		return items, nil, nil
	}
	return items, rows[len(rows)-1], nil
}
