package usecase

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/depot-inventory/depot/internal/inventory"
)

// pending is the idempotency record a request with a key will write with
// its change; a nil *pending (a request without a key) writes none.
type pending struct {
	rec inventory.IdempotencyRecord
}

// record returns the record to commit, holding result; nil for a nil p.
func (p *pending) record(result any) (*inventory.IdempotencyRecord, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("encode the result of %s: %w", p.rec.Operation, err)
	}
	rec := p.rec
	rec.Result = b
	return &rec, nil
}

// once runs an operation at most once per idempotency key. Without a key it
// just runs. With one, a request already made within IdempotencyTTL with the
// same operation and input gets the first result again (replayed is true)
// and writes nothing; the same key with another request is
// idempotency_key_reused. run commits the record p gives it with its change,
// so that the change and its record exist together or not at all; when two
// requests with one key race, the loser answers the winner's result, or
// idempotency_in_progress if that is not readable yet.
func once[T any](ctx context.Context, s *Service, op string, req Request, input any, run func(p *pending) (T, error)) (result T, replayed bool, err error) {
	if req.IdempotencyKey == "" {
		result, err = run(nil)
		return result, false, err
	}
	now := s.now()
	p := &pending{rec: inventory.IdempotencyRecord{
		Scope:       inventory.IdempotencyScope(req.Actor, req.IdempotencyKey),
		Operation:   op,
		RequestHash: requestHash(op, req.IfMatch, input),
		CreatedAt:   now,
		ExpiresAt:   now.Add(inventory.IdempotencyTTL),
	}}
	if result, found, err := replay[T](ctx, s, p); found || err != nil {
		return result, found, err
	}
	result, err = run(p)
	if errors.Is(err, inventory.ErrIdempotencyRace) {
		if result, found, err := replay[T](ctx, s, p); found || err != nil {
			return result, found, err
		}
		return result, false, inventory.Errorf(inventory.KindConflict, inventory.CodeIdempotencyInProgress,
			"a request with this Idempotency-Key is in progress; retry")
	}
	return result, false, err
}

// replay returns the recorded result of p's scope, if there is one.
func replay[T any](ctx context.Context, s *Service, p *pending) (result T, found bool, err error) {
	rec, err := s.Store.GetIdempotency(ctx, p.rec.Scope, p.rec.CreatedAt)
	if err != nil || rec == nil {
		return result, false, err
	}
	if rec.RequestHash != p.rec.RequestHash {
		return result, false, inventory.Errorf(inventory.KindUnprocessable, inventory.CodeIdempotencyKeyReused,
			"this Idempotency-Key was used with a different request in the last 24 hours; use a new key")
	}
	if err := json.Unmarshal(rec.Result, &result); err != nil {
		return result, false, fmt.Errorf("decode the recorded result of %s: %w", rec.Operation, err)
	}
	return result, true, nil
}

// requestHash identifies a request: its operation, precondition and input.
func requestHash(op string, ifMatch *inventory.IfMatch, input any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	// Encoding what the use cases pass (strings, numbers, slices, structs of
	// those) cannot fail.
	_ = enc.Encode(op)
	_ = enc.Encode(ifMatch)
	_ = enc.Encode(input)
	return hex.EncodeToString(h.Sum(nil))
}
