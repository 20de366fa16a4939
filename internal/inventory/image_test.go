package inventory_test

import (
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// A pending image shows expired once its upload's window and the grace for
// processing have passed, and not a moment before; other states stand.
func TestImageShownExpired(t *testing.T) {
	asked := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	id := inventory.NewID(asked)
	if got := inventory.UploadDeadline(id); !got.Equal(asked.Add(inventory.ImageUploadWindow)) {
		t.Fatalf("deadline %v", got)
	}
	end := asked.Add(inventory.ImageUploadWindow + inventory.ImageUploadGrace)
	for _, c := range []struct {
		status string
		at     time.Time
		want   string
	}{
		{inventory.ImagePending, asked, inventory.ImagePending},
		{inventory.ImagePending, end, inventory.ImagePending},
		{inventory.ImagePending, end.Add(time.Millisecond), inventory.ImageExpired},
		{inventory.ImageReady, end.Add(time.Hour), inventory.ImageReady},
		{inventory.ImageFailed, end.Add(time.Hour), inventory.ImageFailed},
	} {
		im := &inventory.Image{Status: c.status, UploadID: id}
		if got := im.Shown(c.at); got != c.want {
			t.Errorf("%s at %v: %s, want %s", c.status, c.at.Sub(asked), got, c.want)
		}
	}
}
