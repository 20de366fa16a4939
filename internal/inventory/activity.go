package inventory

import (
	"encoding/json"
	"time"
)

// Activity types: every change to an item is one or more activity entries,
// written in the same transaction as the change.
const (
	ActivityCreated      = "created"
	ActivityUpdated      = "updated"
	ActivityDeleted      = "deleted"
	ActivityRestored     = "restored"
	ActivityImageReady   = "image_ready"
	ActivityImageFailed  = "image_failed"
	ActivityStockChanged = "stock_changed"
)

// ActivityTypes are the activity types, in the order the API documents them.
var ActivityTypes = []string{ActivityCreated, ActivityUpdated, ActivityDeleted, ActivityRestored,
	ActivityImageReady, ActivityImageFailed, ActivityStockChanged}

// Activity is one entry of an item's activity trail: who changed it, when,
// what and why. Which of the optional fields are set depends on Type.
type Activity struct {
	ID     string
	ItemID string
	Type   string
	Actor  string
	At     time.Time

	Changes []FieldChange // updated: the fields that changed
	Comment string        // deleted: why

	// stock_changed: the ledger line and what it did.
	LocationID  string
	Delta       int64
	OnHandAfter int64
	Reason      string
	Reference   string
	Note        string
	LedgerID    string

	// image_ready, image_failed; updated when an upload is asked for.
	UploadID    string
	ImageReason string // image_failed: why the file was refused
}

// FieldChange is one field an update changed, with its JSON values before
// and after (null where absent).
type FieldChange struct {
	Field string
	From  json.RawMessage
	To    json.RawMessage
}

// StockActivity is the stock_changed entry of an item's activity that a
// ledger line is: every change of stock writes its ledger lines in its
// transaction, and the activity trail lists them with the item's other
// changes, so no second record repeats them.
func StockActivity(e LedgerEntry) Activity {
	return Activity{ID: e.ID, ItemID: e.ItemID, Type: ActivityStockChanged, Actor: e.Actor, At: e.At,
		LocationID: e.LocationID, Delta: e.Delta, OnHandAfter: e.OnHandAfter, Reason: e.Reason,
		Reference: e.Reference, Note: e.Note, LedgerID: e.ID}
}

func newActivity(itemID, typ, actor string, at time.Time) Activity {
	return Activity{ID: NewID(at), ItemID: itemID, Type: typ, Actor: actor, At: at}
}
