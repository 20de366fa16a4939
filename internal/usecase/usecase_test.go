package usecase_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// fixture is a Service on in-memory ports with a clock the test moves.
type fixture struct {
	t       *testing.T
	now     time.Time
	store   *memstore.Store
	objects *memstore.Objects
	svc     *usecase.Service
	ctx     context.Context
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), store: memstore.New(),
		objects: memstore.NewObjects(), ctx: context.Background()}
	clock := func() time.Time { return f.now }
	f.svc = &usecase.Service{Store: f.store, Objects: f.objects, Signer: memstore.Signer{Now: clock},
		Thumbnailer: memstore.Thumbnailer{}, Now: clock, MaxUploadBytes: 64, Logger: slog.New(slog.DiscardHandler),
		Pause: func(ctx context.Context, d time.Duration) error {
			if d < 0 {
				t.Errorf("a negative wait %v", d)
			}
			return ctx.Err()
		}}
	return f
}

func (f *fixture) tick(d time.Duration) { f.now = f.now.Add(d) }

var (
	alice = usecase.Request{Actor: "alice@example.com"}
	bob   = usecase.Request{Actor: "bob@example.com"}
)

func with(r usecase.Request, key string) usecase.Request { r.IdempotencyKey = key; return r }

func ifMatch(r usecase.Request, versions ...int64) usecase.Request {
	r.IfMatch = &inventory.IfMatch{Versions: versions}
	return r
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) create(req usecase.Request, sku string, qty int64) usecase.ItemDetail {
	f.t.Helper()
	d, _, err := f.svc.CreateItem(f.ctx, req, inventory.CreateInput{SKU: sku, Name: "Item " + sku, Quantity: qty})
	if err != nil {
		f.t.Fatalf("create %s: %v", sku, err)
	}
	f.tick(time.Second)
	return d
}

func wantCode(t *testing.T, err error, kind inventory.Kind, code string) {
	t.Helper()
	if inventory.KindOf(err) != kind || inventory.CodeOf(err) != code {
		t.Fatalf("error %v (kind %v, code %q), want kind %v code %q", err, inventory.KindOf(err), inventory.CodeOf(err), kind, code)
	}
}

func (f *fixture) activity(id string) []inventory.Activity {
	f.t.Helper()
	p, err := f.svc.ListActivity(f.ctx, id, inventory.PageRequest{Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Items
}

func types(acts []inventory.Activity) string {
	var out []string
	for _, a := range acts {
		out = append(out, a.Type)
	}
	return strings.Join(out, ",")
}

func TestCreateGetAndAudit(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "A-1", 5)
	got, err := f.svc.GetItem(f.ctx, d.ID)
	if err != nil || got.CreatedBy != alice.Actor || got.Quantity != 5 || got.Version != 1 || got.Links != nil {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if l, ok := f.store.Stock(d.ID, inventory.DefaultLocation); !ok || l.OnHand != 5 || l.Committed != 0 || got.Available() != 5 {
		t.Fatalf("stock %+v %v, available %d", l, ok, got.Available())
	}
	if got := types(f.activity(d.ID)); got != "stock_changed,created" {
		t.Fatalf("activity %s", got)
	}
	_, _, err = f.svc.CreateItem(f.ctx, alice, inventory.CreateInput{SKU: "A-1", Name: "dup"})
	wantCode(t, err, inventory.KindConflict, inventory.CodeSKUConflict)
	_, _, err = f.svc.CreateItem(f.ctx, alice, inventory.CreateInput{SKU: "bad sku", Name: " "})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeValidationFailed)
	_, err = f.svc.GetItem(f.ctx, "01JBZ4Q7Y3M7R2K5X9V8N6T4PA")
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemNotFound)
	_, err = f.svc.GetItem(f.ctx, "..")
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemNotFound)
	if n := f.store.Saves(); n != 1 {
		t.Fatalf("%d saves, want 1: failures wrote", n)
	}
}

