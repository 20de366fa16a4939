package dynamo

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Hand-written decoders for the records read on every request: the
// reflection-based attributevalue decoder was the largest part of the
// handlers' own time on list pages (make bench). Writes still marshal with
// attributevalue; a test round-trips every record through both.

// attrs reads typed attributes of one item, keeping the first error.
type attrs struct {
	m   map[string]types.AttributeValue
	err error
}

func (a *attrs) fail(name, want string) {
	if a.err == nil {
		a.err = fmt.Errorf("attribute %s: not %s", name, want)
	}
}

func (a *attrs) str(name string) string {
	v, ok := a.m[name]
	if !ok {
		return ""
	}
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		a.fail(name, "a string")
		return ""
	}
	return s.Value
}

func (a *attrs) int(name string) int64 {
	v, ok := a.m[name]
	if !ok {
		return 0
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		a.fail(name, "a number")
		return 0
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		a.fail(name, "an integer")
	}
	return i
}

func (a *attrs) optInt(name string) *int64 {
	if v, ok := a.m[name]; !ok || isNull(v) {
		return nil
	}
	i := a.int(name)
	return &i
}

func (a *attrs) strings(name string) []string {
	v, ok := a.m[name]
	if !ok || isNull(v) {
		return nil
	}
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		a.fail(name, "a list")
		return nil
	}
	out := make([]string, 0, len(l.Value))
	for _, e := range l.Value {
		s, ok := e.(*types.AttributeValueMemberS)
		if !ok {
			a.fail(name, "a list of strings")
			return nil
		}
		out = append(out, s.Value)
	}
	return out
}

// sub returns the attributes of a map attribute, or nil if absent.
func (a *attrs) sub(name string) *attrs {
	v, ok := a.m[name]
	if !ok || isNull(v) {
		return nil
	}
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok {
		a.fail(name, "a map")
		return nil
	}
	return &attrs{m: m.Value}
}

func isNull(v types.AttributeValue) bool {
	_, ok := v.(*types.AttributeValueMemberNULL)
	return ok
}

func decodeItemRecord(m map[string]types.AttributeValue) (itemRecord, error) {
	a := &attrs{m: m}
	r := itemRecord{
		PK: a.str("PK"), SK: a.str("SK"), GSI1PK: a.str("GSI1PK"), GSI1SK: a.str("GSI1SK"),
		GSI3PK: a.str("GSI3PK"), GSI3SK: a.str("GSI3SK"), Type: a.str("type"),
		ID: a.str("id"), SKU: a.str("sku"), Name: a.str("name"), Description: a.str("description"),
		Quantity: a.int("quantity"), Tags: a.strings("tags"), ReorderPoint: a.optInt("reorderPoint"),
		CreatedAt: a.str("createdAt"), CreatedBy: a.str("createdBy"),
		UpdatedAt: a.str("updatedAt"), UpdatedBy: a.str("updatedBy"), Version: a.int("version"),
	}
	if d := a.sub("deleted"); d != nil {
		r.Deleted = &deletionRecord{At: d.str("at"), By: d.str("by"), Comment: d.str("comment")}
		a.err = firstErr(a.err, d.err)
	}
	if im := a.sub("image"); im != nil {
		r.Image = decodeImageRecord(im)
		a.err = firstErr(a.err, im.err)
	}
	return r, a.err
}

func decodeImageRecord(a *attrs) *imageRecord {
	r := &imageRecord{
		Status: a.str("status"), UploadID: a.str("uploadId"), ContentType: a.str("contentType"),
		Width: int(a.int("width")), Height: int(a.int("height")), Bytes: a.int("bytes"),
		Reason: a.str("reason"), Original: a.str("original"), Replaces: a.strings("replaces"),
	}
	if v, ok := a.m["thumbnails"]; ok && !isNull(v) {
		l, ok := v.(*types.AttributeValueMemberL)
		if !ok {
			a.fail("thumbnails", "a list")
			return r
		}
		for _, e := range l.Value {
			m, ok := e.(*types.AttributeValueMemberM)
			if !ok {
				a.fail("thumbnails", "a list of maps")
				return r
			}
			t := &attrs{m: m.Value}
			r.Thumbnails = append(r.Thumbnails, thumbnailRecord{
				Size: int(t.int("size")), Width: int(t.int("width")), Height: int(t.int("height")),
				ContentType: t.str("contentType"), Key: t.str("key"),
			})
			a.err = firstErr(a.err, t.err)
		}
	}
	return r
}

func decodeLedgerRecord(m map[string]types.AttributeValue) (ledgerRecord, error) {
	a := &attrs{m: m}
	r := ledgerRecord{
		PK: a.str("PK"), SK: a.str("SK"), GSI2PK: a.str("GSI2PK"), GSI2SK: a.str("GSI2SK"),
		Type: a.str("type"), ID: a.str("id"), ItemID: a.str("itemId"), LocationID: a.str("locationId"),
		Delta: a.int("delta"), QuantityAfter: a.int("quantityAfter"), Reason: a.str("reason"),
		Reference: a.str("reference"), Actor: a.str("actor"), At: a.str("at"),
	}
	return r, a.err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
