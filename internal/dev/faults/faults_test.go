package faults_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/depot-inventory/depot/internal/dev/faults"
)

// engine is a stand-in for DynamoDB and S3 that answers every request with
// success and counts what reached it.
type engine struct {
	srv      *httptest.Server
	requests atomic.Int64
}

func newEngine(t *testing.T) *engine {
	e := &engine{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json") {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = w.Write([]byte(`{}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

var cfg = aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("id", "secret", "")}

// noWait is the SDK's standard retryer, 3 attempts, without its backoff.
func noWait() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

func (e *engine) dynamo(in *faults.Injector) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
		o.Retryer = noWait()
	}, in.DynamoDB)
}

func (e *engine) s3(in *faults.Injector) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(e.srv.URL), true
		o.Retryer = noWait()
	}, in.S3)
}

func putItem(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"),
		Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "a"}}})
	return err
}

func transact(ctx context.Context, db *dynamodb.Client, n int) error {
	items := make([]types.TransactWriteItem, n)
	for i := range items {
		items[i] = types.TransactWriteItem{Put: &types.Put{TableName: aws.String("t"),
			Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: string(rune('a' + i))}}}}
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func status(err error) int {
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode()
	}
	return 0
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Each kind, injected on every attempt, fails the call as the service's
// own failure would: decoded by the SDK into its error, retried by the
// SDK when it retries that failure, and reaching the engine only when it
// comes after sending.
func TestEachKindAsTheSDKSeesIt(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		kind    faults.Kind
		check   func(error) bool
		reached int64 // requests the engine saw
		tries   int   // attempts the SDK made
	}{
		{faults.Throttling, func(err error) bool {
			return status(err) == 400 && (code(err) == "ThrottlingException" || code(err) == "ProvisionedThroughputExceededException")
		}, 0, 3},
		{faults.ServerError, func(err error) bool {
			var ise *types.InternalServerError
			return status(err) == 500 && errors.As(err, &ise)
		}, 0, 3},
		{faults.TimeoutAfterSend, func(err error) bool {
			var ne net.Error
			return errors.As(err, &ne) && ne.Timeout()
		}, 3, 3},
		{faults.DroppedConnection, func(err error) bool {
			var ne net.Error
			return errors.As(err, &ne) && strings.Contains(err.Error(), "connection reset")
		}, 3, 3},
	} {
		e := newEngine(t)
		in := faults.New(faults.Config{Seed: 1, Rate: 1, Kinds: []faults.Kind{c.kind}})
		in.Enable(true)
		err := putItem(ctx, e.dynamo(in))
		var max *retry.MaxAttemptsError
		if err == nil || !c.check(err) || !errors.As(err, &max) || max.Attempt != c.tries {
			t.Errorf("%s: %v", c.kind, err)
		}
		if got := e.requests.Load(); got != c.reached {
			t.Errorf("%s: the engine saw %d requests, want %d", c.kind, got, c.reached)
		}
		r := in.Report()
		if r.Injected["DynamoDB/"+string(c.kind)] != c.tries || r.Injected["DynamoDB/"+string(c.kind)+"/PutItem"] != c.tries ||
			r.Calls["DynamoDB"] != 1 || r.Attempts["DynamoDB"] != c.tries {
			t.Errorf("%s: report %+v", c.kind, r)
		}
	}
}

// A transaction cancelled with TransactionConflict is the SDK's
// TransactionCanceledException with one reason per item; the SDK does not
// retry it, and nothing reached the engine.
func TestTransactionConflict(t *testing.T) {
	e := newEngine(t)
	in := faults.New(faults.Config{Seed: 2, Rate: 1, Kinds: []faults.Kind{faults.TransactionConflict}})
	in.Enable(true)
	err := transact(context.Background(), e.dynamo(in), 3)
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || len(tc.CancellationReasons) != 3 {
		t.Fatalf("%v", err)
	}
	conflicts := 0
	for _, r := range tc.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			conflicts++
		case "None":
		default:
			t.Errorf("reason %v", aws.ToString(r.Code))
		}
	}
	if conflicts != 1 || e.requests.Load() != 0 || in.Report().Attempts["DynamoDB"] != 1 {
		t.Errorf("%d conflicts, %d requests, %+v", conflicts, e.requests.Load(), in.Report())
	}
	// A single write never gets one: it is not a transaction.
	if err := putItem(context.Background(), e.dynamo(in)); err != nil || e.requests.Load() != 1 {
		t.Errorf("PutItem: %v", err)
	}
}

