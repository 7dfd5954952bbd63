// Package web is atsgate's HTTP layer and the only package that imports
// echo: the ATS API on the public listener, with its middleware. Every route
// is in routes.go. Handlers decode, call a domain interface and encode;
// they return errors and one handler turns them into responses.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// MaxBodyBytes is the largest request body accepted (1 MiB).
const MaxBodyBytes = 1 << 20

// Deps is what the HTTP layer needs from the rest of the program.
type Deps struct {
	Directory atsgate.Directory
	Jobs      atsgate.Jobs
	// Taxonomy returns a country's reference data by code.
	Taxonomy func(countryCode string) *atsgate.Taxonomy
	Logger   *slog.Logger
	Now      atsgate.Clock
	// TrustedProxies are the peers whose X-Forwarded-* headers are believed.
	TrustedProxies []*net.IPNet
	// BackOffice serves the admin API and pages; nil leaves the admin
	// listener with only its health and operability endpoints.
	BackOffice atsgate.BackOffice

	// IntegrationLog records every API request; nil records nothing.
	IntegrationLog Recorder
	// Metrics measures requests; nil measures nothing and /metrics is 404.
	Metrics Metrics
	// PingDatabase is /readyz's database check; nil uses the Directory's
	// own Ping method when it has one.
	PingDatabase func(ctx context.Context) error
	// PingRedis is /readyz's Redis check; nil means Redis is not configured.
	PingRedis func(ctx context.Context) error
	// LimiterMode reports the rate limiter's mode ("redis", "degraded" or
	// "local") for /readyz; nil derives it from PingRedis.
	LimiterMode func() string

	// Limiter counts requests per API key and failed authentications per
	// client IP; nil turns both limits off.
	Limiter RateLimiter
	// RateLimit is the requests allowed per API key in any RateWindow
	// (ATSGATE_RATE_LIMIT).
	RateLimit int
	// AuthFailureLimit is the failed authentications allowed per client
	// IP in any RateWindow (ATSGATE_AUTH_FAILURE_LIMIT).
	AuthFailureLimit int
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	authBlocks authBlocks // client IPs over the auth-failure limit; see limit.go
}

// NewPublic returns the handler of the public listener.
func NewPublic(d Deps) http.Handler {
	s := newServer(d)
	return s.echo(s.extractIP, s.publicRoutes)
}

// NewAdmin returns the handler of the back-office listener, which must
// never be reachable on the public one.
func NewAdmin(d Deps) http.Handler {
	s := newServer(d)
	return s.echo(echo.ExtractIPDirect(), s.adminRoutes)
}

func newServer(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Server{Deps: d}
}

// echo builds one listener's router: the same error handling, request
// observation and panic recovery on both, and its own routes.
func (s *Server) echo(ip echo.IPExtractor, routes func(*echo.Echo)) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ip
	e.Use(s.observe, s.recoverPanics)
	routes(e)
	return e
}

// recoverPanics turns a panic in a handler into an internal error: the
// client gets the usual JSON 500, and the request is still logged (with the
// stack) and measured, instead of the connection just dropping.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r) // net/http's way to abort a response; let it through
				}
				err = atsgate.Internal(fmt.Errorf("panic serving %s %s: %v\n%s",
					c.Request().Method, c.Request().URL.Path, r, debug.Stack()))
			}
		}()
		return next(c)
	}
}