func TestIdempotencyReplayReuseAndScope(t *testing.T) {
	f := newFixture(t)
	in := inventory.CreateInput{SKU: "K-1", Name: "Once", Quantity: 2}
	first, replayed, err := f.svc.CreateItem(f.ctx, with(alice, "k1"), in)
	if err != nil || replayed {
		t.Fatalf("first: %v %v", replayed, err)
	}
	f.tick(time.Hour)
	again, replayed, err := f.svc.CreateItem(f.ctx, with(alice, "k1"), in)
	if err != nil || !replayed || again.ID != first.ID || !again.UpdatedAt.Equal(first.UpdatedAt) {
		t.Fatalf("replay: %+v %v %v", again, replayed, err)
	}
	_, _, err = f.svc.CreateItem(f.ctx, with(alice, "k1"), inventory.CreateInput{SKU: "K-2", Name: "Other"})
	wantCode(t, err, inventory.KindUnprocessable, inventory.CodeIdempotencyKeyReused)
	// The same key of another caller is another key.
	_, replayed, err = f.svc.CreateItem(f.ctx, with(bob, "k1"), inventory.CreateInput{SKU: "K-3", Name: "Bob's"})
	if err != nil || replayed {
		t.Fatalf("bob's k1: %v %v", replayed, err)
	}
	// After 24 hours the key is free again.
	f.tick(24 * time.Hour)
	_, replayed, err = f.svc.CreateItem(f.ctx, with(alice, "k1"), inventory.CreateInput{SKU: "K-4", Name: "Later"})
	if err != nil || replayed {
		t.Fatalf("k1 a day later: %v %v", replayed, err)
	}
	if n := f.store.Saves(); n != 3 {
		t.Fatalf("%d saves, want 3", n)
	}
}

func TestIdempotencyRace(t *testing.T) {
	f := newFixture(t)
	in := inventory.CreateInput{SKU: "R-1", Name: "Raced"}
	// The first save finds that a concurrent request with the same key
	// committed first: its answer is the winner's.
	var winner usecase.ItemDetail
	raced := false
	f.store.BeforeSave = func(inventory.ItemChange) error {
		if raced {
			return nil
		}
		raced = true
		var err error
		winner, _, err = f.svc.CreateItem(f.ctx, with(alice, "race"), in)
		return err
	}
	got, replayed, err := f.svc.CreateItem(f.ctx, with(alice, "race"), in)
	if err != nil || !replayed || got.ID != winner.ID {
		t.Fatalf("loser got %+v %v %v, want the winner's %s", got.ID, replayed, err, winner.ID)
	}
	// A race whose winner is not readable yet is in progress.
	f.store.BeforeSave = func(inventory.ItemChange) error { return inventory.ErrIdempotencyRace }
	_, _, err = f.svc.CreateItem(f.ctx, with(alice, "race-2"), inventory.CreateInput{SKU: "R-2", Name: "x"})
	wantCode(t, err, inventory.KindConflict, inventory.CodeIdempotencyInProgress)
}

func TestUpdateWithIfMatchAndRetries(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "U-1", 5)
	_, err := f.svc.UpdateItem(f.ctx, ifMatch(bob, 7), d.ID, inventory.Patch{Name: ptr("x")})
	wantCode(t, err, inventory.KindPrecondition, inventory.CodePreconditionFailed)
	if f.store.Saves() != 1 {
		t.Fatal("a failed precondition wrote")
	}
	up, err := f.svc.UpdateItem(f.ctx, ifMatch(bob, 1), d.ID, inventory.Patch{Quantity: ptr[int64](9)})
	if err != nil || up.Version != 2 || up.Quantity != 9 || up.UpdatedBy != bob.Actor {
		t.Fatalf("update = %+v, %v", up, err)
	}
	// No change: no write, same version.
	same, err := f.svc.UpdateItem(f.ctx, bob, d.ID, inventory.Patch{Quantity: ptr[int64](9)})
	if err != nil || same.Version != 2 || f.store.Saves() != 2 {
		t.Fatalf("no-op patch: %+v %v (%d saves)", same, err, f.store.Saves())
	}

	// A concurrent writer wins once between read and write.
	interfere := func(times int) *int {
		n := new(int)
		f.store.BeforeSave = func(c inventory.ItemChange) error {
			*n++
			if *n > times {
				return nil
			}
			return fmt.Errorf("lost the race: %w", inventory.ErrStale)
		}
		return n
	}
	interfere(1)
	_, err = f.svc.UpdateItem(f.ctx, ifMatch(bob, 2), d.ID, inventory.Patch{Name: ptr("with If-Match")})
	wantCode(t, err, inventory.KindPrecondition, inventory.CodePreconditionFailed)
	attempts := interfere(1)
	up, err = f.svc.UpdateItem(f.ctx, bob, d.ID, inventory.Patch{Name: ptr("retried")})
	if err != nil || up.Name != "retried" || *attempts != 2 {
		t.Fatalf("retried update = %+v, %v after %d attempts", up.Name, err, *attempts)
	}
	attempts = interfere(100)
	_, err = f.svc.UpdateItem(f.ctx, bob, d.ID, inventory.Patch{Name: ptr("never")})
	wantCode(t, err, inventory.KindConflict, inventory.CodeVersionConflict)
	if *attempts != usecase.MaxSaveAttempts {
		t.Fatalf("%d attempts, want %d", *attempts, usecase.MaxSaveAttempts)
	}
	// Throttling is unavailable, not retried by the use case.
	f.store.BeforeSave = func(inventory.ItemChange) error { return inventory.Unavailable(errors.New("throttled")) }
	_, err = f.svc.UpdateItem(f.ctx, bob, d.ID, inventory.Patch{Name: ptr("throttled")})
	wantCode(t, err, inventory.KindUnavailable, inventory.CodeServiceUnavailable)
	f.store.BeforeSave = nil
	acts := f.activity(d.ID)
	if got := types(acts); got != "updated,stock_changed,stock_changed,created" {
		t.Fatalf("activity %s", got)
	}
	if acts[0].Changes[0].Field != "name" || string(acts[0].Changes[0].To) != `"retried"` {
		t.Fatalf("updated entry %+v", acts[0])
	}
}

