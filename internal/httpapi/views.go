package httpapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// The JSON representations of openapi.yaml's schemas.

type itemJSON struct {
	ID           string          `json:"id"`
	SKU          string          `json:"sku"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Quantity     int64           `json:"quantity"`
	Available    int64           `json:"available"`
	Tags         []string        `json:"tags"`
	ReorderPoint *int64          `json:"reorderPoint"`
	CreatedAt    string          `json:"createdAt"`
	CreatedBy    string          `json:"createdBy"`
	UpdatedAt    string          `json:"updatedAt"`
	UpdatedBy    string          `json:"updatedBy"`
	Version      int64           `json:"version"`
	Deleted      *deletionJSON   `json:"deleted,omitempty"`
	Image        *imageJSON      `json:"image,omitempty"`
	Groups       *[]groupRefJSON `json:"groups,omitempty"` // GET /items/{id} only
}

type deletionJSON struct {
	At      string `json:"at"`
	By      string `json:"by"`
	Comment string `json:"comment"`
}

type imageJSON struct {
	Status       string          `json:"status"`
	UploadID     string          `json:"uploadId"`
	ContentType  string          `json:"contentType,omitempty"`
	Width        int             `json:"width,omitempty"`
	Height       int             `json:"height,omitempty"`
	Bytes        int64           `json:"bytes,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	URL          string          `json:"url,omitempty"`
	URLExpiresAt string          `json:"urlExpiresAt,omitempty"`
	Thumbnails   []thumbnailJSON `json:"thumbnails,omitempty"`
}

type thumbnailJSON struct {
	Size        int    `json:"size"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ContentType string `json:"contentType"`
	URL         string `json:"url"`
}

type ledgerEntryJSON struct {
	ID          string  `json:"id"`
	ItemID      string  `json:"itemId"`
	LocationID  string  `json:"locationId"`
	Delta       int64   `json:"delta"`
	OnHandAfter int64   `json:"onHandAfter"`
	Reason      string  `json:"reason"`
	Reference   *string `json:"reference"`
	Note        *string `json:"note"`
	Actor       string  `json:"actor"`
	At          string  `json:"at"`
}

type activityJSON struct {
	ID          string       `json:"id"`
	Type        string       `json:"type"`
	Actor       string       `json:"actor"`
	At          string       `json:"at"`
	Changes     []changeJSON `json:"changes,omitempty"`
	Comment     *string      `json:"comment,omitempty"`
	LocationID  string       `json:"locationId,omitempty"`
	Delta       *int64       `json:"delta,omitempty"`
	OnHandAfter *int64       `json:"onHandAfter,omitempty"`
	Reason      string       `json:"reason,omitempty"`
	Reference   string       `json:"reference,omitempty"`
	Note        string       `json:"note,omitempty"`
	LedgerID    string       `json:"ledgerId,omitempty"`
	UploadID    string       `json:"uploadId,omitempty"`
}

type changeJSON struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from"`
	To    json.RawMessage `json:"to"`
}

type uploadJSON struct {
	UploadID     string            `json:"uploadId"`
	URL          string            `json:"url"`
	Fields       map[string]string `json:"fields"`
	ExpiresAt    string            `json:"expiresAt"`
	MaxBytes     int64             `json:"maxBytes"`
	AllowedTypes []string          `json:"allowedTypes"`
}

type itemPageJSON struct {
	Items      []itemJSON `json:"items"`
	NextCursor *string    `json:"nextCursor"`
}

type entryPageJSON[T any] struct {
	Entries    []T     `json:"entries"`
	NextCursor *string `json:"nextCursor"`
}

func jsonTime(t time.Time) string { return t.UTC().Format(inventory.TimeLayout) }

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

func itemView(d usecase.ItemDetail) itemJSON {
	it := d.Item
	j := itemJSON{
		ID: it.ID, SKU: it.SKU, Name: it.Name, Description: it.Description,
		Quantity: it.Quantity, Available: it.Available(), Tags: it.Tags, ReorderPoint: it.ReorderPoint,
		CreatedAt: jsonTime(it.CreatedAt), CreatedBy: it.CreatedBy,
		UpdatedAt: jsonTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy, Version: it.Version,
	}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	j.Groups = groupRefsView(d.GroupRefs)
	if del := it.Deleted; del != nil {
		j.Deleted = &deletionJSON{At: jsonTime(del.At), By: del.By, Comment: del.Comment}
	}
	if im := it.Image; im != nil {
		j.Image = &imageJSON{Status: im.Status, UploadID: im.UploadID, ContentType: im.ContentType, Reason: im.Reason}
		if l := d.Links; l != nil && im.Status == inventory.ImageReady {
			j.Image.Width, j.Image.Height, j.Image.Bytes = im.Width, im.Height, im.Bytes
			j.Image.URL, j.Image.URLExpiresAt = l.Original, jsonTime(l.ExpiresAt)
			for i, t := range im.Thumbnails {
				j.Image.Thumbnails = append(j.Image.Thumbnails, thumbnailJSON{Size: t.Size, Width: t.Width,
					Height: t.Height, ContentType: t.ContentType, URL: l.Thumbnails[i]})
			}
		}
	}
	return j
}

func ledgerView(e inventory.LedgerEntry) ledgerEntryJSON {
	j := ledgerEntryJSON{
		ID: e.ID, ItemID: e.ItemID, LocationID: e.LocationID, Delta: e.Delta,
		OnHandAfter: e.OnHandAfter, Reason: e.Reason, Actor: e.Actor, At: jsonTime(e.At),
		Reference: nullable(e.Reference), Note: nullable(e.Note),
	}
	return j
}

func activityView(a inventory.Activity) activityJSON {
	j := activityJSON{ID: a.ID, Type: a.Type, Actor: a.Actor, At: jsonTime(a.At), UploadID: a.UploadID}
	for _, c := range a.Changes {
		j.Changes = append(j.Changes, changeJSON{Field: c.Field, From: c.From, To: c.To})
	}
	switch a.Type {
	case inventory.ActivityDeleted:
		j.Comment = &a.Comment
	case inventory.ActivityStockChanged:
		j.LocationID, j.Delta, j.OnHandAfter = a.LocationID, &a.Delta, &a.OnHandAfter
		j.Reason, j.LedgerID, j.Reference, j.Note = a.Reason, a.LedgerID, a.Reference, a.Note
	case inventory.ActivityImageFailed:
		j.Reason = a.ImageReason
	}
	return j
}

func uploadView(u inventory.Upload) uploadJSON {
	return uploadJSON{UploadID: u.ID, URL: u.Form.URL, Fields: u.Form.Fields, ExpiresAt: jsonTime(u.Form.ExpiresAt),
		MaxBytes: u.MaxBytes, AllowedTypes: u.ContentTypes}
}

// nullable is s, or null when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nextCursor(c string) *string {
	if c == "" {
		return nil
	}
	return &c
}
