package seedfn_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
)

// fakeSeeder stands in for the use case.
type fakeSeeder struct {
	mu    sync.Mutex
	calls int
	seed  func(ctx context.Context) error // nil: succeed
}

func (f *fakeSeeder) SeedDefaultLocation(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.seed != nil {
		return f.seed(ctx)
	}
	return nil
}

func (f *fakeSeeder) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// cloudFormation stands in for the pre-signed S3 URL CloudFormation waits
// at: it records each answer PUT to it.
type cloudFormation struct {
	*httptest.Server
	status int // what S3 answers (0: 200)

	mu      sync.Mutex
	answers []cfn.Response
}

func newCloudFormation(t *testing.T) *cloudFormation {
	t.Helper()
	c := &cloudFormation{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPut || r.URL.Path != "/cfn-response" || r.URL.Query().Get("X-Amz-Signature") == "" {
			t.Errorf("answer sent as %s %s", r.Method, r.URL)
		}
		// S3 rejects a Content-Type the URL was not signed with.
		if ct := r.Header.Get("Content-Type"); ct != "" {
			t.Errorf("answer sent with Content-Type %q", ct)
		}
		var a cfn.Response
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("answer is not JSON: %v: %s", err, body)
		}
		c.mu.Lock()
		c.answers = append(c.answers, a)
		c.mu.Unlock()
		if c.status != 0 {
			w.WriteHeader(c.status)
		}
	}))
	t.Cleanup(c.Close)
	return c
}

// only returns the one answer sent, failing the test unless there is
// exactly one.
func (c *cloudFormation) only(t *testing.T) cfn.Response {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.answers) != 1 {
		t.Fatalf("%d answers sent to the ResponseURL, want 1: %+v", len(c.answers), c.answers)
	}
	a := c.answers[0]
	c.answers = nil
	return a
}

func (c *cloudFormation) event(typ cfn.RequestType) cfn.Event {
	ev := cfn.Event{
		RequestType:       typ,
		RequestID:         "req-" + string(typ),
		ResponseURL:       c.URL + "/cfn-response?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc",
		ResourceType:      seedfn.ResourceType,
		LogicalResourceID: seedfn.ResourceLogicalID,
		StackID:           "arn:aws:cloudformation:eu-west-1:123456789012:stack/depot/5b5a2a60",
		ResourceProperties: map[string]any{
			"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:depot-SeedDefaultLocation-Ab12",
			"TableName":    "depot-Table-1A2B",
		},
	}
	if typ != cfn.RequestCreate {
		ev.PhysicalResourceID = seedfn.PhysicalResourceID
	}
	return ev
}

// logLines collects JSON log lines.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns the lines logged since the last call.
func (l *logLines) take(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(&l.buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		out = append(out, m)
	}
	l.buf.Reset()
	return out
}

// eventLine returns the one line logged for an event, checking that it
// carries what the integration suite's least-privilege check reads.
func (l *logLines) eventLine(t *testing.T, typ cfn.RequestType) map[string]any {
	t.Helper()
	lines := l.take(t)
	if len(lines) != 1 {
		t.Fatalf("%d log lines for one event, want 1: %v", len(lines), lines)
	}
	line := lines[0]
	if line["function"] != seedfn.Function || line["requestType"] != string(typ) {
		t.Errorf("log line %v: want function %s, requestType %s", line, seedfn.Function, typ)
	}
	if _, ok := line["grants"]; !ok {
		t.Errorf("log line %v has no grants", line)
	}
	return line
}

func newResource(seeder seedfn.Seeder) (*seedfn.Resource, *logLines) {
	logs := &logLines{}
	return &seedfn.Resource{Seeder: seeder, Table: "depot-Table-1A2B", Logger: slog.New(slog.NewJSONHandler(logs, nil))}, logs
}

func TestCustomResourceSucceeds(t *testing.T) {
	cf := newCloudFormation(t)
	seeder := &fakeSeeder{}
	r, logs := newResource(seeder)
	handle := r.Handler()
	for _, c := range []struct {
		typ   cfn.RequestType
		seeds int // calls of the use case so far
	}{
		{cfn.RequestCreate, 1},
		{cfn.RequestUpdate, 2},
		{cfn.RequestDelete, 2}, // the table is retained: nothing to do
	} {
		t.Run(string(c.typ), func(t *testing.T) {
			ev := cf.event(c.typ)
			got, err := handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("handler error %v", err)
			}
			a := cf.only(t)
			if a.Status != cfn.StatusSuccess || a.Reason != "" {
				t.Errorf("answer %+v, want SUCCESS", a)
			}
			if a.PhysicalResourceID != seedfn.PhysicalResourceID {
				t.Errorf("PhysicalResourceId %q, want the stable %q", a.PhysicalResourceID, seedfn.PhysicalResourceID)
			}
			if a.RequestID != ev.RequestID || a.LogicalResourceID != ev.LogicalResourceID || a.StackID != ev.StackID {
				t.Errorf("answer %+v does not echo the request's ids", a)
			}
			if got.Status != a.Status || got.PhysicalResourceID != a.PhysicalResourceID {
				t.Errorf("result %+v, sent %+v", got, a)
			}
			if n := seeder.count(); n != c.seeds {
				t.Errorf("the use case ran %d times, want %d", n, c.seeds)
			}
			if line := logs.eventLine(t, c.typ); line["level"] != "INFO" {
				t.Errorf("log line %v, want level INFO", line)
			}
		})
	}
}