// S3's throttling is 503 SlowDown, its server error 500 InternalError.
func TestS3Faults(t *testing.T) {
	ctx := context.Background()
	for kind, want := range map[faults.Kind]struct {
		status int
		code   string
	}{faults.Throttling: {503, "SlowDown"}, faults.ServerError: {500, "InternalError"}} {
		e := newEngine(t)
		in := faults.New(faults.Config{Seed: 3, Rate: 1, Kinds: []faults.Kind{kind}})
		in.Enable(true)
		_, err := e.s3(in).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("x")})
		if status(err) != want.status || code(err) != want.code || e.requests.Load() != 0 {
			t.Errorf("%s: %v (%d requests)", kind, err, e.requests.Load())
		}
	}
	e := newEngine(t)
	in := faults.New(faults.Config{Seed: 3, Rate: 1, Kinds: []faults.Kind{faults.TimeoutAfterSend}})
	in.Enable(true)
	_, err := e.s3(in).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("body")})
	if err == nil || e.requests.Load() != 3 {
		t.Errorf("timeout after send: %v (%d requests)", err, e.requests.Load())
	}
}

// At a rate, about that share of attempts fail and the SDK's retries
// absorb them; runs fail whole calls; the same seed injects the same
// faults into the same sequence of calls; disabled, nothing is injected.
func TestRatesRunsAndSeeds(t *testing.T) {
	ctx := context.Background()
	run := func(seed uint64) (faults.Report, int) {
		e := newEngine(t)
		in := faults.New(faults.Config{Seed: seed, Rate: 0.1, RunRate: 0.02})
		db := e.dynamo(in)
		if err := putItem(ctx, db); err != nil { // disabled
			t.Fatal(err)
		}
		in.Enable(true)
		failed := 0
		for range 1000 {
			if err := transact(ctx, db, 2); err != nil {
				failed++
			}
		}
		return in.Report(), failed
	}
	r, failed := run(7)
	total, attempts := r.Total("DynamoDB"), r.Attempts["DynamoDB"]
	if r.Calls["DynamoDB"] != 1000 || total < attempts/20 || total > attempts/4 {
		t.Errorf("report %v", r)
	}
	// Runs are spread evenly: 1000 calls at 0.02 are 20 runs (±1). A call
	// fails when it is a run, when it draws a transaction conflict (not
	// retried), or (rarely) when all of its three attempts draw faults.
	if r.Runs < 19 || r.Runs > 21 || failed < r.Runs || failed > r.Runs+r.Injected["DynamoDB/transaction_conflict"]+5 {
		t.Errorf("%d runs, %d failed calls: %v", r.Runs, failed, r)
	}
	again, failedAgain := run(7)
	if again.String() != r.String() || failedAgain != failed {
		t.Errorf("seed 7 twice:\n%v\n%v", r, again)
	}
	if other, _ := run(8); other.String() == r.String() {
		t.Errorf("seeds 7 and 8 injected the same faults:\n%v", r)
	}
	t.Logf("seed 7, 1000 transactions:\n%v", r)
}

// A killed process makes no call after the point it died at; killed after
// sending, the engine got that last request.
func TestKill(t *testing.T) {
	ctx := context.Background()
	for _, afterSend := range []bool{false, true} {
		e := newEngine(t)
		in := faults.New(faults.Config{}) // kills need no enabling
		db := e.dynamo(in)
		in.KillAt(2, afterSend)
		if err := putItem(ctx, db); err != nil {
			t.Fatal(err)
		}
		err := transact(ctx, db, 2)
		var max *retry.MaxAttemptsError
		if !errors.Is(err, faults.ErrKilled) || errors.As(err, &max) {
			t.Errorf("the second call: %v", err)
		}
		if err := putItem(ctx, db); !errors.Is(err, faults.ErrKilled) {
			t.Errorf("a call after the kill: %v", err)
		}
		want := int64(1)
		if afterSend {
			want = 2
		}
		if dead, at := in.Killed(); !dead || at != "DynamoDB.TransactWriteItems" || e.requests.Load() != want {
			t.Errorf("afterSend %v: killed %v at %s; %d requests, want %d", afterSend, dead, at, e.requests.Load(), want)
		}
		in.KillAt(0, false)
		if err := putItem(ctx, db); err != nil {
			t.Errorf("a new process: %v", err)
		}
	}
}

// FailNext fails the chosen attempt of an operation, enabled or not, and
// nothing else.
func TestFailNext(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t)
	in := faults.New(faults.Config{})
	db := e.dynamo(in)
	in.FailNext("TransactWriteItems", faults.TransactionConflict, 1)
	if err := putItem(ctx, db); err != nil { // another operation: not counted
		t.Fatal(err)
	}
	if err := transact(ctx, db, 2); err != nil { // skipped
		t.Fatal(err)
	}
	var tc *types.TransactionCanceledException
	if err := transact(ctx, db, 2); !errors.As(err, &tc) {
		t.Fatalf("the planned fault: %v", err)
	}
	if err := transact(ctx, db, 2); err != nil {
		t.Fatal(err)
	}
	in.FailNext("", faults.TimeoutAfterSend, 0)
	if err := putItem(ctx, db); err != nil { // retried by the SDK: the second attempt succeeds
		t.Fatal(err)
	}
	if got := e.requests.Load(); got != 5 {
		t.Errorf("%d requests, want 5", got)
	}
	if r := in.Report(); r.Injected["DynamoDB/transaction_conflict"] != 1 || r.Injected["DynamoDB/timeout_after_send/PutItem"] != 1 {
		t.Errorf("%v", r.Injected)
	}
}
