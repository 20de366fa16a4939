package callstats_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aws/smithy-go/middleware"

	"github.com/depot-inventory/depot/internal/callstats"
)

// A DynamoDB that throttles the first throttled requests, then answers.
func throttlingDynamoDB(t *testing.T, throttled int32) *dynamodb.Client {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if n.Add(1) <= throttled {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return dynamodb.New(dynamodb.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
		APIOptions: []func(*middleware.Stack) error{callstats.SDKCalls("DynamoDB", func(string, any) []string { return nil })},
	})
}

// Throttles counts every throttled attempt of a call, those the SDK
// retried and a last one it gave up on; the call counts once.
func TestSDKCallsCountThrottles(t *testing.T) {
	for _, tc := range []struct {
		throttled int32
		wantErr   bool
	}{{0, false}, {2, false}, {5, true}} {
		db := throttlingDynamoDB(t, tc.throttled)
		ctx, s := callstats.With(context.Background())
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "x"}}})
		if (err != nil) != tc.wantErr {
			t.Fatalf("%d throttled: err %v", tc.throttled, err)
		}
		want := min(int(tc.throttled), 3)
		if s.Throttles("DynamoDB") != want || s.Total("DynamoDB") != 1 {
			t.Errorf("%d throttled: Throttles %d, calls %d; want %d and 1", tc.throttled, s.Throttles("DynamoDB"), s.Total("DynamoDB"), want)
		}
	}
	ctx, s := callstats.With(context.Background())
	callstats.Throttled(ctx, "DynamoDB", 2)
	callstats.Throttled(context.Background(), "DynamoDB", 2) // no stats: nothing
	if s.Throttles("DynamoDB") != 2 || s.Throttles("S3") != 0 {
		t.Errorf("Throttled: %d", s.Throttles("DynamoDB"))
	}
}
