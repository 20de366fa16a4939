package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// IdempotencyRecord is the first response to a request made with an
// Idempotency-Key. It is written in the same transaction as the change the
// request made, so either both exist or neither does.
type IdempotencyRecord struct {
	Scope       string // caller and key: a key is only ever shared by one caller
	RequestHash string
	Status      int
	Headers     map[string]string
	Body        string
	ExpiresAt   time.Time
}

type idempotencyItem struct {
	PK             string            `dynamodbav:"PK"`
	SK             string            `dynamodbav:"SK"`
	Type           string            `dynamodbav:"type"`
	RequestHash    string            `dynamodbav:"requestHash"`
	Status         int               `dynamodbav:"status"`
	Headers        map[string]string `dynamodbav:"headers"`
	Body           string            `dynamodbav:"body"`
	ExpiresAtEpoch int64             `dynamodbav:"expiresAtEpoch"`
}

func (r *IdempotencyRecord) record() idempotencyItem {
	return idempotencyItem{
		PK: idemPrefix + r.Scope, SK: idemSK, Type: "idempotency",
		RequestHash: r.RequestHash, Status: r.Status, Headers: r.Headers, Body: r.Body,
		ExpiresAtEpoch: r.ExpiresAt.Unix(),
	}
}

// GetIdempotency returns the unexpired record for scope, or nil.
func (s *Store) GetIdempotency(ctx context.Context, scope string, now time.Time) (*IdempotencyRecord, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            stringKey(idemPrefix+scope, idemSK),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get idempotency record: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var it idempotencyItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("decode idempotency record: %w", err)
	}
	if it.ExpiresAtEpoch < now.Unix() {
		return nil, nil
	}
	return &IdempotencyRecord{
		Scope: scope, RequestHash: it.RequestHash, Status: it.Status,
		Headers: it.Headers, Body: it.Body, ExpiresAt: time.Unix(it.ExpiresAtEpoch, 0),
	}, nil
}