func TestDeleteRestoreRules(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "D-1", 1)
	_, _, err := f.svc.RestoreItem(f.ctx, bob, d.ID)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemNotDeleted)
	_, _, err = f.svc.DeleteItem(f.ctx, bob, d.ID, strings.Repeat("c", 501))
	wantCode(t, err, inventory.KindInvalid, inventory.CodeValidationFailed)
	del, _, err := f.svc.DeleteItem(f.ctx, with(bob, "del"), d.ID, "broken")
	if err != nil || del.Deleted == nil || del.Deleted.Comment != "broken" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	replay, replayed, err := f.svc.DeleteItem(f.ctx, with(bob, "del"), d.ID, "broken")
	if err != nil || !replayed || replay.Version != del.Version {
		t.Fatalf("delete replay = %+v %v %v", replay.Version, replayed, err)
	}
	_, err = f.svc.GetItem(f.ctx, d.ID)
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	_, _, err = f.svc.DeleteItem(f.ctx, bob, d.ID, "")
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	// The SKU is free; restoring onto a taken SKU conflicts.
	other := f.create(alice, "D-1", 0)
	_, _, err = f.svc.RestoreItem(f.ctx, bob, d.ID)
	wantCode(t, err, inventory.KindConflict, inventory.CodeSKUConflict)
	if _, err := f.svc.UpdateItem(f.ctx, alice, other.ID, inventory.Patch{SKU: ptr("D-2")}); err != nil {
		t.Fatal(err)
	}
	back, _, err := f.svc.RestoreItem(f.ctx, bob, d.ID)
	if err != nil || back.Deleted != nil || back.Version != 3 {
		t.Fatalf("restore = %+v, %v", back, err)
	}
	if got := types(f.activity(d.ID)); got != "restored,deleted,stock_changed,created" {
		t.Fatalf("activity %s", got)
	}
}

