package inventory

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code; clients switch on it.
type Code string

// Error codes of the domain. The HTTP layer maps each to a status.
const (
	CodeValidationFailed   Code = "validation_failed"
	CodeItemNotFound       Code = "item_not_found"
	CodeItemDeleted        Code = "item_deleted"
	CodeItemNotDeleted     Code = "item_not_deleted"
	CodeSKUConflict        Code = "sku_conflict"
	CodePreconditionFailed Code = "precondition_failed"
	CodeVersionConflict    Code = "version_conflict"
)

// FieldError is one problem with one field of the input, the field named by a
// JSON pointer such as "/tags/3".
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is a domain error with a stable code.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%d field errors)", e.Code, e.Message, len(e.Fields))
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, else "".
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
