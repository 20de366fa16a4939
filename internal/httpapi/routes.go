package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/inventory"
)

// Role is the least role a caller needs for a route. Roles are ordered:
// viewer < editor < admin. RolePublic routes need no token at all.
type Role string

// The roles.
const (
	RolePublic Role = "public"
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
)

// Route is one API operation: one HTTP route, one Lambda function.
//
// The route table below is the single declaration of the API's operations.
// From it, go generate (internal/dev/gen) writes each function's main
// package, its sample event and its block of template.yaml, with the IAM
// policy its Grants give; tests hold openapi.yaml to it.
type Route struct {
	Function string        // SAM logical id of the function, e.g. "CreateItem"
	Method   string        // HTTP method
	Path     string        // API Gateway route path, e.g. "/items/{id}"
	Role     Role          // least role needed
	Query    []string      // the query parameters it takes; any other is invalid_parameter
	Grants   access.Grants // what the function may do to the table and the bucket
	handle   func(*api, *http.Request) (reply, error)
}

//go:generate go run ../../cmd/depot-gen -root ../..

// RouteKey is the API Gateway route key, e.g. "GET /items/{id}".
func (r Route) RouteKey() string { return r.Method + " " + r.Path }

// Dir is the folder of the function's main package under functions/, and
// the name of its sample event under events/.
func (r Route) Dir() string { return Kebab(r.Function) }

var (
	pageQuery = []string{"limit", "cursor"}
	// Item responses link the item's image with presigned GETs.
	readItem = access.Grants{access.GetItems, access.LinkThumbnails}
	// Item changes rewrite the item, its SKU marker, facet, stock, ledger
	// and activity rows, and the idempotency record, delete released
	// markers and facet rows, and move tag and group counters.
	changeItem = access.Grants{access.GetItems, access.PutItems, access.DeleteItems, access.UpdateItems, access.LinkThumbnails}
	// Stock changes read what they change in one BatchGetItem, and keep
	// their locations' counts of stocked levels (UpdateItem) or check that
	// they are live (ConditionCheckItem).
	changeStock = access.Grants{access.GetItems, access.BatchGetItems, access.PutItems, access.UpdateItems, access.CheckItems}
	// Location changes rewrite the location and its code marker, and
	// delete a released marker.
	changeLocation = access.Grants{access.GetItems, access.PutItems, access.DeleteItems}
	// Lists of items by filter: the filters and orders between them read
	// all four indexes (live items and facets, name order, low stock,
	// update order).
	listItems = access.Grants{access.GetItems, access.QueryGSI1, access.QueryGSI2, access.QueryGSI3, access.QueryGSI4, access.BatchGetItems, access.LinkThumbnails}
	// Group changes rewrite the group and its name marker, and delete a
	// released marker.
	changeGroup = access.Grants{access.GetItems, access.PutItems, access.DeleteItems}
	// Membership changes read the items (one consistent BatchGetItem for a
	// batch), rewrite them with their facet rows and activity, delete
	// facet rows, move the group's counter (UpdateItem) or check it live.
	changeMembers = access.Grants{access.GetItems, access.BatchGetItems, access.PutItems, access.DeleteItems,
		access.UpdateItems}
)

