package localrun

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// gate is a Notify target that holds every invocation until released and
// records how many were in flight at most.
type gate struct {
	timeout time.Duration
	started chan string   // the key of each invocation, as it starts
	release chan struct{} // one value lets one invocation return

	mu        sync.Mutex
	inFlight  int
	maxFlight int
	delivered []string
	late      []string // keys whose invocation started with less than its whole timeout left
}

func newGate(timeout time.Duration) *gate {
	return &gate{timeout: timeout, started: make(chan string, 64), release: make(chan struct{})}
}

func (g *gate) notify(ctx context.Context, ev events.S3Event) error {
	key := ev.Records[0].S3.Object.Key
	g.mu.Lock()
	g.inFlight++
	g.maxFlight = max(g.maxFlight, g.inFlight)
	// The wait for an instance must not eat into the invocation's timeout.
	if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) < g.timeout*9/10 {
		g.late = append(g.late, key)
	}
	g.mu.Unlock()
	g.started <- key
	<-g.release
	g.mu.Lock()
	g.inFlight--
	g.delivered = append(g.delivered, key)
	g.mu.Unlock()
	return nil
}

// startBoundedS3 starts the embedded S3 with notifications for uploads/ to
// target, at most limit in flight, and returns a client of it.
func startBoundedS3(t *testing.T, limit int, timeout time.Duration, target func(context.Context, events.S3Event) error, logs *bytes.Buffer) (*Notifier, *s3.Client) {
	t.Helper()
	e, n, err := StartS3WithEvents(S3Options{
		Notify: target, Prefix: "uploads/", MaxConcurrency: limit, Timeout: timeout,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(e.URL), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
		}),
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("images")}); err != nil {
		t.Fatal(err)
	}
	return n, client
}

// TestNotifierHonoursConcurrencyBound uploads 8 objects at once to an S3
// whose notifications may have 2 invocations in flight: never more than 2
// run, the others wait (without failing, retrying or starting their
// timeout) and all 8 are delivered once.
func TestNotifierHonoursConcurrencyBound(t *testing.T) {
	const limit, uploads = 2, 8
	const timeout = 2 * time.Second
	g := newGate(timeout)
	var logs bytes.Buffer
	n, client := startBoundedS3(t, limit, timeout, g.notify, &logs)
	if n.MaxConcurrency() != limit {
		t.Fatalf("MaxConcurrency() = %d, want %d", n.MaxConcurrency(), limit)
	}

	var puts sync.WaitGroup
	for i := range uploads {
		puts.Go(func() {
			_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String("images"), Key: aws.String(fmt.Sprintf("uploads/I/%d", i)), Body: strings.NewReader("x"),
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	puts.Wait() // every PUT answered: the 8 events are queued

	for range limit {
		<-g.started
	}
	// Held past a whole timeout: the waiting events neither start nor fail.
	select {
	case key := <-g.started:
		t.Fatalf("invocation for %s started while %d were in flight", key, limit)
	case <-time.After(timeout + 500*time.Millisecond):
	}
	// Let them through one at a time: each release lets exactly one more in.
	for i := range uploads {
		g.release <- struct{}{}
		if i+limit < uploads {
			select {
			case <-g.started:
			case <-time.After(5 * time.Second):
				t.Fatalf("after %d releases, no further invocation started", i+1)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if g.maxFlight != limit {
		t.Errorf("at most %d invocations in flight, want %d", g.maxFlight, limit)
	}
	slices.Sort(g.delivered)
	var want []string
	for i := range uploads {
		want = append(want, fmt.Sprintf("uploads/I/%d", i))
	}
	if !slices.Equal(g.delivered, want) {
		t.Errorf("delivered %v, want each of %v once", g.delivered, want)
	}
	if len(g.late) != 0 {
		t.Errorf("invocations started with part of their timeout used up waiting: %v", g.late)
	}
	if s := logs.String(); strings.Contains(s, "failed") || strings.Contains(s, "retries") || strings.Contains(s, "dropped") {
		t.Errorf("logs: %s", s)
	}
}

// TestNotifierCloseDropsEventsWaitingForAnInstance: Close waits for the
// invocation under way and drops the events still waiting for a slot.
func TestNotifierCloseDropsEventsWaitingForAnInstance(t *testing.T) {
	g := newGate(time.Minute)
	var logs bytes.Buffer
	n := NewNotifier(S3Options{Notify: g.notify, MaxConcurrency: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 3 {
		n.created(EventObjectCreatedPut, "b", "uploads/"+strconv.Itoa(i), 1, "etag", "")
	}
	<-g.started
	closed := make(chan struct{})
	go func() {
		_ = n.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while an invocation was under way")
	case <-time.After(100 * time.Millisecond):
	}
	g.release <- struct{}{}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.delivered) != 1 || g.maxFlight != 1 {
		t.Errorf("delivered %v, at most %d in flight; want 1 and 1", g.delivered, g.maxFlight)
	}
	if c := strings.Count(logs.String(), "waited for a free instance"); c != 2 {
		t.Errorf("%d events logged as dropped, want 2: %s", c, logs.String())
	}
}

// TestThumbnailConcurrencyFromTemplate checks that the embedded S3 of the
// runtime bounds MakeThumbnails by its ReservedConcurrentExecutions in
// template.yaml.
func TestThumbnailConcurrencyFromTemplate(t *testing.T) {
	tpl, err := Template()
	if err != nil {
		t.Fatal(err)
	}
	written := tpl.Functions[ThumbnailFunction].ReservedConcurrentExecutions
	reserved, err := strconv.Atoi(written)
	if err != nil || reserved < 1 {
		t.Fatalf("%s ReservedConcurrentExecutions = %q, want a positive number", ThumbnailFunction, written)
	}
	if got, err := ThumbnailConcurrency(); got != reserved || err != nil {
		t.Errorf("ThumbnailConcurrency() = %d, %v; want %d", got, err, reserved)
	}

	engines := useEmbeddedEngines(t)
	if engines.Notifier == nil {
		t.Fatal("embedded engines without a notifier")
	}
	if got := engines.Notifier.MaxConcurrency(); got != reserved {
		t.Errorf("the runtime's S3 notifications allow %d invocations in flight, template.yaml reserves %d", got, reserved)
	}
}

// useEmbeddedEngines runs UseEngines with embedded engines, closed and the
// SDK's variables it sets restored when t ends.
func useEmbeddedEngines(t *testing.T) *Engines {
	t.Helper()
	for _, name := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3"} {
		value, set := os.LookupEnv(name)
		t.Setenv(name, value) // restored when t ends
		if !set || strings.HasPrefix(name, "AWS_ENDPOINT_URL") {
			os.Unsetenv(name)
		}
	}
	engines, err := UseEngines()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engines.Close() })
	return engines
}
