package itest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

// TestFindItemBySKU: storage finds the live item with a SKU through its
// marker, on each engine: by its new SKU only once the SKU changes, not at
// all while it is deleted, and again once restored; a marker naming no
// live item with that SKU (a race with a delete or a SKU change) finds
// nothing.
func TestFindItemBySKU(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := lambdafn.NewDynamoClient(cfg)
	store := dynamo.New(db, e.stack.Settings.TableName)
	id := e.createItem(`{"sku":"FIND-1","name":"Findable","quantity":2,"tags":["t"]}`)["id"].(string)
	other := e.createItem(`{"sku":"FIND-2","name":"Other"}`)["id"].(string)

	found := func(sku, id string, version int64) {
		t.Helper()
		it, err := store.FindItemBySKU(ctx, sku)
		if err != nil || it.ID != id || it.SKU != sku || it.Version != version || it.Deleted != nil {
			t.Fatalf("find %q: %+v, %v; want item %s at version %d", sku, it, err, id, version)
		}
	}
	notFound := func(sku string) {
		t.Helper()
		it, err := store.FindItemBySKU(ctx, sku)
		if inventory.KindOf(err) != inventory.KindNotFound || inventory.CodeOf(err) != inventory.CodeItemNotFound {
			t.Fatalf("find %.20q: %+v, %v; want item_not_found", sku, it, err)
		}
	}

	found("FIND-1", id, 1)
	found("FIND-2", other, 1)
	if it, _ := store.FindItemBySKU(ctx, "FIND-1"); it.Name != "Findable" || it.Quantity != 2 || len(it.Tags) != 1 {
		t.Errorf("found %+v", it)
	}
	notFound("FIND-3")
	notFound("find-1")                  // SKUs are case-sensitive
	notFound("")                        // no SKU at all
	notFound(strings.Repeat("F", 3000)) // not a SKU: longer than a key holds
	notFound("FIND 1")                  // not a SKU either

	e.must(http.StatusOK, req{Method: "PATCH", Path: "/items/" + id, Body: `{"sku":"FIND-1B"}`})
	notFound("FIND-1")
	found("FIND-1B", id, 2)

	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id})
	notFound("FIND-1B")
	e.must(http.StatusOK, req{Method: "POST", Path: "/items/" + id + "/restore"})
	found("FIND-1B", id, 4)
	e.must(http.StatusOK, req{Method: "DELETE", Path: "/items/" + id})
	notFound("FIND-1B")

	// Markers as a reader can see them while a transaction commits: the
	// item read after the marker is deleted, has another SKU, or is gone.
	marker := func(sku, itemID string) {
		t.Helper()
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(e.stack.Settings.TableName), Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "SKU#" + sku}, "SK": &types.AttributeValueMemberS{Value: "SKU"},
			"type": &types.AttributeValueMemberS{Value: "sku"}, "itemId": &types.AttributeValueMemberS{Value: itemID}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	marker("FIND-1B", id)
	notFound("FIND-1B")
	marker("FIND-4", other)
	notFound("FIND-4")
	marker("FIND-5", inventory.NewID(time.Now()))
	notFound("FIND-5")
	found("FIND-2", other, 1)
}
