package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/intlog"
)

// HeaderRequestID carries a request's ID in and out.
const HeaderRequestID = "X-Request-ID"

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

// More context keys, for what the observing middleware reports.
const (
	ctxRequestID   = "atsgate.request_id"
	ctxStart       = "atsgate.start"
	ctxRequestBody = "atsgate.request_body"
	ctxExternalID  = "atsgate.external_id"
	ctxOperation   = "atsgate.operation"
	ctxErrorCode   = "atsgate.error_code"
)

// Readiness check timeouts: a probe must answer quickly even when a
// dependency hangs.
const (
	databaseCheckTimeout = time.Second
	redisCheckTimeout    = 250 * time.Millisecond
)

// requestIDOf is the request's ID ("" outside observe).
func requestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// setExternalID tells the integration log which job a request is about,
// once a handler has decoded it.
func setExternalID(c echo.Context, id string) {
	if id != "" {
		c.Set(ctxExternalID, id)
	}
}

// setOperation names a request's API operation for the logs and metrics,
// where the dialect's default (operationOf) cannot tell it.
func setOperation(c echo.Context, op string) { c.Set(ctxOperation, op) }

// setErrorCode records the error code of a refusal a handler wrote itself
// instead of returning an error (the ERP envelope does).
func setErrorCode(c echo.Context, code string) { c.Set(ctxErrorCode, code) }

// optCountry and optPrincipal are countryOf and principalOf for code that
// runs whether or not the request got that far.
func optCountry(c echo.Context) *atsgate.Country {
	v, _ := c.Get(ctxCountry).(*atsgate.Country)
	return v
}

func optPrincipal(c echo.Context) *atsgate.Principal {
	v, _ := c.Get(ctxPrincipal).(*atsgate.Principal)
	return v
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

// codeOf is the wire error code handleError will send for err.
func codeOf(err error) string {
	var e *atsgate.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
		return e.Code
	case errors.As(err, &he):
		return fromEcho(he).Code
	}
	return atsgate.EINTERNAL
}

// observe is the outermost middleware of both listeners: it gives every
// request an ID (X-Request-ID, in and out), and when the response is
// written, measures it and writes one access log line. The line never
// holds the Authorization header, a key (only its prefix) or a body.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		c.Set(ctxStart, start)
		id := c.Request().Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(HeaderRequestID, id)
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
		if s.Metrics != nil {
			s.Metrics.ObserveRequest(route, op, status, d)
		}
		s.accessLog(c, op, status, d)
		return nil
	}
}

// accessLog writes the request's one log line.
func (s *Server) accessLog(c echo.Context, op string, status int, d time.Duration) {
	req := c.Request()
	code, _ := c.Get(ctxErrorCode).(string)
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("path", intlog.SafePath(req.URL.Path, req.URL.RawQuery)),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("request_id", requestIDOf(c)),
		slog.String("client_ip", c.RealIP()),
		slog.Int64("bytes_out", c.Response().Size),
	)
	if ct := optCountry(c); ct != nil {
		attrs = append(attrs, slog.String("country", ct.Code))
	}
	if p := optPrincipal(c); p != nil {
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
	s.Logger.LogAttrs(req.Context(), level, "request", attrs...)
}

// recordAPI records every request of an API route in the integration log,
// refusals included, so it must come before any middleware that can
// refuse (host, authentication, rate limit). The response is written here,
// through a writer that keeps its first bytes, and the entry is handed to
// the Recorder, which never blocks.
func (s *Server) recordAPI(dialect string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Get(ctxOperation) == nil {
				setOperation(c, operationOf(c, dialect))
			}
			if s.IntegrationLog == nil {
				return next(c)
			}
			cw := newCaptureWriter(c.Response().Writer)
			c.Response().Writer = cw
			defer cw.release()
			if err := next(c); err != nil {
				c.Set(ctxErrorCode, codeOf(err))
				c.Error(err)
			}
			s.IntegrationLog.Record(s.logEntry(c, dialect, cw))
			return nil
		}
	}
}

