package callstats

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	Call(context.Background(), "DynamoDB", "GetItem", time.Second, "x") // no stats: nothing, no panic
	ctx, s := With(context.Background())
	Call(ctx, "DynamoDB", "GetItem", time.Millisecond, "dynamodb:GetItem table")
	Call(ctx, "DynamoDB", "GetItem", time.Millisecond, "dynamodb:GetItem table")
	Call(ctx, "DynamoDB", "TransactWriteItems", 2*time.Millisecond, "dynamodb:PutItem table", "dynamodb:DeleteItem table")
	Call(ctx, "S3", "PutObject", time.Millisecond, "s3:PutObject thumbnails/*")
	Action(ctx, "s3:GetObject thumbnails/*")
	if got := s.Calls("DynamoDB"); got["GetItem"] != 2 || got["TransactWriteItems"] != 1 || len(got) != 2 {
		t.Errorf("DynamoDB calls %v", got)
	}
	if s.Total("DynamoDB") != 3 || s.Total("S3") != 1 || s.Total("SQS") != 0 {
		t.Errorf("totals %d %d", s.Total("DynamoDB"), s.Total("S3"))
	}
	if s.Elapsed("DynamoDB") != 4*time.Millisecond {
		t.Errorf("elapsed %v", s.Elapsed("DynamoDB"))
	}
	want := []string{"dynamodb:DeleteItem table", "dynamodb:GetItem table", "dynamodb:PutItem table", "s3:GetObject thumbnails/*", "s3:PutObject thumbnails/*"}
	if got := s.Actions(); !slices.Equal(got, want) {
		t.Errorf("actions %v", got)
	}
}
