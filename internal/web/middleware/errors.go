package middleware

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// statusOf maps each error code to its HTTP status: the one table.
var statusOf = map[string]int{
	atsgate.EINVALIDJSON:  http.StatusBadRequest,
	atsgate.EUNAUTHORIZED: http.StatusUnauthorized,
	atsgate.EFUNDS:        http.StatusPaymentRequired,
	atsgate.EFORBIDDEN:    http.StatusForbidden,
	atsgate.ENOTFOUND:     http.StatusNotFound,
	atsgate.EUNKNOWNHOST:  http.StatusNotFound,
	atsgate.EMETHOD:       http.StatusMethodNotAllowed,
	atsgate.ECONFLICT:     http.StatusConflict,
	atsgate.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	atsgate.EINVALID:      http.StatusUnprocessableEntity,
	atsgate.ERATELIMITED:  http.StatusTooManyRequests,
	atsgate.EINTERNAL:     http.StatusInternalServerError,
	atsgate.EUNAVAILABLE:  http.StatusServiceUnavailable,

	atsgate.EINVALIDENCODING: http.StatusBadRequest,

	// The ERP dialect's own codes (SPEC section 7).
	atsgate.EMISSINGFIELD:     http.StatusBadRequest,
	atsgate.EINVALIDTYPE:      http.StatusBadRequest,
	atsgate.EINVALIDURL:       http.StatusBadRequest,
	atsgate.EBATCHTOOLARGE:    http.StatusBadRequest,
	atsgate.EINVALIDAPIKEY:    http.StatusUnauthorized,
	atsgate.ESOURCEINACTIVE:   http.StatusUnauthorized,
	atsgate.EINVALIDSIGNATURE: http.StatusUnauthorized,
	atsgate.EIPNOTALLOWED:     http.StatusForbidden,
	atsgate.EINVALIDSOURCE:    http.StatusNotFound,
	atsgate.EJOBNOTFOUND:      http.StatusNotFound,
	atsgate.EJOBEXISTS:        http.StatusConflict,
	atsgate.EINVALIDSTATUS:    http.StatusConflict,
}

// ErrorBody is the wire form of every error of the JSON surfaces.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error object inside an ErrorBody. Fields is set only
// for validation_failed; Balance, Price and Currency only for
// insufficient_funds.
type ErrorDetail struct {
	Code     string            `json:"code"`
	Message  string            `json:"message"`
	Fields   map[string]string `json:"fields,omitempty"`
	Balance  string            `json:"balance,omitempty"`
	Price    string            `json:"price,omitempty"`
	Currency string            `json:"currency,omitempty"`
}

// BodyOf is the wire form of e.
func BodyOf(e *atsgate.Error) ErrorBody {
	body := ErrorBody{Error: ErrorDetail{Code: e.Code, Message: atsgate.ErrorMessage(e), Fields: e.Fields}}
	if e.Funds != nil {
		body.Error.Balance = e.Funds.Balance.String()
		body.Error.Price = e.Funds.Price.String()
		body.Error.Currency = e.Funds.Currency
	}
	return body
}

// Classify is the one place an error becomes a response: whatever raised
// err (a handler, a store, echo's router), it returns the domain error it
// stands for and the HTTP status of its code. Errors atsgate did not
// classify are internal.
func Classify(err error) (*atsgate.Error, int) {
	var e *atsgate.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &he):
		e = fromEcho(he)
	default:
		e = atsgate.Internal(err)
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return e, status
}

// LogServerError logs the cause of a 5xx: at error level when err
// classified as internal (a bug), at warn level when a dependency was
// unavailable (an outage: the client was told to retry, and the operator
// needs to know why). Other errors are the client's doing and are only in
// the access log.
func LogServerError(log *slog.Logger, c echo.Context, e *atsgate.Error, err error) {
	switch e.Code {
	case atsgate.EINTERNAL:
		log.ErrorContext(c.Request().Context(), "internal error",
			"err", err, "method", c.Request().Method, "path", c.Request().URL.Path)
	case atsgate.EUNAVAILABLE:
		log.WarnContext(c.Request().Context(), "unavailable",
			"err", err, "method", c.Request().Method, "path", c.Request().URL.Path)
	}
}

// fromEcho turns echo's own errors (unknown route, wrong method) into ours.
func fromEcho(he *echo.HTTPError) *atsgate.Error {
	switch he.Code {
	case http.StatusNotFound:
		return atsgate.Errorf(atsgate.ENOTFOUND, "no such endpoint")
	case http.StatusMethodNotAllowed:
		return atsgate.Errorf(atsgate.EMETHOD, "method not allowed")
	case http.StatusRequestEntityTooLarge:
		return atsgate.Errorf(atsgate.ETOOLARGE, "the body is larger than 1 MiB")
	case http.StatusServiceUnavailable:
		return atsgate.Errorf(atsgate.EUNAVAILABLE, "service unavailable")
	}
	if he.Code >= 400 && he.Code < 500 {
		return atsgate.Errorf(atsgate.EINVALIDJSON, "bad request")
	}
	return atsgate.Internal(he)
}

// ErrorHandler is echo's error handler of both listeners: every error,
// whoever raised it, leaves as the same JSON body with the status of its
// code. Handlers just return errors.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e, status := Classify(err)
		LogServerError(log, c, e, err)
		switch e.Code {
		case atsgate.EUNAUTHORIZED:
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="atsgate"`)
		case atsgate.EUNAVAILABLE:
			if c.Response().Header().Get("Retry-After") == "" {
				c.Response().Header().Set("Retry-After", "5")
			}
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		if w, ok := c.Get(ctxErrorWriter).(ErrorWriter); ok {
			_ = w(c, e, status) // a dialect with its own error shape (ERP)
			return
		}
		_ = c.JSON(status, BodyOf(e))
	}
}

// ErrorWriter writes an error response in a dialect's own shape, after
// Classify: the ERP dialect answers errors in its envelope.
type ErrorWriter func(c echo.Context, e *atsgate.Error, status int) error

// SetErrorWriter makes ErrorHandler answer this request's errors with w;
// a dialect sets it first, before any step that can refuse.
func SetErrorWriter(c echo.Context, w ErrorWriter) { c.Set(ctxErrorWriter, w) }