// logEntry describes the finished request c for the integration log.
func (s *Server) logEntry(c echo.Context, dialect string, cw *captureWriter) atsgate.LogEntry {
	req := c.Request()
	start, _ := c.Get(ctxStart).(time.Time)
	if start.IsZero() {
		start = time.Now()
	}
	e := atsgate.LogEntry{
		Time:     s.Now(),
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
	e.RequestID = requestIDOf(c)
	e.Operation, _ = c.Get(ctxOperation).(string)
	e.ErrorCode, _ = c.Get(ctxErrorCode).(string)
	if b, ok := c.Get(ctxRequestBody).([]byte); ok {
		e.RequestBody = intlog.CutBytes(b, atsgate.MaxLoggedBody)
	}
	e.ExternalID, _ = c.Get(ctxExternalID).(string)
	if e.ExternalID == "" {
		e.ExternalID = c.QueryParam("external_id")
	}
	if ct := optCountry(c); ct != nil {
		e.CountryID = ct.ID
	}
	if p := optPrincipal(c); p != nil {
		e.EmployerID = p.Employer.ID
		e.KeyPrefix = p.KeyPrefix
	} else {
		e.KeyPrefix = presentedKeyPrefix(req)
	}
	return e
}

// presentedKeyPrefix is the prefix of the key a refused request carried,
// so an operator can tell which key failed; "" when it was not key-shaped.
func presentedKeyPrefix(r *http.Request) string {
	key := r.Header.Get("X-API-Key")
	if h := r.Header.Get("Authorization"); h != "" {
		_, key, _ = strings.Cut(h, " ")
	}
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	return atsgate.KeyPrefix(strings.TrimSpace(key))
}

// operationOf is a request's operation as its dialect defines it. For the
// ATS dialect it is atsJobs' dispatch: method and ?action=.
func operationOf(c echo.Context, dialect string) string {
	req := c.Request()
	if strings.HasSuffix(c.Path(), "*") {
		return "unknown" // no such endpoint: the group's catch-all
	}
	switch dialect {
	case atsgate.DialectATS:
		if !strings.HasSuffix(c.Path(), "/jobs") && !strings.HasSuffix(c.Path(), "/jobs.php") {
			return "unknown"
		}
		q := c.QueryParams()
		action := q.Get("action")
		switch m := req.Method; {
		case m == http.MethodPost && action == "":
			return "create"
		case m == http.MethodPost && action == "close":
			return "close"
		case m == http.MethodPut && action == "":
			return "update"
		case m == http.MethodGet && action == "" && q.Has("external_id"):
			return "get"
		case m == http.MethodGet && action == "":
			return "list"
		}
		return "invalid"
	case atsgate.DialectERP:
		// /recruitment/integration/erp/create-job/ → create.
		p := strings.Trim(req.URL.Path, "/")
		last := p[strings.LastIndexByte(p, '/')+1:]
		switch last {
		case "create-job":
			return "create"
		case "update-job":
			return "update"
		case "health":
			return "health"
		case "erp":
			return "status"
		}
		return "invalid"
	}
	return ""
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

// metrics serves Prometheus metrics (admin listener only).
func (s *Server) metrics(c echo.Context) error {
	if s.Metrics == nil {
		return atsgate.Errorf(atsgate.ENOTFOUND, "metrics are not enabled")
	}
	s.Metrics.Handler().ServeHTTP(c.Response(), c.Request())
	return nil
}

// Readiness statuses.
const (
	readyOK          = "ok"
	readyDegraded    = "degraded"
	readyUnavailable = "unavailable"
)

// check is one dependency in the readiness details.
type check struct {
	Status    string  `json:"status"` // ok, down or not_configured
	LatencyMS float64 `json:"latency_ms,omitempty"`
}

type readiness struct {
	Status string `json:"status"`
	Checks struct {
		Database check  `json:"database"`
		Redis    check  `json:"redis"`
		Limiter  string `json:"limiter"`
	} `json:"checks"`
}

// readyz reports whether this instance can serve: 503 when the database
// is down; 200 "degraded" when only Redis is (the in-process limiter then
// stands in). Errors are logged, not shown: the public listener serves it.
func (s *Server) readyz(c echo.Context) error {
	ctx := c.Request().Context()
	var r readiness
	var wg sync.WaitGroup
	probe := func(name string, timeout time.Duration, ping func(context.Context) error, out *check) {
		defer wg.Done()
		if ping == nil {
			out.Status = "not_configured"
			return
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		start := time.Now()
		err := ping(pctx)
		out.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
		out.Status = "ok"
		if err != nil {
			out.Status = "down"
			s.Logger.WarnContext(ctx, "readiness check failed", "check", name, "err", err,
				"request_id", requestIDOf(c))
		}
	}
	wg.Add(2)
	go probe("database", databaseCheckTimeout, s.pingDatabase(), &r.Checks.Database)
	go probe("redis", redisCheckTimeout, s.PingRedis, &r.Checks.Redis)
	wg.Wait()

	switch {
	case s.LimiterMode != nil:
		r.Checks.Limiter = s.LimiterMode()
	case s.PingRedis == nil:
		r.Checks.Limiter = "local"
	case r.Checks.Redis.Status == "ok":
		r.Checks.Limiter = "redis"
	default:
		r.Checks.Limiter = "degraded"
	}
	status := http.StatusOK
	switch {
	case r.Checks.Database.Status == "down":
		r.Status = readyUnavailable
		status = http.StatusServiceUnavailable
	case r.Checks.Redis.Status == "down" || r.Checks.Limiter == "degraded":
		r.Status = readyDegraded
	default:
		r.Status = readyOK
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, r)
}

// pingDatabase is the database check: Deps.PingDatabase, else the
// Directory's own Ping when it has one.
func (s *Server) pingDatabase() func(context.Context) error {
	if s.PingDatabase != nil {
		return s.PingDatabase
	}
	if p, ok := s.Directory.(interface{ Ping(context.Context) error }); ok {
		return p.Ping
	}
	return nil
}
