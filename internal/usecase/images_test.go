package usecase_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/usecase"
)

// An upload never received shows expired once its window and the grace
// for processing have passed, in every read; replays get forms only within
// the window, never past it; a late event still processes it (an operator
// replaying a failed one), and a new upload replaces it.
func TestPendingImageExpires(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "EXP-1", 0)
	key := with(bob, "photo")
	asked := f.now
	up, _, err := f.svc.RequestImageUpload(f.ctx, key, d.ID, "image/png")
	if err != nil || !up.Form.ExpiresAt.Equal(asked.Add(usecase.UploadFormTTL)) {
		t.Fatalf("%+v %v", up, err)
	}
	shown := func() string {
		t.Helper()
		got, err := f.svc.GetItem(f.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.ListItems(f.ctx, inventory.PageRequest{Limit: 10}, inventory.ItemQuery{})
		if err != nil || len(list.Items) != 1 || list.Items[0].Image.Status != got.Image.Status {
			t.Fatalf("the list shows %+v, GET %s (%v)", list.Items, got.Image.Status, err)
		}
		return got.Image.Status
	}
	// A replay near the end of the window: a form that ends with it.
	f.now = asked.Add(inventory.ImageUploadWindow - 10*time.Minute)
	fresh, replayed, err := f.svc.RequestImageUpload(f.ctx, key, d.ID, "image/png")
	if err != nil || !replayed || fresh.ID != up.ID || !fresh.Form.ExpiresAt.Equal(inventory.UploadDeadline(up.ID)) {
		t.Fatalf("replay in the window: %+v %v %v", fresh, replayed, err)
	}
	// Past the window: no more forms, though still pending for a while.
	f.now = asked.Add(inventory.ImageUploadWindow + time.Second)
	_, _, err = f.svc.RequestImageUpload(f.ctx, key, d.ID, "image/png")
	wantCode(t, err, inventory.KindConflict, inventory.CodeUploadExpired)
	if got := shown(); got != inventory.ImagePending {
		t.Fatalf("within the grace: %s", got)
	}
	f.now = asked.Add(inventory.ImageUploadWindow + inventory.ImageUploadGrace + time.Second)
	if got := shown(); got != inventory.ImageExpired {
		t.Fatalf("past the grace: %s", got)
	}
	// A late event (an operator's replay) still processes the upload.
	if err := f.objects.Put(f.ctx, inventory.UploadKey(d.ID, up.ID), "image/png", []byte("IMG late")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, up.ID)); err != nil {
		t.Fatal(err)
	}
	if got := shown(); got != inventory.ImageReady {
		t.Fatalf("after the late event: %s", got)
	}
	// Another upload never sent expires too; a new one replaces it.
	second, _, err := f.svc.RequestImageUpload(f.ctx, alice, d.ID, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	f.tick(inventory.ImageUploadWindow + inventory.ImageUploadGrace + time.Second)
	if got := shown(); got != inventory.ImageExpired {
		t.Fatalf("the second upload: %s", got)
	}
	third, _, err := f.svc.RequestImageUpload(f.ctx, alice, d.ID, "image/png")
	if err != nil || third.ID == second.ID || shown() != inventory.ImagePending {
		t.Fatalf("a new upload after an expired one: %+v %v", third, err)
	}
}

// failingDeletes is object storage whose deletes fail while failing is set.
type failingDeletes struct {
	usecase.Objects
	failing bool
}

func (f *failingDeletes) Delete(ctx context.Context, keys ...string) error {
	if f.failing && len(keys) > 0 {
		return errors.New("connection reset")
	}
	return f.Objects.Delete(ctx, keys...)
}

// savedThen is a store that calls then after each item it saves.
type savedThen struct {
	usecase.Store
	then func()
}

func (s savedThen) SaveItem(ctx context.Context, c inventory.ItemChange) error {
	err := s.Store.SaveItem(ctx, c)
	if err == nil {
		s.then()
	}
	return err
}

// A run of ProcessUpload that recorded the new image but could not delete
// the upload is finished by the next delivery: the upload goes, and the
// replaced image's objects went before the record, so no object is left
// that no image owns.
func TestProcessUploadStoppedAfterTheRecord(t *testing.T) {
	f := newFixture(t)
	d := f.create(alice, "STOP-1", 0)
	first := f.upload(bob, d.ID, "IMG first")
	if err := f.svc.ProcessUpload(f.ctx, inventory.UploadKey(d.ID, first.ID)); err != nil {
		t.Fatal(err)
	}
	second := f.upload(bob, d.ID, "IMG second")
	objects := &failingDeletes{Objects: f.svc.Objects}
	f.svc.Objects = objects
	key := inventory.UploadKey(d.ID, second.ID)
	// Deletes fail once the image is recorded: the run fails there.
	store := f.svc.Store
	f.svc.Store = savedThen{Store: store, then: func() { objects.failing = true }}
	if err := f.svc.ProcessUpload(f.ctx, key); err == nil {
		t.Fatal("the run did not fail")
	}
	f.svc.Store, objects.failing = store, false
	got, err := f.svc.GetItem(f.ctx, d.ID)
	if err != nil || got.Image.Status != inventory.ImageReady || got.Image.UploadID != second.ID {
		t.Fatalf("after the stopped run: %+v %v", got.Image, err)
	}
	if err := f.svc.ProcessUpload(f.ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.objects.Object(key); ok {
		t.Error("the upload was left")
	}
	for _, k := range inventory.ProcessedKeys(d.ID, first.ID) {
		if _, ok := f.objects.Object(k); ok {
			t.Errorf("the replaced image's object %s was left", k)
		}
	}
}
