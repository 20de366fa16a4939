package localrun

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 event names this engine emits (S3 sends ObjectCreated:* only for
// these four ways of creating an object).
const (
	EventObjectCreatedPut       = "ObjectCreated:Put"
	EventObjectCreatedPost      = "ObjectCreated:Post"
	EventObjectCreatedCopy      = "ObjectCreated:Copy"
	EventObjectCreatedMultipart = "ObjectCreated:CompleteMultipartUpload"
)

// Lambda's asynchronous invocation: the first attempt and two retries.
const notifyAttempts = 3

// S3Options configures the embedded S3.
type S3Options struct {
	// Notify receives the event notifications, as S3 invokes a Lambda
	// function asynchronously: one record per event, after the object is
	// stored, up to three attempts when it returns an error. Nil: no
	// notifications (until Notifier.SetTarget).
	Notify func(context.Context, events.S3Event) error
	// Bucket, Prefix and Suffix filter the notifications as a bucket
	// notification configuration does ("" matches all). The prefix and
	// suffix apply to the unescaped key, e.g. Prefix "uploads/".
	Bucket string
	Prefix string
	Suffix string
	// Events are the event names notified, e.g. ObjectCreated:Post (none:
	// every ObjectCreated event), as a notification's event types are.
	Events []string
	// Also are more notifiers, each with its own filters, target and
	// bound, told of the same objects (another function's notification
	// configuration on the bucket); the engine closes them with its own.
	Also []*Notifier
	// Region is the events' awsRegion (default us-east-1) and, when set,
	// the only region requests may be signed for, as a bucket's region is
	// on S3 (AuthorizationHeaderMalformed otherwise); unset, a request may
	// name any region in its credential scope.
	Region string
	// Credentials are the access keys requests must be signed with, access
	// key ID to secret access key (default: LocalAccessKeyID with
	// LocalSecretAccessKey, the ones UseEngines puts in the environment).
	Credentials map[string]string
	// Backoff is the wait before the first retry, doubled before the second
	// (default 200ms; Lambda waits a minute, then two).
	Backoff time.Duration
	// Timeout bounds one attempt, as a function's timeout does
	// (default 30s).
	Timeout time.Duration
	// MaxConcurrency bounds the attempts in flight, as the function's
	// reserved concurrency does (0: no bound). Lambda queues the events it
	// throttles and retries them: here further events wait for a free
	// instance, without using an attempt or starting their Timeout.
	MaxConcurrency int
	// MaxPostBytes caps a browser POST upload's file whatever its policy's
	// content-length-range (default 64 MiB; the engine keeps objects in
	// memory).
	MaxPostBytes int64
	// Logger receives delivery failures (default slog.Default()).
	Logger *slog.Logger
}

// StartS3WithEvents starts the embedded S3 with authenticated requests
// (s3auth.go), policy-checked browser POST uploads (s3post.go), stored
// checksums (s3checksum.go) and S3 event notifications for created objects.
// Closing the engine stops the notifier after the server.
func StartS3WithEvents(opts S3Options) (*Engine, *Notifier, error) {
	return startS3(opts, nil)
}

// startS3 starts the embedded S3, keeping its data in store when not nil
// (its log replayed first: datastore.go).
func startS3(opts S3Options, store *DataStore) (*Engine, *Notifier, error) {
	h, n := newS3Handler(opts)
	closeAll := func() error {
		for _, other := range opts.Also {
			other.Close()
		}
		return n.Close()
	}
	if store != nil {
		j, err := store.open(s3LogFile, h.replayS3)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		h.journal = j
	}
	e, err := serve("gofakes3 (embedded S3)", h)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	e.onClose = closeAll
	return e, n, nil
}

// Notifier delivers S3 event notifications asynchronously.
type Notifier struct {
	bucket, prefix, suffix string
	events                 []string
	region                 string
	backoff, timeout       time.Duration
	logger                 *slog.Logger

	mu       sync.Mutex
	notify   func(context.Context, events.S3Event) error
	closed   bool
	inflight int
	idle     chan struct{} // closed while nothing is in flight
	lastSeq  int64
	stop     chan struct{} // closed by Close: retries still waiting are dropped
	slots    chan struct{} // one per attempt in flight, MaxConcurrency of them; nil: no bound
}

// NewNotifier returns a notifier configured by opts (MaxPostBytes unused).
func NewNotifier(opts S3Options) *Notifier {
	n := &Notifier{
		bucket: opts.Bucket, prefix: opts.Prefix, suffix: opts.Suffix, events: opts.Events,
		region: opts.Region, backoff: opts.Backoff, timeout: opts.Timeout, logger: opts.Logger,
		notify: opts.Notify, idle: make(chan struct{}), stop: make(chan struct{}),
	}
	close(n.idle)
	if opts.MaxConcurrency > 0 {
		n.slots = make(chan struct{}, opts.MaxConcurrency)
	}
	if n.region == "" {
		n.region = "us-east-1"
	}
	if n.backoff <= 0 {
		n.backoff = 200 * time.Millisecond
	}
	if n.timeout <= 0 {
		n.timeout = 30 * time.Second
	}
	if n.logger == nil {
		n.logger = slog.Default()
	}
	return n
}

// SetTarget sets (or, with nil, removes) the function notified of later
// events, for a target that exists only once the engine runs.
func (n *Notifier) SetTarget(notify func(context.Context, events.S3Event) error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notify = notify
}

// Wait returns once no delivery is in flight (every event of an object
// created before the call has been delivered or given up), or ctx is done.
func (n *Notifier) Wait(ctx context.Context) error {
	n.mu.Lock()
	idle := n.idle
	n.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// MaxConcurrency is the bound on attempts in flight (0: none).
func (n *Notifier) MaxConcurrency() int { return cap(n.slots) }

// Close stops taking events, drops the retries still waiting for their
// backoff and the events waiting for a free instance, and waits for the
// attempts under way to return.
func (n *Notifier) Close() error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.stop)
	}
	idle := n.idle
	n.mu.Unlock()
	<-idle
	return nil
}

