package dynamo

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ErrInvalidCursor is returned for a cursor that this list did not issue.
var ErrInvalidCursor = errors.New("invalid cursor")

// encodeCursor turns a LastEvaluatedKey (all of whose attributes are strings
// in this table) into an opaque, URL-safe cursor; nil for the last page.
func encodeCursor(key map[string]types.AttributeValue) (*string, error) {
	if len(key) == 0 {
		return nil, nil
	}
	plain := make(map[string]string, len(key))
	for name, av := range key {
		s, ok := av.(*types.AttributeValueMemberS)
		if !ok {
			return nil, errors.New("encode cursor: key attribute " + name + " is not a string")
		}
		plain[name] = s.Value
	}
	raw, err := json.Marshal(plain)
	if err != nil {
		return nil, err
	}
	c := base64.RawURLEncoding.EncodeToString(raw)
	return &c, nil
}

// decodeCursor parses a cursor for a query whose keys are exactly keyNames
// and whose partition attribute partitionName must equal partition. An empty
// cursor is the first page.
func decodeCursor(cursor string, keyNames []string, partitionName, partition string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, ErrInvalidCursor
	}
	var plain map[string]string
	if err := json.Unmarshal(raw, &plain); err != nil {
		return nil, ErrInvalidCursor
	}
	names := slices.Sorted(maps.Keys(plain))
	want := slices.Sorted(slices.Values(keyNames))
	if !slices.Equal(names, want) || plain[partitionName] != partition {
		return nil, ErrInvalidCursor
	}
	key := make(map[string]types.AttributeValue, len(plain))
	for name, v := range plain {
		if v == "" {
			return nil, ErrInvalidCursor
		}
		key[name] = &types.AttributeValueMemberS{Value: v}
	}
	return key, nil
}
