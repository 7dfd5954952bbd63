package atsgate

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// Error codes. They are part of the public API: clients switch on them, so
// they never change once released.
const (
	EINVALIDJSON  = "invalid_json"       // 400
	EUNAUTHORIZED = "unauthorized"       // 401
	EFUNDS        = "insufficient_funds" // 402
	EFORBIDDEN    = "forbidden"          // 403
	ENOTFOUND     = "not_found"          // 404
	EUNKNOWNHOST  = "unknown_host"       // 404
	EMETHOD       = "method_not_allowed" // 405
	ECONFLICT     = "conflict"           // 409
	ETOOLARGE     = "payload_too_large"  // 413
	EINVALID      = "validation_failed"  // 422
	ERATELIMITED  = "rate_limited"       // 429
	EINTERNAL     = "internal"           // 500
	EUNAVAILABLE  = "unavailable"        // 503
)

// Error is the one error type that crosses layers. Code is stable and
// machine-readable; Message is for people.
type Error struct {
	Code    string
	Message string
	// Fields maps a request field to what is wrong with it (EINVALID only).
	Fields map[string]string
	// Funds carries the balance and price of an EFUNDS refusal.
	Funds *Funds
	// JobID names the job a refusal is about (EJOBEXISTS: the open job
	// with the same title).
	JobID string
	// Err is the underlying cause, never shown to clients.
	Err error
}

// Funds explains an insufficient_funds refusal.
type Funds struct {
	Balance  decimal.Decimal
	Price    decimal.Decimal
	Currency string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "; %s %s", k, e.Fields[k])
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation_failed error listing the bad fields.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: "the request has invalid fields", Fields: fields}
}

// Internal wraps an unexpected error; its cause is logged, never shown.
func Internal(err error) *Error {
	return &Error{Code: EINTERNAL, Message: "internal error", Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the human message of err, hiding internal causes.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e) && e.Code != EINTERNAL:
		return e.Message
	default:
		return "internal error"
	}
}