// created is told of every object stored; it queues the notification if
// a target is set and the filters match.
func (n *Notifier) created(eventName, bucket, key string, size int64, etag string, version gofakes3.VersionID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	notify := n.notify
	if n.closed || notify == nil || !n.matches(bucket, key) || (len(n.events) > 0 && !slices.Contains(n.events, eventName)) {
		return
	}
	now := time.Now().UTC()
	// The sequencer orders the events of a key: a hex number that grows.
	seq := now.UnixNano()
	if seq <= n.lastSeq {
		seq = n.lastSeq + 1
	}
	n.lastSeq = seq
	payload, err := json.Marshal(s3EventJSON{Records: []s3RecordJSON{{
		EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: n.region,
		EventTime:         now.Format("2006-01-02T15:04:05.000Z"),
		EventName:         eventName,
		UserIdentity:      principal{PrincipalID: "AWS:LOCALRUNPRINCIPAL"},
		RequestParameters: requestParameters{SourceIPAddress: "127.0.0.1"},
		ResponseElements: map[string]string{
			"x-amz-request-id": strings.ToUpper(randomHex(8)),
			"x-amz-id-2":       base64.StdEncoding.EncodeToString([]byte(randomHex(24))),
		},
		S3: s3EntityJSON{
			SchemaVersion: "1.0", ConfigurationID: "localrun-notification",
			Bucket: s3BucketJSON{Name: bucket, OwnerIdentity: principal{PrincipalID: "LOCALRUNOWNER"}, ARN: "arn:aws:s3:::" + bucket},
			Object: s3ObjectJSON{Key: EventKey(key), Size: size, ETag: etag, VersionID: string(version),
				Sequencer: fmt.Sprintf("%016X", seq)},
		},
	}}})
	if err != nil { // cannot happen: plain strings and numbers
		n.logger.Error("S3 event notification not encoded", "key", key, "error", err.Error())
		return
	}
	if n.inflight == 0 {
		n.idle = make(chan struct{})
	}
	n.inflight++
	go n.deliver(notify, eventName, key, payload)
}

func (n *Notifier) matches(bucket, key string) bool {
	return (n.bucket == "" || n.bucket == bucket) && strings.HasPrefix(key, n.prefix) && strings.HasSuffix(key, n.suffix)
}

// deliver invokes the target as Lambda's asynchronous invocation does:
// on error it retries twice after a backoff, then gives up and logs.
func (n *Notifier) deliver(notify func(context.Context, events.S3Event) error, eventName, key string, payload []byte) {
	defer n.done()
	wait := n.backoff
	var err error
	for attempt := 1; attempt <= notifyAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(wait):
				wait *= 2
			case <-n.stop:
				n.logger.Warn("S3 event notification dropped: engine closed before its retry",
					"event", eventName, "key", key, "attempts", attempt-1, "error", err.Error())
				return
			}
		}
		if !n.acquire() {
			n.logger.Warn("S3 event notification dropped: engine closed while it waited for a free instance",
				"event", eventName, "key", key, "attempts", attempt-1)
			return
		}
		// The runtime decodes the JSON afresh for every attempt.
		var ev events.S3Event
		if err = json.Unmarshal(payload, &ev); err == nil {
			err = n.invoke(notify, ev)
		}
		n.release()
		if err == nil {
			if attempt > 1 {
				n.logger.Info("S3 event notification delivered after retries", "event", eventName, "key", key, "attempt", attempt)
			}
			return
		}
		n.logger.Debug("S3 event notification attempt failed", "event", eventName, "key", key, "attempt", attempt, "error", err.Error())
	}
	n.logger.Error("S3 event notification failed; given up", "event", eventName, "key", key,
		"attempts", notifyAttempts, "error", err.Error())
}

// acquire waits for a free instance when MaxConcurrency bounds them; false
// when the notifier closed first.
func (n *Notifier) acquire() bool {
	if n.slots == nil {
		return true
	}
	select {
	case n.slots <- struct{}{}:
		return true
	case <-n.stop:
		return false
	}
}