func TestCustomResourceFails(t *testing.T) {
	cf := newCloudFormation(t)
	boom := errors.New("operation error DynamoDB: TransactWriteItems, ResourceNotFoundException: no such table")
	seeder := &fakeSeeder{seed: func(context.Context) error { return boom }}
	r, logs := newResource(seeder)
	handle := r.Handler()

	for _, typ := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
		if _, err := handle(context.Background(), cf.event(typ)); err != nil {
			t.Fatalf("%s: handler error %v; the failure was answered, so there is nothing to retry", typ, err)
		}
		a := cf.only(t)
		if a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, boom.Error()) ||
			!strings.Contains(a.Reason, "seed the default location") || !strings.Contains(a.Reason, "depot-Table-1A2B") {
			t.Errorf("%s: answer %+v, want FAILED with a reason naming the table and the error", typ, a)
		}
		if a.PhysicalResourceID != seedfn.PhysicalResourceID {
			t.Errorf("%s: PhysicalResourceId %q", typ, a.PhysicalResourceID)
		}
		if line := logs.eventLine(t, typ); line["level"] != "ERROR" || !strings.Contains(line["error"].(string), boom.Error()) {
			t.Errorf("%s: log line %v, want level ERROR with the error", typ, line)
		}
	}

	// A rollback or a stack deletion must not be stuck on a function
	// that cannot seed.
	if _, err := handle(context.Background(), cf.event(cfn.RequestDelete)); err != nil {
		t.Fatal(err)
	}
	if a := cf.only(t); a.Status != cfn.StatusSuccess {
		t.Errorf("Delete answered %+v, want SUCCESS", a)
	}
	logs.take(t)

	// An unknown request type is a failure, not silence.
	if _, err := handle(context.Background(), cf.event("Rename")); err != nil {
		t.Fatal(err)
	}
	if a := cf.only(t); a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, `"Rename"`) {
		t.Errorf("unknown request type answered %+v", a)
	}

	// A long error is cut to a reason CloudFormation accepts.
	seeder.seed = func(context.Context) error { return errors.New(strings.Repeat("é", 3000)) }
	if _, err := handle(context.Background(), cf.event(cfn.RequestCreate)); err != nil {
		t.Fatal(err)
	}
	if a := cf.only(t); a.Status != cfn.StatusFailed || len(a.Reason) > 1100 || !strings.HasSuffix(a.Reason, "…") {
		t.Errorf("long reason: %d bytes, status %s", len(a.Reason), a.Status)
	}
}

// TestCustomResourceInitFailure: a function that could not be configured
// still answers, so the stack does not wait an hour.
func TestCustomResourceInitFailure(t *testing.T) {
	cf := newCloudFormation(t)
	_, err := lambdafn.LoadSettings(seedfn.Grants, func(string) string { return "" })
	if err == nil {
		t.Fatal("settings without TABLE_NAME accepted")
	}
	logs := &logLines{}
	handle := (&seedfn.Resource{InitErr: err, Logger: slog.New(slog.NewJSONHandler(logs, nil))}).Handler()
	if _, err := handle(context.Background(), cf.event(cfn.RequestCreate)); err != nil {
		t.Fatal(err)
	}
	if a := cf.only(t); a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, "could not start") || !strings.Contains(a.Reason, "TABLE_NAME is not set") {
		t.Errorf("Create answered %+v, want FAILED naming the missing setting", a)
	}
	logs.eventLine(t, cfn.RequestCreate)
	if _, err := handle(context.Background(), cf.event(cfn.RequestDelete)); err != nil {
		t.Fatal(err)
	}
	if a := cf.only(t); a.Status != cfn.StatusSuccess {
		t.Errorf("Delete answered %+v, want SUCCESS", a)
	}
}

// TestCustomResourceAnswersBeforeTheTimeout: seeding that hangs gives up
// ResponseMargin before the invocation's deadline, and FAILED is sent.
func TestCustomResourceAnswersBeforeTheTimeout(t *testing.T) {
	cf := newCloudFormation(t)
	seeder := &fakeSeeder{seed: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	r, _ := newResource(seeder)
	ctx, cancel := context.WithTimeout(context.Background(), seedfn.ResponseMargin+300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Handler()(ctx, cf.event(cfn.RequestCreate)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answered after %s", d)
	}
	if ctx.Err() != nil {
		t.Error("answered after the deadline")
	}
	if a := cf.only(t); a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, "gave up") {
		t.Errorf("answer %+v, want FAILED saying it gave up", a)
	}
}

// TestCustomResourcePanics: cfn.LambdaWrap answers FAILED before the panic
// reaches the runtime.
func TestCustomResourcePanics(t *testing.T) {
	cf := newCloudFormation(t)
	r, _ := newResource(&fakeSeeder{seed: func(context.Context) error { panic("bug") }})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		_, _ = r.Handler()(context.Background(), cf.event(cfn.RequestCreate))
	}()
	if a := cf.only(t); a.Status != cfn.StatusFailed || a.Reason == "" {
		t.Errorf("answer %+v, want FAILED with a reason", a)
	}
}

