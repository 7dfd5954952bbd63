// Package web assembles atsgate's HTTP listeners: the public one (the ATS
// API, the ERP dialect, the country sites, health) and the back-office one (admin API and pages, health,
// metrics). Every route of both is in routes.go, built from the handlers
// of one package per surface: ats (the ATS dialect), erp (the ERP
// dialect), site (the public
// country sites) and backoffice, over
// the shared middleware package. The operability endpoints (/healthz,
// /readyz, /metrics) live here.
//
// Only the packages under internal/web import echo.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web/ats"
	"github.com/atsgate/atsgate/internal/web/backoffice"
	"github.com/atsgate/atsgate/internal/web/erp"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
	"github.com/atsgate/atsgate/internal/web/site"
)

// MaxBodyBytes is the largest request body accepted (1 MiB).
const MaxBodyBytes = mw.MaxBodyBytes

// Deps is what the HTTP layer needs from the rest of the program.
type Deps struct {
	Directory atsgate.Directory
	Jobs      atsgate.Jobs
	// ERPSources and ERPJobs serve the ERP dialect; nil ERPSources serves
	// no ERP routes.
	ERPSources atsgate.ERPSources
	ERPJobs    atsgate.ERPJobs
	// Site is what the public country sites read; nil serves no site.
	Site atsgate.Site
	// Taxonomy returns a country's reference data by code.
	Taxonomy func(countryCode string) *atsgate.Taxonomy
	Logger   *slog.Logger
	Now      atsgate.Clock
	// TrustedProxies are the peers whose X-Forwarded-* headers are believed.
	TrustedProxies []*net.IPNet
	// BackOffice serves the admin API and pages; nil leaves the admin
	// listener with only its health and operability endpoints.
	BackOffice atsgate.BackOffice
	// Webhooks sets employers' endpoints and shows deliveries in the back
	// office; nil answers those routes with not_found.
	Webhooks atsgate.Webhooks

	// IntegrationLog records every API request; nil records nothing.
	IntegrationLog mw.Recorder
	// Metrics measures requests; nil measures nothing and /metrics is 404.
	Metrics mw.Metrics
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
	Limiter atsgate.RateLimiter
	// RateLimit is the requests allowed per API key in any RateWindow
	// (ATSGATE_RATE_LIMIT).
	RateLimit int
	// AuthFailureLimit is the failed authentications allowed per client
	// IP in any RateWindow (ATSGATE_AUTH_FAILURE_LIMIT).
	AuthFailureLimit int
	// AuthGeneration reads the shared authentication generation (see
	// mw.AuthCache); nil, or an error from it, makes every request's
	// authentication ask the database.
	AuthGeneration func(ctx context.Context) (int64, error)
}

// RateWindow is the window of both rate limits.
const RateWindow = mw.RateWindow

// Server holds what the routes of one listener are built from.
type Server struct {
	Deps
	proxies mw.Proxies
	limits  *mw.Limits
	ready   readyCache // the public listener's /readyz result
	keys    *mw.AuthCache[*atsgate.Principal]
}

// NewPublic returns the handler of the public listener.
func NewPublic(d Deps) http.Handler {
	s := newServer(d)
	return s.echo(s.proxies.ExtractIP, s.publicRoutes)
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
	s := &Server{Deps: d, proxies: mw.Proxies(d.TrustedProxies), keys: mw.NewAuthCache[*atsgate.Principal](d.AuthGeneration, 0)}
	s.limits = &mw.Limits{Limiter: d.Limiter, PerKeyLimit: d.RateLimit, AuthFailureLimit: d.AuthFailureLimit,
		Logger: d.Logger, Metrics: d.Metrics}
	return s
}

// echo builds one listener's router: the same error handling, request
// observation and panic recovery on both, and its own routes.
func (s *Server) echo(ip echo.IPExtractor, routes func(*echo.Echo)) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = mw.ErrorHandler(s.Logger)
	e.IPExtractor = ip
	e.Use(mw.Observe(s.Logger, s.Metrics), mw.Recover)
	routes(e)
	return e
}

// atsHandler is the ATS dialect over this server's dependencies.
func (s *Server) atsHandler() *ats.Handler {
	return &ats.Handler{Keys: cachedKeys{s.Directory, s.keys}, Jobs: s.Jobs, Taxonomy: s.Taxonomy, Now: s.Now}
}

// cachedKeys authenticates API keys through the server's AuthCache.
type cachedKeys struct {
	next  ats.Authenticator
	cache *mw.AuthCache[*atsgate.Principal]
}

func (k cachedKeys) Authenticate(ctx context.Context, keyHash string) (*atsgate.Principal, error) {
	key := "ats:" + keyHash
	load := func(ctx context.Context) (*atsgate.Principal, error) { return k.next.Authenticate(ctx, keyHash) }
	if chk := mw.AuthCheckOf(ctx); chk != nil {
		// The rate limit's round trip will check the generation (PerKey).
		if p, gen, ok := k.cache.Peek(key); ok {
			chk.Defer(gen, func(ctx context.Context, gen int64, shared bool) (*atsgate.Principal, error) {
				p, err := k.cache.Reload(ctx, key, gen, shared, load)
				if err != nil {
					return nil, err
				}
				cp := *p
				return &cp, nil
			})
			cp := *p // each request its own copy of the shared entry
			return &cp, nil
		}
	}
	p, err := k.cache.Get(ctx, key, load)
	if err != nil {
		return nil, err
	}
	cp := *p // each request its own copy of the shared entry
	return &cp, nil
}

// erpHandler is the ERP dialect over this server's dependencies.
func (s *Server) erpHandler() *erp.Handler {
	ping := s.PingDatabase
	if ping == nil {
		if p, ok := s.Directory.(interface{ Ping(context.Context) error }); ok {
			ping = p.Ping
		}
	}
	return &erp.Handler{Sources: s.ERPSources, Jobs: erpJobs{s.Jobs, s.ERPJobs}, Taxonomy: s.Taxonomy, Now: s.Now,
		PingDatabase: ping}
}

// erpJobs joins the two job interfaces the ERP dialect uses.
type erpJobs struct {
	atsgate.Jobs
	atsgate.ERPJobs
}

// siteHandler is the public country sites over this server's dependencies.
func (s *Server) siteHandler() *site.Handler {
	return site.New(s.Site, s.Taxonomy, s.Now, s.Logger)
}

// backOffice is the back office over this server's dependencies.
func (s *Server) backOffice() *backoffice.Handler {
	h := backoffice.New(s.BackOffice, s.Logger, s.Now, s.proxies)
	h.Webhooks = s.Webhooks
	return h
}
