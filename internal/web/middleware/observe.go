package middleware

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/intlog"
)

// HeaderRequestID carries a request's ID in and out.
const HeaderRequestID = "X-Request-ID"

// MaxBodyBytes is the largest request body accepted (1 MiB).
const MaxBodyBytes = 1 << 20

// Recorder receives integration log entries; *intlog.Recorder is one.
// Record must return at once, whatever the state of the database.
type Recorder interface {
	Record(atsgate.LogEntry)
}

// Metrics receives the HTTP layer's measurements; *metrics.Metrics is one.
type Metrics interface {
	// ObserveRequest counts one request and its latency under its route
	// pattern and API operation.
	ObserveRequest(route, operation string, status int, d time.Duration)
	// RateLimitDecision counts one rate-limit decision ("allowed",
	// "limited", …).
	RateLimitDecision(result string)
	// Handler serves the metrics in the Prometheus format.
	Handler() http.Handler
}

// validRequestID accepts an incoming X-Request-ID only when it is short
// and plain, so a client cannot inject text into the logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// codeOf is the wire error code ErrorHandler will send for err.
func codeOf(err error) string {
	e, _ := Classify(err)
	return e.Code
}

// Observe is the outermost middleware of both listeners: it gives every
// request an ID (X-Request-ID, in and out), and when the response is
// written, measures it and writes one access log line. The line never
// holds the Authorization header, a key (only its prefix) or a body.
// metrics may be nil.
func Observe(log *slog.Logger, metrics Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			c.Set(ctxStart, start)
			id := c.Request().Header.Get(HeaderRequestID)
			if !validRequestID(id) {
				id = newRequestID()
			}
			c.Set(ctxRequestID, id)
			SetExact(c.Response().Header(), HeaderRequestID, id)
			if err := next(c); err != nil {
				c.Set(ctxErrorCode, codeOf(err))
				c.Error(err) // write the response now, so it can be measured
			}
			d := time.Since(start)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			op, _ := c.Get(ctxOperation).(string)
			status := c.Response().Status
			if metrics != nil {
				metrics.ObserveRequest(route, op, status, d)
			}
			accessLog(log, c, op, status, d)
			return nil
		}
	}
}

// accessLog writes the request's one log line.
func accessLog(log *slog.Logger, c echo.Context, op string, status int, d time.Duration) {
	req := c.Request()
	code, _ := c.Get(ctxErrorCode).(string)
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("path", intlog.SafePath(req.URL.Path, req.URL.RawQuery)),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("request_id", RequestIDOf(c)),
		slog.String("client_ip", c.RealIP()),
		slog.Int64("bytes_out", c.Response().Size),
	)
	if ct := OptCountry(c); ct != nil {
		attrs = append(attrs, slog.String("country", ct.Code))
	}
	if p := OptPrincipal(c); p != nil {
		attrs = append(attrs, slog.Int64("employer", p.Employer.ID), slog.String("key_prefix", p.KeyPrefix))
	}
	if op != "" {
		attrs = append(attrs, slog.String("operation", op))
	}
	if code != "" {
		attrs = append(attrs, slog.String("error_code", code))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	log.LogAttrs(req.Context(), level, "request", attrs...)
}

// Recover turns a panic in a handler into an internal error: the client
// gets the usual JSON 500, and the request is still logged (with the
// stack) and measured, instead of the connection just dropping.
func Recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer recoverInto(c, &err)
		return next(c)
	}
}

// recoverInto, deferred, turns a panic into an internal error in *err.
// Record uses it too, so a panicking API request is answered and logged
// while its capture writer is still in place.
func recoverInto(c echo.Context, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if r == http.ErrAbortHandler {
		panic(r) // net/http's way to abort a response; let it through
	}
	*err = atsgate.Internal(fmt.Errorf("panic serving %s %s: %v\n%s",
		c.Request().Method, c.Request().URL.Path, r, debug.Stack()))
}

// ReadBody reads a request body of at most MaxBodyBytes, chunked or not,
// and keeps it for the integration log. A body sent with
// Content-Encoding: gzip is inflated first, and the limit applies to what
// it inflates to: reading stops at the first byte past it, so a small
// compressed bomb is refused having cost at most MaxBodyBytes of memory.
// A broken gzip stream, or an encoding other than gzip or identity, is
// EINVALIDENCODING (400).
func ReadBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	var src io.Reader = http.MaxBytesReader(c.Response(), req.Body, MaxBodyBytes)
	decoding := false
	switch enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		// The compressed stream is bounded by the same limit; what it
		// inflates to is bounded below.
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, bodyError(err, true)
		}
		defer zr.Close()
		src, decoding = zr, true
	default:
		return nil, atsgate.Errorf(atsgate.EINVALIDENCODING, "Content-Encoding %q is not supported; send gzip or no encoding", enc)
	}
	b, err := io.ReadAll(io.LimitReader(src, MaxBodyBytes+1))
	if err != nil {
		return nil, bodyError(err, decoding)
	}
	if len(b) > MaxBodyBytes {
		return nil, atsgate.Errorf(atsgate.ETOOLARGE, "the body is larger than 1 MiB")
	}
	c.Set(ctxRequestBody, b)
	return b, nil
}