// TestCustomResourceUndeliveredAnswer: when the answer cannot be sent, the
// invocation fails, so that Lambda retries it.
func TestCustomResourceUndeliveredAnswer(t *testing.T) {
	cf := newCloudFormation(t)
	cf.status = http.StatusForbidden
	r, _ := newResource(&fakeSeeder{})
	_, err := r.Handler()(context.Background(), cf.event(cfn.RequestCreate))
	if err == nil || !strings.Contains(err.Error(), "ResponseURL") {
		t.Errorf("err = %v, want the undelivered answer", err)
	}
	cf.only(t)
}

// TestHandMadeEvent: without a ResponseURL (make invoke, sam local invoke
// -e with events/seed-default-location.json) the answer is the result.
func TestHandMadeEvent(t *testing.T) {
	data, err := os.ReadFile("../../../events/seed-default-location.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev cfn.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	seeder := &fakeSeeder{}
	r, logs := newResource(seeder)
	got, err := r.Handler()(context.Background(), ev)
	if err != nil || got.Status != cfn.StatusSuccess || got.PhysicalResourceID != seedfn.PhysicalResourceID ||
		got.RequestID != ev.RequestID || seeder.count() != 1 {
		t.Fatalf("result %+v, %v; %d seeds", got, err, seeder.count())
	}
	logs.eventLine(t, cfn.RequestCreate)

	seeder.seed = func(context.Context) error { return errors.New("throttled") }
	got, err = r.Handler()(context.Background(), ev)
	if err == nil || !strings.Contains(err.Error(), "throttled") || got.Status != cfn.StatusFailed {
		t.Fatalf("failure: result %+v, %v", got, err)
	}
}

// TestSeedOnTheEngine runs Seed, as make run does, on the embedded engines
// (or those AWS_ENDPOINT_URL* name): the location exists after it, a
// second seed changes nothing, and between them the calls needed exactly
// the grants the function declares, its IAM policy: PutItem (the
// transaction) on a fresh table, and GetItem too on a seeded one.
func TestSeedOnTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the engines")
	}
	engines, err := localrun.UseEngines()
	if err != nil {
		t.Fatal(err)
	}
	defer engines.Close()
	ctx := context.Background()
	settings := lambdafn.Settings{TableName: "depot-seedfn-test", BucketName: "depot-seedfn-test"}
	if err := localrun.Provision(ctx, settings); err != nil {
		t.Fatal(err)
	}
	// Provision seeds, as a deploy does: remove what it put, for a table as
	// a fresh stack's.
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := lambdafn.NewDynamoClient(cfg)
	for _, k := range [][2]string{{"LOC#default", "LOC"}, {"LOCCODE#DEFAULT", "LOCCODE"}} {
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &settings.TableName, Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: k[0]}, "SK": &types.AttributeValueMemberS{Value: k[1]}}}); err != nil {
			t.Fatal(err)
		}
	}
	logs := &logLines{}
	settings.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	settings.Now = func() time.Time { return time.Date(2025, 11, 25, 5, 31, 14, 0, time.UTC) }

	grantsOf := func(line map[string]any) []string {
		var out []string
		list, _ := line["grants"].([]any)
		for _, g := range list {
			out = append(out, g.(string))
		}
		return out
	}
	used := map[string]bool{}
	for i, want := range [][]string{
		{"dynamodb:PutItem table"},
		{"dynamodb:GetItem table", "dynamodb:PutItem table"},
	} {
		if err := seedfn.Seed(ctx, settings); err != nil {
			t.Fatalf("seed %d: %v", i+1, err)
		}
		got := grantsOf(logs.eventLine(t, cfn.RequestCreate))
		if !slices.Equal(got, want) {
			t.Errorf("seed %d used %v, want %v", i+1, got, want)
		}
		for _, g := range got {
			used[g] = true
		}
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for g := range used {
			if !yield(g) {
				return
			}
		}
	}); !slices.Equal(got, seedfn.Grants.Strings()) {
		t.Errorf("seeding used %v, the function declares %v", got, seedfn.Grants.Strings())
	}

	loc, err := dynamo.New(db, settings.TableName).GetLocation(ctx, inventory.DefaultLocation)
	if err != nil {
		t.Fatal(err)
	}
	if loc.ID != inventory.DefaultLocation || loc.Code != inventory.DefaultLocationCode || loc.Version != 1 || loc.Deleted != nil {
		t.Errorf("default location %+v", loc)
	}
}
