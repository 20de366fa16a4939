package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/depot-inventory/depot/internal/dynamo"
)

// Idempotency limits.
const (
	IdempotencyTTL       = 24 * time.Hour
	maxIdempotencyKeyLen = 200
)

// idempotent runs a POST or DELETE at most once per Idempotency-Key: run
// gets a record to commit with its change (nil without a key); a retry
// with the same key and request replays the first response, and the same
// key with another request is refused.
func (a *api) idempotent(r *http.Request, body []byte, run func(*dynamo.IdempotencyRecord) response) response {
	key := r.Header.Get("Idempotency-Key")
	if _, sent := r.Header["Idempotency-Key"]; !sent {
		return run(nil)
	}
	if !validIdempotencyKey(key) {
		return problem(codeInvalidHeader, "Idempotency-Key must be 1 to 200 visible ASCII characters").response()
	}
	scope := actor(r.Context()) + "#" + key
	hash := requestHash(r, body)
	now := a.Now()
	if resp, done := a.replay(r, scope, hash, now); done {
		return resp
	}
	resp := run(&dynamo.IdempotencyRecord{Scope: scope, RequestHash: hash, ExpiresAt: now.Add(IdempotencyTTL)})
	if resp.code == codeIdempotencyInProgress {
		if replayed, done := a.replay(r, scope, hash, now); done {
			return replayed
		}
		return problem(codeIdempotencyInProgress, "a request with this Idempotency-Key is in progress; retry").response()
	}
	return resp
}

// replay answers from a stored record, if there is one.
func (a *api) replay(r *http.Request, scope, hash string, now time.Time) (response, bool) {
	rec, err := a.Store.GetIdempotency(r.Context(), scope, now)
	if err != nil {
		return a.failure(r, err), true
	}
	if rec == nil {
		return response{}, false
	}
	if rec.RequestHash != hash {
		return problem(codeIdempotencyKeyReused,
			"this Idempotency-Key was used with a different request in the last 24 hours; use a new key").response(), true
	}
	resp := response{status: rec.Status, header: http.Header{}, body: []byte(rec.Body)}
	for k, v := range rec.Headers {
		resp.header.Set(k, v)
	}
	resp.header.Set("Idempotent-Replayed", "true")
	return resp, true
}

// withResponse fills rec, if any, with the response it will replay.
func withResponse(rec *dynamo.IdempotencyRecord, resp response) *dynamo.IdempotencyRecord {
	if rec == nil {
		return nil
	}
	rec.Status = resp.status
	rec.Body = string(resp.body)
	rec.Headers = make(map[string]string, len(resp.header))
	for k := range resp.header {
		rec.Headers[k] = resp.header.Get(k)
	}
	return rec
}

func requestHash(r *http.Request, body []byte) string {
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
