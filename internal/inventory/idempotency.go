package inventory

import (
	"encoding/base64"
	"time"
)

// IdempotencyTTL is how long a request's idempotency key stays bound to its
// first result.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is the result of the first request made with an
// idempotency key. It is written in the same transaction as the change the
// request made, so either both exist or neither does.
type IdempotencyRecord struct {
	Scope       string // who and which key (IdempotencyScope)
	Operation   string // the use case that ran, e.g. "CreateItem"
	RequestHash string // of the operation and its input
	Result      []byte // the result, encoded by the use case
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// IdempotencyScope is the scope of a caller's key. Keys are only ever shared
// by one caller; the actor is encoded (base64url, which has no '#') so that
// no two (actor, key) pairs share a scope: "a@x#k" with key "1" and "a@x"
// with key "k#1" stay apart.
func IdempotencyScope(actor, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(actor)) + "#" + key
}
