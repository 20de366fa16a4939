package itest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// recordSize is the size of a record by DynamoDB's item size rules, what
// capacity units are counted on: each attribute's name (UTF-8 bytes) plus
// its value (attrValueSize).
func recordSize(m map[string]types.AttributeValue) int {
	n := 0
	for name, v := range m {
		n += len(name) + attrValueSize(v)
	}
	return n
}

// attrValueSize is the size of a value: a string its UTF-8 bytes, binary
// its bytes, a number about one byte per two significant digits plus one
// (numberSize), a boolean or null 1 byte, a map or list 3 bytes plus its
// elements (a map's element: its name and value), a set the sum of its
// elements.
func attrValueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		return 3 + recordSize(v.Value)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += attrValueSize(e)
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	}
	return 0
}

// numberSize is DynamoDB's approximate size of a number: its significant
// digits (leading and trailing zeros trimmed, sign and point dropped) take
// one byte per two, plus 1 byte, plus 1 for a negative number. 0 is 1 byte.
func numberSize(s string) int {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i] // the exponent moves the point; the digits stay
	}
	digits := strings.ReplaceAll(s, ".", "")
	digits = strings.Trim(digits, "0")
	n := (utf8.RuneCountInString(digits)+1)/2 + 1
	if neg && digits != "" {
		n++
	}
	return n
}

func TestRecordSize(t *testing.T) {
	t.Parallel()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	for _, c := range []struct {
		name string
		rec  map[string]types.AttributeValue
		want int
	}{
		{"string", map[string]types.AttributeValue{"PK": s("ab")}, 4},
		{"utf-8 string", map[string]types.AttributeValue{"name": s("café")}, 4 + 5},
		{"empty string", map[string]types.AttributeValue{"note": s("")}, 4},
		{"number 0", map[string]types.AttributeValue{"n": n("0")}, 1 + 1},
		{"number 7", map[string]types.AttributeValue{"n": n("7")}, 1 + 2},
		{"number 12", map[string]types.AttributeValue{"n": n("12")}, 1 + 2},
		{"number 123", map[string]types.AttributeValue{"n": n("123")}, 1 + 3},
		{"number 100 (trailing zeros)", map[string]types.AttributeValue{"n": n("100")}, 1 + 2},
		{"number -38", map[string]types.AttributeValue{"delta": n("-38")}, 5 + 3},
		{"number 0.0501", map[string]types.AttributeValue{"n": n("0.0501")}, 1 + 3},
		{"bool and null", map[string]types.AttributeValue{"b": &types.AttributeValueMemberBOOL{Value: true},
			"z": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"binary", map[string]types.AttributeValue{"bin": &types.AttributeValueMemberB{Value: []byte{1, 2, 3}}}, 6},
		{"empty list", map[string]types.AttributeValue{"tags": &types.AttributeValueMemberL{}}, 4 + 3},
		{"list", map[string]types.AttributeValue{"tags": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("fasteners"), s("m8")}}}, 4 + 3 + 9 + 2},
		{"map", map[string]types.AttributeValue{"deleted": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"at": s("2025-04-02T09:15:00.000Z"), "by": s("user:ben")}}}, 7 + 3 + (2 + 24) + (2 + 8)},
		{"string set", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"a", "bc"}}}, 2 + 3},
		// The stock level of docs/data-model.md §2.3, attribute by attribute:
		// PK 2+31, SK 2+32, type 4+5, GSI2PK 6+30, GSI2SK 6+31, itemId 6+26,
		// locationId 10+26, onHand 6+2, committed 9+1, incoming 8+1,
		// updatedAt 9+24, lastLedgerId 12+26.
		{"stock level of §2.3", map[string]types.AttributeValue{
			"PK": s("ITEM#01JQ8Z6T3V8K2M4N6P8R0S2T4V"), "SK": s("STOCK#01JQ90AB2CD3EF4GH5JK6MN7PQ"), "type": s("stock"),
			"GSI2PK": s("LOC#01JQ90AB2CD3EF4GH5JK6MN7PQ"), "GSI2SK": s("ITEM#01JQ8Z6T3V8K2M4N6P8R0S2T4V"),
			"itemId": s("01JQ8Z6T3V8K2M4N6P8R0S2T4V"), "locationId": s("01JQ90AB2CD3EF4GH5JK6MN7PQ"),
			"onHand": n("12"), "committed": n("0"), "incoming": n("0"), "updatedAt": s("2025-03-29T08:00:00.000Z"),
			"lastLedgerId": s("01JQ8Z6T3VA0B1C2D3E4F5G6H7")},
			33 + 34 + 9 + 36 + 37 + 32 + 36 + 8 + 10 + 9 + 33 + 38},
	} {
		if got := recordSize(c.rec); got != c.want {
			t.Errorf("%s: size %d, want %d", c.name, got, c.want)
		}
	}
}