func (n *Notifier) release() {
	if n.slots != nil {
		<-n.slots
	}
}

func (n *Notifier) invoke(notify func(context.Context, events.S3Event) error, ev events.S3Event) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return notify(ctx, ev)
}

func (n *Notifier) done() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inflight--
	if n.inflight == 0 {
		close(n.idle)
	}
}

// EventKey encodes an object key as S3 event notifications carry it:
// form-style (url.QueryEscape: space as '+', '+' as %2B), with '/' kept.
func EventKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// The notification's JSON as S3 writes it (events.S3Event would add
// urlDecodedKey, which S3 does not send).
type s3EventJSON struct {
	Records []s3RecordJSON `json:"Records"`
}

type s3RecordJSON struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      principal         `json:"userIdentity"`
	RequestParameters requestParameters `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                s3EntityJSON      `json:"s3"`
}

type principal struct {
	PrincipalID string `json:"principalId"`
}

type requestParameters struct {
	SourceIPAddress string `json:"sourceIPAddress"`
}

type s3EntityJSON struct {
	SchemaVersion   string       `json:"s3SchemaVersion"`
	ConfigurationID string       `json:"configurationId"`
	Bucket          s3BucketJSON `json:"bucket"`
	Object          s3ObjectJSON `json:"object"`
}

type s3BucketJSON struct {
	Name          string    `json:"name"`
	OwnerIdentity principal `json:"ownerIdentity"`
	ARN           string    `json:"arn"`
}

type s3ObjectJSON struct {
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"eTag"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer"`
}

// eventBackend is the in-memory backend telling the notifier of every
// object created, and storing objects' metadata as S3 does (storedMeta: the
// object's checksum, no request-only headers). It embeds *s3mem.Backend so
// that gofakes3 still finds the versioning methods.
type eventBackend struct {
	*s3mem.Backend
	notifier *notifiers
}

// notifiers tell every notifier of an object created.
type notifiers []*Notifier

func (ns *notifiers) created(eventName, bucket, key string, size int64, etag string, version gofakes3.VersionID) {
	for _, n := range *ns {
		n.created(eventName, bucket, key, size, etag, version)
	}
}

// eventNameMeta is a request header the HTTP layer sets to name the event
// of a write the backend cannot tell apart by itself; gofakes3 passes
// X-Amz-* headers to the backend as metadata, and the backend removes it
// before storing.
const eventNameMeta = "X-Amz-Localrun-Event-Name"

// PutObject stores a PUT (or, when the initiating request was marked, a
// completed multipart upload).
func (b *eventBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	name := EventObjectCreatedPut
	if v, ok := meta[eventNameMeta]; ok {
		delete(meta, eventNameMeta)
		if v == EventObjectCreatedMultipart {
			name = v
		}
	}
	result, _, err := b.put(name, bucket, key, meta, input, size, conditions)
	return result, err
}

// put stores an object and tells the notifier; it returns the object's
// ETag (hex MD5). The object's checksum is the PUT's own (verified by the
// front), or else CRC64NVME; a multipart upload's is always CRC64NVME over
// the whole object (see s3checksum.go).
func (b *eventBackend) put(eventName, bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, string, error) {
	data, err := gofakes3.ReadAll(input, size)
	if err != nil {
		return gofakes3.PutObjectResult{}, "", err
	}
	meta = storedMeta(meta, data, algCRC64NVME, eventName == EventObjectCreatedPut)
	result, err := b.Backend.PutObject(bucket, key, meta, bytes.NewReader(data), size, conditions)
	if err != nil {
		return result, "", err
	}
	sum := md5.Sum(data)
	etag := hex.EncodeToString(sum[:])
	b.notifier.created(eventName, bucket, key, size, etag, result.VersionID)
	return result, etag, nil
}

// CopyObject copies and tells the notifier of the new object. The copy's
// checksum is computed over its bytes with the algorithm the request asks
// for (x-amz-checksum-algorithm), else the source's.
func (b *eventBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	delete(meta, eventNameMeta)
	src, err := b.Backend.GetObject(srcBucket, srcKey, nil)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	defer src.Contents.Close()
	data, err := gofakes3.ReadAll(src.Contents, src.Size)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	alg := storedAlgorithm(src.Metadata)
	for k, v := range meta {
		if strings.EqualFold(k, "X-Amz-Checksum-Algorithm") {
			alg = strings.ToUpper(v)
		}
	}
	result, err := b.Backend.PutObject(dstBucket, dstKey, storedMeta(meta, data, alg, false), bytes.NewReader(data), src.Size, nil)
	if err != nil {
		return gofakes3.CopyObjectResult{}, err
	}
	sum := md5.Sum(data)
	etag := hex.EncodeToString(sum[:])
	b.notifier.created(EventObjectCreatedCopy, dstBucket, dstKey, src.Size, etag, result.VersionID)
	return gofakes3.CopyObjectResult{ETag: `"` + etag + `"`, LastModified: gofakes3.NewContentTime(time.Now())}, nil
}
