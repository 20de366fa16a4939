package httpapi

import (
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// The JSON representations of locations, stock levels and stock changes.

type locationJSON struct {
	ID        string        `json:"id"`
	Code      string        `json:"code"`
	Name      string        `json:"name"`
	Address   *string       `json:"address"`
	CreatedAt string        `json:"createdAt"`
	CreatedBy string        `json:"createdBy"`
	UpdatedAt string        `json:"updatedAt"`
	UpdatedBy string        `json:"updatedBy"`
	Version   int64         `json:"version"`
	Deleted   *deletionJSON `json:"deleted,omitempty"`
}

type locationPageJSON struct {
	Locations  []locationJSON `json:"locations"`
	NextCursor *string        `json:"nextCursor"`
}

type levelJSON struct {
	ItemID     string `json:"itemId"`
	LocationID string `json:"locationId"`
	OnHand     int64  `json:"onHand"`
	Committed  int64  `json:"committed"`
	Available  int64  `json:"available"`
	Incoming   int64  `json:"incoming"`
	UpdatedAt  string `json:"updatedAt"`
}

type locationLevelJSON struct {
	levelJSON
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	ItemDeleted bool   `json:"itemDeleted"`
}

type totalsJSON struct {
	OnHand    int64 `json:"onHand"`
	Committed int64 `json:"committed"`
	Available int64 `json:"available"`
	Incoming  int64 `json:"incoming"`
}

type itemStockJSON struct {
	Levels []levelJSON `json:"levels"`
	Totals totalsJSON  `json:"totals"`
}

type locationStockJSON struct {
	Levels     []locationLevelJSON `json:"levels"`
	NextCursor *string             `json:"nextCursor"`
}

type adjustmentJSON struct {
	ID        string             `json:"id"`
	Reason    string             `json:"reason"`
	Note      *string            `json:"note"`
	Reference *string            `json:"reference"`
	Actor     string             `json:"actor"`
	At        string             `json:"at"`
	Lines     []adjustedLineJSON `json:"lines"`
}

type adjustedLineJSON struct {
	ItemID      string `json:"itemId"`
	LocationID  string `json:"locationId"`
	Delta       int64  `json:"delta"`
	OnHandAfter int64  `json:"onHandAfter"`
}

type countJSON struct {
	ID          string `json:"id"`
	ItemID      string `json:"itemId"`
	LocationID  string `json:"locationId"`
	Counted     int64  `json:"counted"`
	Expected    *int64 `json:"expected"`
	Delta       int64  `json:"delta"`
	OnHandAfter int64  `json:"onHandAfter"`
	Actor       string `json:"actor"`
	At          string `json:"at"`
}

type transferJSON struct {
	ID             string          `json:"id"`
	ItemID         string          `json:"itemId"`
	FromLocationID string          `json:"fromLocationId"`
	ToLocationID   string          `json:"toLocationId"`
	Quantity       int64           `json:"quantity"`
	Note           *string         `json:"note"`
	From           onHandAfterJSON `json:"from"`
	To             onHandAfterJSON `json:"to"`
	Actor          string          `json:"actor"`
	At             string          `json:"at"`
}

type onHandAfterJSON struct {
	OnHandAfter int64 `json:"onHandAfter"`
}

func locationView(l inventory.Location) locationJSON {
	j := locationJSON{ID: l.ID, Code: l.Code, Name: l.Name, Address: nullable(l.Address),
		CreatedAt: jsonTime(l.CreatedAt), CreatedBy: l.CreatedBy, UpdatedAt: jsonTime(l.UpdatedAt),
		UpdatedBy: l.UpdatedBy, Version: l.Version}
	if d := l.Deleted; d != nil {
		j.Deleted = &deletionJSON{At: jsonTime(d.At), By: d.By, Comment: d.Comment}
	}
	return j
}

func levelView(l inventory.Level) levelJSON {
	return levelJSON{ItemID: l.ItemID, LocationID: l.LocationID, OnHand: l.OnHand, Committed: l.Committed,
		Available: l.Available(), Incoming: l.Incoming, UpdatedAt: jsonTime(l.UpdatedAt)}
}

func itemStockView(s usecase.ItemStock) itemStockJSON {
	j := itemStockJSON{Levels: make([]levelJSON, 0, len(s.Levels)), Totals: totalsJSON{
		OnHand: s.Totals.OnHand, Committed: s.Totals.Committed, Available: s.Totals.Available(), Incoming: s.Totals.Incoming}}
	for _, l := range s.Levels {
		j.Levels = append(j.Levels, levelView(l))
	}
	return j
}

func locationLevelView(l usecase.LocationLevel) locationLevelJSON {
	return locationLevelJSON{levelJSON: levelView(l.Level), SKU: l.SKU, Name: l.Name, ItemDeleted: l.ItemDeleted}
}

func adjustmentView(a inventory.Adjustment) adjustmentJSON {
	j := adjustmentJSON{ID: a.ID, Reason: a.Reason, Note: nullable(a.Note), Reference: nullable(a.Reference),
		Actor: a.Actor, At: jsonTime(a.At), Lines: make([]adjustedLineJSON, 0, len(a.Lines))}
	for _, l := range a.Lines {
		j.Lines = append(j.Lines, adjustedLineJSON{ItemID: l.ItemID, LocationID: l.LocationID, Delta: l.Delta, OnHandAfter: l.OnHandAfter})
	}
	return j
}

func countView(c inventory.Count) countJSON {
	return countJSON{ID: c.ID, ItemID: c.ItemID, LocationID: c.LocationID, Counted: c.Counted, Expected: c.Expected,
		Delta: c.Delta, OnHandAfter: c.OnHandAfter, Actor: c.Actor, At: jsonTime(c.At)}
}

func transferView(t inventory.Transfer) transferJSON {
	return transferJSON{ID: t.ID, ItemID: t.ItemID, FromLocationID: t.FromLocationID, ToLocationID: t.ToLocationID,
		Quantity: t.Quantity, Note: nullable(t.Note), From: onHandAfterJSON{t.FromOnHand}, To: onHandAfterJSON{t.ToOnHand},
		Actor: t.Actor, At: jsonTime(t.At)}
}