func TestListsPageOnceEach(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 7 {
		ids = append(ids, f.create(alice, fmt.Sprintf("L-%d", 7-i), 1).ID)
	}
	var skus []string
	pr := inventory.PageRequest{Limit: 3}
	for pages := 0; ; pages++ {
		p, err := f.svc.ListItems(f.ctx, pr, inventory.ItemQuery{})
		if err != nil || pages > 4 {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, d := range p.Items {
			skus = append(skus, d.SKU)
		}
		if p.NextCursor == "" {
			break
		}
		pr.Cursor = p.NextCursor
	}
	if want := []string{"L-1", "L-2", "L-3", "L-4", "L-5", "L-6", "L-7"}; !slices.Equal(skus, want) {
		t.Fatalf("listed %v", skus)
	}
	for _, id := range ids[:3] {
		if _, _, err := f.svc.DeleteItem(f.ctx, bob, id, ""); err != nil {
			t.Fatal(err)
		}
		f.tick(time.Second)
	}
	p, err := f.svc.ListDeletedItems(f.ctx, inventory.PageRequest{Limit: 2})
	if err != nil || len(p.Items) != 2 || p.Items[0].ID != ids[2] || p.Items[1].ID != ids[1] || p.NextCursor == "" {
		t.Fatalf("deleted page = %+v, %v", p, err)
	}
	_, err = f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 3, Cursor: ids[0]}, inventory.ItemQuery{}) // a ledger's or activity's
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidCursor)
	_, err = f.svc.ListHistory(f.ctx, "01JBZ4Q7Y3M7R2K5X9V8N6T4PA", "", inventory.PageRequest{Limit: 3})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemNotFound)
	_, err = f.svc.ListActivity(f.ctx, ids[0], inventory.PageRequest{Limit: 0})
	wantCode(t, err, inventory.KindInvalid, inventory.CodeInvalidParameter)
	// A deleted item's history and activity answer as the item does, and
	// come back with it.
	_, err = f.svc.ListHistory(f.ctx, ids[0], "", inventory.PageRequest{Limit: 10})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	_, err = f.svc.ListActivity(f.ctx, ids[0], inventory.PageRequest{Limit: 10})
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	if _, _, err := f.svc.RestoreItem(f.ctx, bob, ids[0]); err != nil {
		t.Fatal(err)
	}
	h, err := f.svc.ListHistory(f.ctx, ids[0], "", inventory.PageRequest{Limit: 10})
	if err != nil || len(h.Items) != 1 || h.Items[0].Reason != inventory.ReasonItemCreated {
		t.Fatalf("history = %+v, %v", h, err)
	}
}

// upload asks for an upload of the item's image and stores a file at its
// key, as a browser would.
func (f *fixture) upload(req usecase.Request, id string, data string) inventory.Upload {
	f.t.Helper()
	up, _, err := f.svc.RequestImageUpload(f.ctx, req, id, "image/png")
	if err != nil {
		f.t.Fatal(err)
	}
	if data != "" {
		if err := f.objects.Put(f.ctx, up.Form.Fields["key"], "image/png", []byte(data)); err != nil {
			f.t.Fatal(err)
		}
	}
	f.tick(time.Second)
	return up
}

func TestImageUploadAndProcessing(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "I-1", 0)
	up := f.upload(bob, d.ID, "IMG first")
	if up.MaxBytes != 64 || up.Form.Fields["key"] != inventory.UploadKey(d.ID, up.ID) || up.Form.Fields["max"] != "64" {
		t.Fatalf("upload = %+v", up)
	}
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, up.ID)); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.GetItem(f.ctx, d.ID)
	if err != nil || got.Image.Status != inventory.ImageReady || got.UpdatedBy != bob.Actor || got.Version != 3 || got.Links == nil {
		t.Fatalf("item = %+v, %v", got, err)
	}
	if !strings.Contains(got.Links.Original, "response-content-type=image/png") || len(got.Links.Thumbnails) != len(inventory.ThumbnailSizes) {
		t.Fatalf("links = %+v", got.Links)
	}
	first := got.Image.Keys()
	if keys := f.objects.Keys(); !slices.Equal(keys, slices.Sorted(slices.Values(first))) {
		t.Fatalf("objects %v, want the image's %v (the upload deleted)", keys, first)
	}
	acts := f.activity(d.ID)
	if acts[0].Type != inventory.ActivityImageReady || acts[0].Actor != bob.Actor || acts[0].UploadID != up.ID ||
		acts[1].Type != inventory.ActivityUpdated || acts[1].Changes[0].Field != "image" {
		t.Fatalf("activity %+v", acts[:2])
	}
	// Redelivery changes nothing.
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, up.ID)); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.svc.GetItem(f.ctx, d.ID); again.Version != got.Version {
		t.Fatal("a redelivered event changed the item")
	}

	// A second image replaces the first; its objects go.
	second := f.upload(alice, d.ID, "IMG second")
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, second.ID)); err != nil {
		t.Fatal(err)
	}
	got, _ = f.svc.GetItem(f.ctx, d.ID)
	if keys := f.objects.Keys(); !slices.Equal(keys, slices.Sorted(slices.Values(got.Image.Keys()))) || got.Image.UploadID != second.ID {
		t.Fatalf("objects %v after a second image %+v", keys, got.Image)
	}
}