// Routes is the route table.
var Routes = []Route{
	{Function: "Health", Method: "GET", Path: "/health", Role: RolePublic,
		handle: (*api).health},
	{Function: "GetOpenAPI", Method: "GET", Path: "/openapi.yaml", Role: RolePublic,
		handle: (*api).openAPI},
	// A new item has no image: its response links none.
	// A new item has its opening level at a live location: counted there,
	// or (with quantity 0) the location checked.
	{Function: "CreateItem", Method: "POST", Path: "/items", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.UpdateItems, access.CheckItems},
		handle: (*api).createItem},
	// Filters read an index of whole items, or facet rows or levels and
	// then their items (BatchGetItem); a group or a location named is read
	// first.
	{Function: "ListItems", Method: "GET", Path: "/items", Role: RoleViewer,
		Query:  slices.Concat(pageQuery, []string{"lowStock", "q", "tag", "groupId", "locationId", "minQuantity", "maxQuantity", "sort"}),
		Grants: listItems,
		handle: (*api).listItems},
	// The item's groups are read by id (BatchGetItem) for their names.
	{Function: "GetItem", Method: "GET", Path: "/items/{id}", Role: RoleViewer,
		Grants: append(access.Grants{access.BatchGetItems}, readItem...),
		handle: (*api).getItem},
	// A new quantity reads the item's levels, and may empty the one at a
	// location other than the default (its count goes down).
	{Function: "UpdateItem", Method: "PATCH", Path: "/items/{id}", Role: RoleEditor,
		Grants: append(access.Grants{access.QueryTable}, changeItem...),
		handle: (*api).updateItem},
	{Function: "DeleteItem", Method: "DELETE", Path: "/items/{id}", Role: RoleEditor,
		Grants: changeItem,
		handle: (*api).deleteItem},
	{Function: "ListDeletedItems", Method: "GET", Path: "/deleted-items", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1, access.LinkThumbnails},
		handle: (*api).listDeletedItems},
	{Function: "RestoreItem", Method: "POST", Path: "/items/{id}/restore", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.UpdateItems, access.LinkThumbnails},
		handle: (*api).restoreItem},
	{Function: "ListItemHistory", Method: "GET", Path: "/items/{id}/history", Role: RoleViewer, Query: slices.Concat(pageQuery, []string{"locationId"}),
		Grants: access.Grants{access.GetItems, access.QueryTable, access.QueryGSI1},
		handle: (*api).listItemHistory},
	{Function: "ListItemActivity", Method: "GET", Path: "/items/{id}/activity", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.GetItems, access.QueryTable},
		handle: (*api).listItemActivity},
	{Function: "CreateImageUpload", Method: "POST", Path: "/items/{id}/image-uploads", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.SignUploads},
		handle: (*api).createImageUpload},
	{Function: "GetItemStock", Method: "GET", Path: "/items/{id}/stock", Role: RoleViewer, Query: []string{"at"},
		Grants: access.Grants{access.GetItems, access.QueryTable, access.QueryGSI1},
		handle: (*api).getItemStock},

	// Exports: a job saved and sent to ExportItems (docs/exports.md).
	{Function: "RequestExport", Method: "POST", Path: "/exports", Role: RoleViewer,
		Grants: access.Grants{access.GetItems, access.PutItems, access.SendExports},
		handle: (*api).requestExport},
	{Function: "ListExports", Method: "GET", Path: "/exports", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1},
		handle: (*api).listExports},
	{Function: "GetExport", Method: "GET", Path: "/exports/{id}", Role: RoleViewer,
		Grants: access.Grants{access.GetItems, access.LinkExports},
		handle: (*api).getExport},

	// Imports: a job and an upload form; the S3 event of the upload runs
	// ImportItems (docs/csv.md).
	{Function: "RequestImport", Method: "POST", Path: "/imports", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.SignImports},
		handle: (*api).requestImport},
	{Function: "ListImports", Method: "GET", Path: "/imports", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1},
		handle: (*api).listImports},
	{Function: "GetImport", Method: "GET", Path: "/imports/{id}", Role: RoleViewer,
		Grants: access.Grants{access.GetItems, access.ReadImports},
		handle: (*api).getImport},

	{Function: "CreateLocation", Method: "POST", Path: "/locations", Role: RoleAdmin,
		Grants: access.Grants{access.GetItems, access.PutItems},
		handle: (*api).createLocation},
	{Function: "ListLocations", Method: "GET", Path: "/locations", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1},
		handle: (*api).listLocations},
	{Function: "GetLocation", Method: "GET", Path: "/locations/{id}", Role: RoleViewer,
		Grants: access.Grants{access.GetItems},
		handle: (*api).getLocation},
	{Function: "UpdateLocation", Method: "PATCH", Path: "/locations/{id}", Role: RoleAdmin,
		Grants: changeLocation,
		handle: (*api).updateLocation},
	{Function: "DeleteLocation", Method: "DELETE", Path: "/locations/{id}", Role: RoleAdmin,
		Grants: changeLocation,
		handle: (*api).deleteLocation},
	{Function: "RestoreLocation", Method: "POST", Path: "/locations/{id}/restore", Role: RoleAdmin,
		Grants: access.Grants{access.GetItems, access.PutItems},
		handle: (*api).restoreLocation},
	{Function: "ListDeletedLocations", Method: "GET", Path: "/deleted-locations", Role: RoleAdmin, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1},
		handle: (*api).listDeletedLocations},
	// The levels at a location, joined with their items (BatchGetItem).
	{Function: "GetLocationStock", Method: "GET", Path: "/locations/{id}/stock", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.GetItems, access.QueryGSI2, access.BatchGetItems},
		handle: (*api).getLocationStock},
	{Function: "ListLocationHistory", Method: "GET", Path: "/locations/{id}/history", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.GetItems, access.QueryGSI2},
		handle: (*api).listLocationHistory},

	{Function: "CreateGroup", Method: "POST", Path: "/groups", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems},
		handle: (*api).createGroup},
	{Function: "ListGroups", Method: "GET", Path: "/groups", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1},
		handle: (*api).listGroups},
	{Function: "GetGroup", Method: "GET", Path: "/groups/{id}", Role: RoleViewer,
		Grants: access.Grants{access.GetItems},
		handle: (*api).getGroup},
	{Function: "UpdateGroup", Method: "PATCH", Path: "/groups/{id}", Role: RoleEditor,
		Grants: changeGroup,
		handle: (*api).updateGroup},
	{Function: "DeleteGroup", Method: "DELETE", Path: "/groups/{id}", Role: RoleEditor,
		Grants: changeGroup,
		handle: (*api).deleteGroup},
	{Function: "RestoreGroup", Method: "POST", Path: "/groups/{id}/restore", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems},
		handle: (*api).restoreGroup},
	{Function: "ListDeletedGroups", Method: "GET", Path: "/deleted-groups", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1},
		handle: (*api).listDeletedGroups},
	// One item's membership is its read-modify-write (GetItem).
	{Function: "AddGroupMember", Method: "PUT", Path: "/groups/{id}/items/{itemId}", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.UpdateItems},
		handle: (*api).addGroupMember},
	{Function: "RemoveGroupMember", Method: "DELETE", Path: "/groups/{id}/items/{itemId}", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.PutItems, access.DeleteItems, access.UpdateItems},
		handle: (*api).removeGroupMember},
	{Function: "ChangeGroupMembers", Method: "POST", Path: "/groups/{id}/items", Role: RoleEditor,
		Grants: changeMembers,
		handle: (*api).changeGroupMembers},
	{Function: "ListGroupItems", Method: "GET", Path: "/groups/{id}/items", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.GetItems, access.QueryGSI1, access.BatchGetItems, access.LinkThumbnails},
		handle: (*api).listGroupItems},
	// The list of tags (GSI1), then their counters (BatchGetItem).
	{Function: "ListTags", Method: "GET", Path: "/tags", Role: RoleViewer, Query: pageQuery,
		Grants: access.Grants{access.QueryGSI1, access.BatchGetItems},
		handle: (*api).listTags},

	{Function: "CreateAdjustment", Method: "POST", Path: "/adjustments", Role: RoleEditor,
		Grants: changeStock,
		handle: (*api).createAdjustment},
	{Function: "CreateCount", Method: "POST", Path: "/counts", Role: RoleEditor,
		Grants: changeStock,
		handle: (*api).createCount},
	// A transfer checks its item's version (ConditionCheckItem) rather
	// than rewriting it.
	{Function: "CreateTransfer", Method: "POST", Path: "/transfers", Role: RoleEditor,
		Grants: changeStock,
		handle: (*api).createTransfer},

	// Shipments (docs/shipments.md): GET reads a shipment's partition with
	// one Query, a change its records by key (BatchGetItem); creating one
	// reads its items and locations.
	{Function: "CreateShipment", Method: "POST", Path: "/shipments", Role: RoleEditor,
		Grants: access.Grants{access.GetItems, access.BatchGetItems, access.PutItems},
		handle: (*api).createShipment},
	{Function: "ListShipments", Method: "GET", Path: "/shipments", Role: RoleViewer,
		Query:  slices.Concat(pageQuery, []string{"status", "originLocationId"}),
		Grants: access.Grants{access.QueryGSI1, access.QueryGSI2, access.QueryGSI4},
		handle: (*api).listShipments},
	{Function: "GetShipment", Method: "GET", Path: "/shipments/{id}", Role: RoleViewer,
		Grants: access.Grants{access.QueryTable},
		handle: (*api).getShipment},
	// The header on its version, with the check that no transition is in
	// progress (ConditionCheckItem).
	{Function: "ReplaceShipmentLines", Method: "PUT", Path: "/shipments/{id}/lines", Role: RoleEditor,
		Grants: access.Grants{access.BatchGetItems, access.PutItems, access.CheckItems},
		handle: (*api).replaceShipmentLines},
	// Transitions: the transition record (put, deleted at the end), its
	// steps (levels, ledger lines, items, the step's marker and the check
	// of the record), the header. A ship moves levels in and out of being
	// stocked (UpdateItem of the locations' counts).
	{Function: "ReadyShipment", Method: "POST", Path: "/shipments/{id}/ready", Role: RoleEditor,
		Grants: shipmentTransition,
		handle: transition(inventory.ActionReady)},
	{Function: "ShipShipment", Method: "POST", Path: "/shipments/{id}/ship", Role: RoleEditor,
		Grants: append(access.Grants{access.UpdateItems}, shipmentTransition...),
		handle: transition(inventory.ActionShip)},
	{Function: "ReceiveShipment", Method: "POST", Path: "/shipments/{id}/receive", Role: RoleEditor,
		Grants: shipmentTransition,
		handle: transition(inventory.ActionReceive)},
	// A draft's cancel is one write of the header; a ready's releases its
	// commitments in steps.
	{Function: "CancelShipment", Method: "POST", Path: "/shipments/{id}/cancel", Role: RoleEditor,
		Grants: shipmentTransition,
		handle: transition(inventory.ActionCancel)},
}

// shipmentTransition is what every shipment transition may do.
var shipmentTransition = access.Grants{access.GetItems, access.BatchGetItems, access.PutItems, access.CheckItems,
	access.DeleteItems}

// RouteFor returns the route served by the named function.
func RouteFor(function string) (Route, bool) {
	for _, r := range Routes {
		if r.Function == function {
			return r, true
		}
	}
	return Route{}, false
}

// Kebab turns a function's logical id into its folder name:
// "CreateImageUpload" is "create-image-upload", "GetOpenAPI" "get-open-api".
func Kebab(s string) string {
	var b strings.Builder
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			if i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}
