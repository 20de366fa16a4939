package inventory

import (
	"errors"
	"fmt"
)

// Kind is the class of an error, independent of any transport. Every error
// Depot answers with has one; the HTTP API maps each kind to exactly one
// status (httpapi.statusOf), and nothing else decides a status.
type Kind uint8

// The kinds. The zero Kind is KindInternal: an error that is not an *Error
// is a fault, logged and answered without details.
const (
	KindInternal             Kind = iota // a fault of Depot or below it
	KindInvalid                          // the request is malformed or breaks a rule
	KindUnauthenticated                  // no verified identity
	KindForbidden                        // the caller's role is too low
	KindNotFound                         // what the request names does not exist, or not in the state it needs
	KindConflict                         // the change conflicts with the current state
	KindPrecondition                     // a precondition the caller set (If-Match) does not hold
	KindUnprocessable                    // well-formed, but can't be processed as sent
	KindTooLarge                         // the request is over a size limit
	KindUnsupportedMediaType             // the body's media type is not accepted
	KindUnavailable                      // a dependency is unavailable or throttling; retry later
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not found", "conflict",
	"precondition", "unprocessable", "too large", "unsupported media type", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Codes of the domain and use cases. Codes are a contract: clients switch on
// them, so an existing code never changes.
const (
	CodeValidationFailed      = "validation_failed"
	CodeInvalidCursor         = "invalid_cursor"
	CodeInvalidParameter      = "invalid_parameter"
	CodeItemNotFound          = "item_not_found"
	CodeItemDeleted           = "item_deleted"
	CodeItemNotDeleted        = "item_not_deleted"
	CodeSKUConflict           = "sku_conflict"
	CodeVersionConflict       = "version_conflict"
	CodePreconditionFailed    = "precondition_failed"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeIdempotencyInProgress = "idempotency_in_progress"
	CodeUploadExpired         = "upload_expired"
	CodeLocationNotFound      = "location_not_found"
	CodeLocationDeleted       = "location_deleted"
	CodeLocationNotDeleted    = "location_not_deleted"
	CodeLocationCodeConflict  = "location_code_conflict"
	CodeLocationNotEmpty      = "location_not_empty"
	CodeLocationProtected     = "location_protected"
	CodeInsufficientStock     = "insufficient_stock"
	CodeCountMismatch         = "count_mismatch"
	CodeUseAdjustments        = "use_adjustments"
	CodeGroupNotFound         = "group_not_found"
	CodeGroupDeleted          = "group_deleted"
	CodeGroupNotDeleted       = "group_not_deleted"
	CodeGroupNameConflict     = "group_name_conflict"
	CodeItemGroupLimit        = "item_group_limit"
	CodeChangeTooLarge        = "change_too_large"
	CodeExportNotFound        = "export_not_found"
	CodeImportNotFound        = "import_not_found"
	CodeServiceUnavailable    = "service_unavailable"
	CodeInternal              = "internal_error"
)

// FieldError is one problem with one field of the input, the field named by
// a JSON pointer such as "/tags/3" (or a parameter name such as "limit").
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Available is the level's available stock, on each short line of an
	// insufficient_stock error.
	Available *int64 `json:"available,omitempty"`
	// OnHand is the level's current on hand, on a count_mismatch error.
	OnHand *int64 `json:"onHand,omitempty"`
}

// Error is an error with a kind and a stable code.
type Error struct {
	Kind    Kind
	Code    string
	Message string       // for people; never holds secrets or internals
	Fields  []FieldError // per-field problems, mostly with KindInvalid
	// CurrentStatus is a shipment's status, on an invalid_transition.
	CurrentStatus string
	Err           error // the cause, for logs; not shown to callers
}

func (e *Error) Error() string {
	msg := e.Code + ": " + e.Message
	if len(e.Fields) > 0 {
		msg += fmt.Sprintf(" (%d field errors)", len(e.Fields))
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the kind and code with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a KindInvalid error with its field errors.
func Invalid(code, message string, fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Code: code, Message: message, Fields: fields}
}

// Unavailable wraps a dependency's failure that a retry may cure.
func Unavailable(err error) *Error {
	return &Error{Kind: KindUnavailable, Code: CodeServiceUnavailable,
		Message: "a service Depot depends on is busy or unavailable; retry shortly", Err: err}
}

// KindOf returns the kind of err: that of the *Error it is or wraps, else
// KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// CodeOf returns the code of the *Error err is or wraps, else "".
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Errors storage reports and the use cases act on.
var (
	// ErrStale: the record changed since it was read (a failed version
	// condition, or a conflict with a concurrent transaction).
	ErrStale = errors.New("inventory: changed since it was read")
	// ErrIdempotencyRace: another request with the same idempotency key
	// committed first.
	ErrIdempotencyRace = errors.New("inventory: idempotency key used concurrently")
	// ErrObjectNotFound: no object has the key.
	ErrObjectNotFound = errors.New("inventory: object not found")
	// ErrObjectTooLarge: the object is larger than the reader accepts.
	ErrObjectTooLarge = errors.New("inventory: object too large")
	// ErrObjectChanged: the object is no longer the one read before (its
	// entity tag changed).
	ErrObjectChanged = errors.New("inventory: object changed")
)
