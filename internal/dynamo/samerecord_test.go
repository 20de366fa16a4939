package dynamo

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/inventory"
)

// sameRecord tells a job record read back from the one a save wrote (its
// own save, whose answer was lost) from any other.
func TestSameRecord(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	job := inventory.NewExport(inventory.ExportInput{Include: []string{inventory.IncludeStock}}, "ann", now)
	running := job.Start("upload-1", []inventory.Location{{ID: "default", Code: "DEFAULT"}}, now)
	written := encodeExport(running)
	if !sameRecord(written, encodeExport(running)) {
		t.Fatal("a record is not the same as itself")
	}
	other := running
	other.Checkpoint = &inventory.ExportCheckpoint{UploadID: "upload-2"} // another worker's upload
	if sameRecord(written, encodeExport(other)) || sameRecord(written, encodeExport(job)) {
		t.Error("another save's record is the same")
	}
	sets := func(v ...string) attrMap { return attrMap{"s": &types.AttributeValueMemberSS{Value: v}} }
	if !sameRecord(sets("a", "b"), sets("b", "a")) || sameRecord(sets("a"), sets("a", "b")) {
		t.Error("sets compare in order")
	}
	if sameRecord(attrMap{"n": num(1)}, attrMap{"n": str("1")}) || sameRecord(attrMap{"n": num(1)}, attrMap{"m": num(1)}) {
		t.Error("a number is the same as a string, or another attribute")
	}
}
