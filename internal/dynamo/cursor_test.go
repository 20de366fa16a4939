package dynamo

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestCursorRoundTrip(t *testing.T) {
	key := map[string]types.AttributeValue{"PK": str("ITEM#1"), "SK": str("ITEM"), "GSI1PK": str(liveItems), "GSI1SK": str("SKU-1")}
	c, err := encodeCursor(key)
	if err != nil || c == nil {
		t.Fatalf("encode: %v", err)
	}
	got, err := decodeCursor(*c, []string{"PK", "SK", "GSI1PK", "GSI1SK"}, "GSI1PK", liveItems)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got["GSI1SK"].(*types.AttributeValueMemberS).Value != "SKU-1" || len(got) != 4 {
		t.Fatalf("decoded %v", got)
	}
	if none, _ := encodeCursor(nil); none != nil {
		t.Fatal("empty key must give no cursor")
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := map[string]string{
		"not base64":      "%%%",
		"not json":        b64("nope"),
		"missing key":     b64(`{"PK":"ITEM#1","SK":"ITEM","GSI1PK":"ITEMS#LIVE"}`),
		"extra key":       b64(`{"PK":"ITEM#1","SK":"ITEM","GSI1PK":"ITEMS#LIVE","GSI1SK":"a","X":"y"}`),
		"other partition": b64(`{"PK":"ITEM#1","SK":"ITEM","GSI1PK":"ITEMS#DELETED","GSI1SK":"a"}`),
		"empty value":     b64(`{"PK":"","SK":"ITEM","GSI1PK":"ITEMS#LIVE","GSI1SK":"a"}`),
		"non-string":      b64(`{"PK":1,"SK":"ITEM","GSI1PK":"ITEMS#LIVE","GSI1SK":"a"}`),
	}
	for name, c := range cases {
		if _, err := decodeCursor(c, []string{"PK", "SK", "GSI1PK", "GSI1SK"}, "GSI1PK", liveItems); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%s: err %v, want ErrInvalidCursor", name, err)
		}
	}
}
