package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// Readiness check timeouts: a probe must answer quickly even when a
// dependency hangs.
const (
	databaseCheckTimeout = time.Second
	redisCheckTimeout    = 250 * time.Millisecond
)

// healthz says the process is up; it checks nothing else.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
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
// The admin listener probes on every call; the public one reuses its
// database and Redis pings for up to readyCacheTTL, so a flood of probes
// from the internet costs at most one database ping a second. The
// limiter's mode is read live on both: it costs nothing.
func (s *Server) readyz(c echo.Context) error {
	var r readiness
	r.Checks.Database, r.Checks.Redis = s.ping(c.Request().Context(), mw.RequestIDOf(c))
	return s.answerReadiness(c, r)
}

// readyCacheTTL is how long the public listener reuses its pings.
const readyCacheTTL = time.Second

// readyCache is the public listener's last pings.
type readyCache struct {
	mu        sync.Mutex
	at        time.Time
	db, redis check
}

// cachedReadyz is readyz for the public listener. Callers that arrive
// while a ping runs wait for it and share its result.
func (s *Server) cachedReadyz(c echo.Context) error {
	s.ready.mu.Lock()
	if time.Since(s.ready.at) >= readyCacheTTL {
		// Not the request's context: a client that hangs up must not
		// make the next second's callers see the database as down.
		ctx := context.WithoutCancel(c.Request().Context())
		s.ready.db, s.ready.redis = s.ping(ctx, mw.RequestIDOf(c))
		s.ready.at = time.Now()
	}
	var r readiness
	r.Checks.Database, r.Checks.Redis = s.ready.db, s.ready.redis
	s.ready.mu.Unlock()
	return s.answerReadiness(c, r)
}

// ping checks the database and Redis at once, each within its timeout.
func (s *Server) ping(ctx context.Context, requestID string) (db, redis check) {
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
				"request_id", requestID)
		}
	}
	wg.Add(2)
	go probe("database", databaseCheckTimeout, s.pingDatabase(), &db)
	go probe("redis", redisCheckTimeout, s.PingRedis, &redis)
	wg.Wait()
	return db, redis
}

// answerReadiness adds the limiter's mode and the overall status to r's
// pings, and writes it.
func (s *Server) answerReadiness(c echo.Context, r readiness) error {
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
