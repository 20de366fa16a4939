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
	if !gs.On(Thumbnails) || gs.On(Uploads, GSI1) || !gs.Has(GetItems) || gs.Has(DeleteItems) {
		t.Error("On/Has")
	}
	if !gs.OnTable() || !(Grants{QueryGSI3}).OnTable() || (Grants{LinkThumbnails}).OnTable() {
		t.Error("OnTable")
	}
	if Index("GSI2") != GSI2 || QueryGSI4.String() != "dynamodb:Query index/GSI4" {
		t.Errorf("Index(GSI2) = %q, QueryGSI4 = %q", Index("GSI2"), QueryGSI4)
	}
	for key, want := range map[string]Resource{"uploads/I/U": Uploads, "thumbnails/I/U/160.jpg": Thumbnails, "x": "x/*"} {
		if got := ObjectResource(key); got != want {
			t.Errorf("ObjectResource(%q) = %q, want %q", key, got, want)
		}
	}
}
