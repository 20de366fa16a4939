package access

import (
	"slices"
	"testing"
)

func TestGrants(t *testing.T) {
	gs := Grants{PutItems, GetItems, PutItems, LinkThumbnails}
	if got := gs.Strings(); !slices.Equal(got, []string{"dynamodb:GetItem table", "dynamodb:PutItem table", "s3:GetObject thumbnails/*"}) {
		t.Errorf("Strings = %v", got)
	}
	if !gs.On(Thumbnails) || gs.On(Uploads, Indexes) || !gs.Has(GetItems) || gs.Has(DeleteItems) {
		t.Error("On/Has")
	}
	for key, want := range map[string]Resource{"uploads/I/U": Uploads, "thumbnails/I/U/160.jpg": Thumbnails, "x": "x/*"} {
		if got := ObjectResource(key); got != want {
			t.Errorf("ObjectResource(%q) = %q, want %q", key, got, want)
		}
	}
}
