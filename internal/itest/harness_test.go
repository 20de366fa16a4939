// Package itest is the integration suite: real HTTP through the local
// gateway, the functions' own Lambda handlers and the real AWS SDK to a real
// engine — the embedded ones, or moto when AWS_ENDPOINT_URL points at it.
package itest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	depot "github.com/depot-inventory/depot"
	"github.com/depot-inventory/depot/internal/dev/apitest"
	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

var (
	engines   *localrun.Engines
	validator *apitest.Validator
	issuer    *localauth.Issuer
	tableSeq  atomic.Int64
)

// Users of the suite, one per role; requests go as editor unless they say.
const (
	viewerEmail = "vera.viewer@example.com"
	editorEmail = "eddie.editor@example.com"
	adminEmail  = "ada.admin@example.com"
)

var tokens = map[string]string{} // by email

func mintTokens() error {
	for email, role := range map[string]string{viewerEmail: "viewer", editorEmail: "editor", adminEmail: "admin"} {
		tok, err := issuer.Mint(localauth.Claims{Email: email, Groups: []string{role}}, time.Hour)
		if err != nil {
			return err
		}
		tokens[email] = tok
	}
	return nil
}

// as is the Authorization header of the user.
func as(email string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tokens[email]}
}

func TestMain(m *testing.M) {
	var err error
	if engines, err = localrun.UseEngines(); err != nil {
		fmt.Fprintln(os.Stderr, "start engines:", err)
		os.Exit(1)
	}
	if validator, err = apitest.NewValidator(depot.OpenAPIYAML); err != nil {
		fmt.Fprintln(os.Stderr, "load openapi.yaml:", err)
		os.Exit(1)
	}
	stateDir, err := os.MkdirTemp("", "depot-itest-auth")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if issuer, err = localauth.LoadOrCreate(stateDir); err == nil {
		err = mintTokens()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "local issuer:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "itest engines: DynamoDB %s; S3 %s\n", engines.DynamoDB, engines.S3)
	code := m.Run()
	if code == 0 && wholeSuite() {
		for _, p := range grantProblems() {
			fmt.Fprintln(os.Stderr, "least privilege:", p)
			code = 1
		}
	}
	_ = engines.Close()
	_ = os.RemoveAll(stateDir)
	os.Exit(code)
}

// env is one test's own deployment: its own table and bucket.
type env struct {
	t     *testing.T
	url   string
	logs  *logBuffer
	stack *localrun.Stack
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith deploys with settings edit changes (a clock, a smaller upload
// limit).
func newEnvWith(t *testing.T, edit func(*lambdafn.Settings)) *env {
	t.Helper()
	n := tableSeq.Add(1)
	name := fmt.Sprintf("depot-itest-%d-%d", os.Getpid(), n)
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	settings := lambdafn.Settings{TableName: name, BucketName: strings.ToLower(name),
		DynamoDBOptions: []func(*dynamodb.Options){func(o *dynamodb.Options) { o.Retryer = shortBackoff(o.Retryer) }},
		S3Options:       []func(*s3.Options){func(o *s3.Options) { o.Retryer = shortBackoff(o.Retryer) }}}
	if edit != nil {
		edit(&settings)
	}
	stack, err := engines.Deploy(context.Background(), settings, issuer, logger)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	srv := httptest.NewServer(stack.Gateway)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { dropTable(t, name) })
	return &env{t: t, url: srv.URL, logs: logs, stack: stack}
}

// dropTable deletes a test's table once it has ended. moto deep-copies
// every table it holds on every transaction (to roll back), so each table
// left behind slowed every later test's writes (the search oracle's
// seeding took 100 s of the moto run); minidyn frees its memory.
func dropTable(t *testing.T, name string) {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		_, err = lambdafn.NewDynamoClient(cfg).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name})
	}
	if err != nil {
		t.Logf("drop table %s: %v", name, err)
	}
}

// shortBackoff keeps the SDK's retries (which errors, how many attempts,
// the retry quota) and waits testBackoff between them instead of up to
// 2^attempt seconds: the faults the suite injects come from its fault layer,
// not from a loaded engine that waiting would relieve, and the SDK's own
// waits made the fault workload spend most of its time asleep.
func shortBackoff(r aws.Retryer) aws.Retryer { return retry.AddWithMaxBackoffDelay(r, testBackoff) }

const testBackoff = 20 * time.Millisecond

// result is a response read whole.
type result struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

func (r result) code(t *testing.T) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("error Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	c, _ := r.json(t)["code"].(string)
	return c
}

// req is a request to send.
type req struct {
	Method, Path string
	Body         string
	Header       map[string]string // "" deletes a header (e.g. Authorization)
	NotInSpec    bool              // the request is outside the API (e.g. an unknown route)
}

// do sends the request and validates the response against openapi.yaml.
func (e *env) do(q req) result {
	e.t.Helper()
	var body io.Reader
	if q.Body != "" {
		body = strings.NewReader(q.Body)
	}
	r, err := http.NewRequest(q.Method, e.url+q.Path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if q.Body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+tokens[editorEmail])
	for k, v := range q.Header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", q.Method, q.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if q.NotInSpec {
		return result{Status: resp.StatusCode, Header: resp.Header, Body: data}
	}
	if err := validator.ValidateResponse(r, resp.StatusCode, resp.Header, data); err != nil {
		e.t.Errorf("%s %s -> %d does not match openapi.yaml: %v\nbody: %s", q.Method, q.Path, resp.StatusCode, err, data)
	}
	return result{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// must sends the request and fails the test unless the status is want.
func (e *env) must(want int, q req) result {
	e.t.Helper()
	res := e.do(q)
	if res.Status != want {
		var logged []string
		if res.Status >= 500 {
			for _, line := range strings.Split(e.logs.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					logged = append(logged, line)
				}
			}
		}
		e.t.Fatalf("%s %s: status %d, want %d; body %s%s", q.Method, q.Path, res.Status, want, res.Body, strings.Join(logged, "\n"))
	}
	return res
}

func (e *env) createItem(body string) map[string]any {
	e.t.Helper()
	return e.must(http.StatusCreated, req{Method: "POST", Path: "/items", Body: body}).json(e.t)
}

// logBuffer collects the JSON log lines of one test's stack.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	observeGrants(p) // slog writes one whole line per call
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// requests returns the per-request log lines so far.
func (l *logBuffer) requests(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
