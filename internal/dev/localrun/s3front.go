package localrun

import (
	"net/http"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3Handler is the embedded S3's HTTP front. It does what gofakes3 does
// not and S3 does: it authenticates every request (s3auth.go), checks
// bodies and their checksums (s3payload.go), returns stored checksums
// (s3checksum.go) and handles browser POST uploads (s3post.go); gofakes3
// serves the rest.
type s3Handler struct {
	fake         http.Handler
	backend      *eventBackend
	auth         *s3Auth
	now          func() time.Time
	maxPostBytes int64
	// clock is gofakes3's and the backend's time (datastore.go).
	clock *engineClock
	// journal logs the changes when the engine keeps its data
	// (datastore.go); nil: in memory only.
	journal *journal
}

// newS3Handler builds the engine's front, backend and notifier from opts.
func newS3Handler(opts S3Options) (*s3Handler, *Notifier) {
	n := NewNotifier(opts)
	all := append(notifiers{n}, opts.Also...)
	clock := &engineClock{}
	backend := &eventBackend{Backend: s3mem.New(s3mem.WithTimeSource(clock)), notifier: &all}
	// The front checks the request time (RequestTimeTooSkewed), against
	// its own clock; gofakes3's check would use another.
	faker := gofakes3.New(backend, gofakes3.WithAutoBucket(false), gofakes3.WithTimeSkewLimit(0), gofakes3.WithTimeSource(clock))
	secrets := opts.Credentials
	if len(secrets) == 0 {
		secrets = map[string]string{LocalAccessKeyID: LocalSecretAccessKey}
	}
	h := &s3Handler{fake: faker.Server(), backend: backend, now: time.Now, maxPostBytes: opts.MaxPostBytes, clock: clock}
	h.auth = &s3Auth{secrets: secrets, region: opts.Region, now: func() time.Time { return h.now() }}
	if h.maxPostBytes <= 0 {
		h.maxPostBytes = 64 << 20
	}
	return h, n
}

func (h *s3Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		// A CORS preflight: S3 answers it without authentication.
		h.fake.ServeHTTP(w, r)
		return
	}
	if bucket, ok := browserPost(r); ok {
		h.servePost(w, r, bucket)
		return
	}
	s, e := h.auth.verify(r)
	if e == nil {
		e = readPayload(r, s)
	}
	if e != nil {
		writeS3Error(w, r, e)
		return
	}
	// These headers are ours to set, never a client's (once its signature
	// has been checked, with them).
	r.Header.Del(eventNameMeta)
	r.Header.Del(checksumMeta)
	if _, ok := r.URL.Query()["uploads"]; ok && r.Method == http.MethodPost {
		// Initiating a multipart upload: gofakes3 keeps the request's
		// X-Amz-* headers and hands them to PutObject when it completes.
		r.Header.Set(eventNameMeta, EventObjectCreatedMultipart)
	}
	mode := r.Header.Get("X-Amz-Checksum-Mode")
	for k, v := range r.URL.Query() {
		// A presigned URL carries it in its query (the SDK hoists it there).
		if strings.EqualFold(k, "x-amz-checksum-mode") && len(v) > 0 {
			mode = v[0]
		}
	}
	cw := &checksumWriter{ResponseWriter: w, enabled: strings.EqualFold(mode, "ENABLED")}
	if h.journal != nil && s3Changes(r) {
		h.serveLogged(cw, r)
	} else {
		h.fake.ServeHTTP(cw, r)
	}
	cw.finish()
}