func TestUploadRejections(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "I-2", 0)
	for _, c := range []struct {
		name, data, reason string
	}{
		{"not an image", "text, not a picture", "not an image"},
		{"over the limit", "IMG" + strings.Repeat("x", 64), "larger than the 64 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := f.upload(bob, d.ID, c.data)
			if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, up.ID)); err != nil {
				t.Fatalf("a permanent rejection is no error to retry: %v", err)
			}
			got, _ := f.svc.GetItem(f.ctx, d.ID)
			if got.Image.Status != inventory.ImageFailed || !strings.Contains(got.Image.Reason, c.reason) || got.UpdatedBy != bob.Actor {
				t.Fatalf("image = %+v", got.Image)
			}
			if keys := f.objects.Keys(); len(keys) != 0 {
				t.Fatalf("objects left: %v", keys)
			}
			if a := f.activity(d.ID)[0]; a.Type != inventory.ActivityImageFailed || !strings.Contains(a.ImageReason, c.reason) {
				t.Fatalf("activity %+v", a)
			}
		})
	}
}

func TestSupersededAndOrphanUploads(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "I-3", 0)
	older := f.upload(bob, d.ID, "IMG older")
	newer := f.upload(bob, d.ID, "IMG newer")
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, older.ID)); err != nil {
		t.Fatal(err)
	}
	if keys := f.objects.Keys(); !slices.Equal(keys, []string{inventory.UploadKey(d.ID, newer.ID)}) {
		t.Fatalf("objects %v: a superseded upload must leave nothing", keys)
	}
	// A failed write of a thumbnail is an error to retry; nothing recorded.
	f.objects.FailPut = func(key string) bool { return strings.HasSuffix(key, "/640.png") }
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, newer.ID)); err == nil {
		t.Fatal("a failed write was not reported")
	}
	if got, _ := f.svc.GetItem(f.ctx, d.ID); got.Image.Status != inventory.ImagePending {
		t.Fatalf("image %+v after a failed write", got.Image)
	}
	f.objects.FailPut = nil
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, newer.ID)); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.GetItem(f.ctx, d.ID); got.Image.Status != inventory.ImageReady {
		t.Fatalf("image %+v after the retry", got.Image)
	}
	// An upload for no item is deleted; a key that is no upload is ignored.
	orphan := inventory.UploadKey("01JBZ4Q7Y3M7R2K5X9V8N6T4PA", "01JBZ4Q7Y3M7R2K5X9V8N6T4PB")
	_ = f.objects.Put(f.ctx, orphan, "image/png", []byte("IMG"))
	if err := f.svc.ProcessUpload(f.ctx, orphan); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.objects.Object(orphan); ok {
		t.Fatal("an upload for no item was kept")
	}
	if err := f.svc.ProcessUpload(f.ctx, "thumbnails/x/y/original"); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredUploadFormIsNeverReplayed(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "I-4", 0)
	key := with(bob, "photo")
	first, _, err := f.svc.RequestImageUpload(f.ctx, key, d.ID, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	f.tick(time.Minute)
	again, replayed, err := f.svc.RequestImageUpload(f.ctx, key, d.ID, "image/png")
	if err != nil || !replayed || again.Form.ExpiresAt != first.Form.ExpiresAt || again.ID != first.ID {
		t.Fatalf("replay within the form's life: %+v %v %v", again, replayed, err)
	}
	// Expired, still pending: a fresh form for the same upload.
	f.tick(usecase.UploadFormTTL)
	fresh, replayed, err := f.svc.RequestImageUpload(f.ctx, key, d.ID, "image/png")
	if err != nil || !replayed || fresh.ID != first.ID || !fresh.Form.ExpiresAt.After(f.now) {
		t.Fatalf("replay of an expired form: %+v %v %v", fresh, replayed, err)
	}
	// Expired, no longer pending: upload_expired.
	_ = f.objects.Put(f.ctx, inventory.UploadKey(d.ID, first.ID), "image/png", []byte("IMG"))
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, first.ID)); err != nil {
		t.Fatal(err)
	}
	f.tick(usecase.UploadFormTTL)
	_, _, err = f.svc.RequestImageUpload(f.ctx, key, d.ID, "image/png")
	wantCode(t, err, inventory.KindConflict, inventory.CodeUploadExpired)
	// A deleted item takes no upload.
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.RequestImageUpload(f.ctx, alice, d.ID, "image/png")
	wantCode(t, err, inventory.KindNotFound, inventory.CodeItemDeleted)
	_, _, err = f.svc.RequestImageUpload(f.ctx, alice, d.ID, "image/bmp")
	wantCode(t, err, inventory.KindInvalid, inventory.CodeValidationFailed)
}