// bodyError classifies a failure to read a body: too large, a broken
// encoding (when the body was being decoded), or unreadable.
func bodyError(err error, decoding bool) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return atsgate.Errorf(atsgate.ETOOLARGE, "the body is larger than 1 MiB")
	case decoding && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || isFlateError(err)):
		return atsgate.Errorf(atsgate.EINVALIDENCODING, "the body is not a valid gzip stream")
	}
	return atsgate.Errorf(atsgate.EINVALIDJSON, "the body could not be read")
}

// isFlateError reports a corrupt deflate stream inside gzip.
func isFlateError(err error) bool {
	var ce flate.CorruptInputError
	return errors.As(err, &ce)
}

// Operation names a request's API operation as its dialect defines it
// ("create", "list", …), for the integration log, logs and metrics.
type Operation func(c echo.Context) string

// Record records every request of an API route in the integration log,
// refusals included, so it must come before any middleware that can
// refuse (host, authentication, rate limit). The response is written here,
// through a writer that keeps its first bytes, and the entry is handed to
// the Recorder, which never blocks. With a nil Recorder it only names the
// operation.
func Record(dialect string, op Operation, rec Recorder, now atsgate.Clock) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Get(ctxOperation) == nil {
				c.Set(ctxOperation, op(c))
			}
			if rec == nil {
				return next(c)
			}
			orig := c.Response().Writer
			cw := newCaptureWriter(orig)
			c.Response().Writer = cw
			defer func() {
				// Whatever happens below, later writers (Observe's error
				// path) write to the real response, not a released buffer.
				c.Response().Writer = orig
				cw.release()
			}()
			err := func() (err error) {
				defer recoverInto(c, &err)
				return next(c)
			}()
			if err != nil {
				c.Set(ctxErrorCode, codeOf(err))
				c.Error(err)
			}
			rec.Record(logEntry(c, dialect, now, cw))
			return nil
		}
	}
}

// logEntry describes the finished request c for the integration log.
func logEntry(c echo.Context, dialect string, now atsgate.Clock, cw *captureWriter) atsgate.LogEntry {
	req := c.Request()
	start, _ := c.Get(ctxStart).(time.Time)
	if start.IsZero() {
		start = time.Now()
	}
	e := atsgate.LogEntry{
		Time:     now(),
		Dialect:  dialect,
		Status:   c.Response().Status,
		Duration: time.Since(start),
		ClientIP: c.RealIP(),
		Method:   req.Method,
		Path:     intlog.SafePath(req.URL.Path, req.URL.RawQuery),
		// Bodies are copied, cut to the logged size: the request's
		// buffers are reused once it ends.
		ResponseBody: intlog.CutBytes(cw.buf.Bytes(), atsgate.MaxLoggedBody),
	}
	e.RequestID = RequestIDOf(c)
	e.Operation, _ = c.Get(ctxOperation).(string)
	e.ErrorCode, _ = c.Get(ctxErrorCode).(string)
	if b, ok := c.Get(ctxRequestBody).([]byte); ok {
		e.RequestBody = intlog.CutBytes(b, atsgate.MaxLoggedBody)
	}
	e.ExternalID, _ = c.Get(ctxExternalID).(string)
	e.Source, _ = c.Get(ctxSource).(string)
	if e.ExternalID == "" {
		e.ExternalID = c.QueryParam("external_id")
	}
	if ct := OptCountry(c); ct != nil {
		e.CountryID = ct.ID
	}
	if p := OptPrincipal(c); p != nil {
		e.EmployerID = p.Employer.ID
		e.KeyPrefix = p.KeyPrefix
	} else {
		e.KeyPrefix = presentedKeyPrefix(req)
	}
	return e
}

// presentedKeyPrefix is the prefix of the key a refused request carried,
// so an operator can tell which key failed; "" when it was not key-shaped.
// It reads every place a dialect takes its key from: Authorization (ATS),
// X-API-Key and ?api_key= (ERP).
func presentedKeyPrefix(r *http.Request) string {
	key := r.Header.Get("X-API-Key")
	if h := r.Header.Get("Authorization"); h != "" {
		_, key, _ = strings.Cut(h, " ")
	}
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	key = strings.TrimSpace(key)
	if p := atsgate.ERPKeyPrefix(key); p != "" {
		return p
	}
	return atsgate.KeyPrefix(key)
}

// captureWriter passes a response through and keeps its first bytes for
// the integration log.
type captureWriter struct {
	http.ResponseWriter
	buf *bytes.Buffer
}

// captureLimit is what the log keeps, plus room to end on a whole
// UTF-8 character.
const captureLimit = atsgate.MaxLoggedBody + 4

var capturePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func newCaptureWriter(w http.ResponseWriter) *captureWriter {
	buf := capturePool.Get().(*bytes.Buffer)
	buf.Reset()
	return &captureWriter{ResponseWriter: w, buf: buf}
}

func (w *captureWriter) Write(b []byte) (int, error) {
	if room := captureLimit - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(room, len(b))])
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming responses through.
func (w *captureWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *captureWriter) release() {
	if w.buf.Cap() <= 4*captureLimit {
		capturePool.Put(w.buf)
	}
	w.buf = nil
}
