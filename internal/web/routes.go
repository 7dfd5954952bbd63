package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web/ats"
	"github.com/atsgate/atsgate/internal/web/erp"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// publicRoutes is the whole surface of the public listener.
func (s *Server) publicRoutes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.cachedReadyz)              // at most one probe a second; ops.go
	e.GET("/api/openapi.json", openAPI("public")) // openapi.go: the public part

	a := s.atsHandler()                                  // package ats
	country := mw.ResolveCountry(s.Directory, s.proxies) // host → country, 404 unknown_host
	limits := s.limits                                   // per key, and failed authentications per IP

	api := e.Group("/api/ats", country)
	api.GET("/taxonomy", a.ServeTaxonomy)
	// Every jobs request goes to the integration log, refusals included:
	// Record comes before every check that can refuse. Then the order of
	// checks of SPEC section 2: host, auth, rate limit; the handler
	// validates, and the store does idempotency and the wallet.
	jobs := e.Group("/api/ats", mw.Record(atsgate.DialectATS, ats.Operation, s.IntegrationLog, s.Now),
		country, limits.AuthFailures, a.Authenticate, limits.PerKey)
	// One URL, many operations: method and ?action= choose (ServeJobs).
	jobs.Any("/jobs", a.ServeJobs)
	jobs.Any("/jobs.php", a.ServeJobs)

	erpBase := s.erpRoutes(e, country)

	if s.Site == nil {
		return
	}
	// The country sites (package site): public, read-only, cacheable for
	// a minute; the same host → country step as the API, so an unknown
	// host is the same 404.
	site := s.siteHandler()
	read := []string{http.MethodGet, http.MethodHead}
	e.Match(read, "/", site.Listing, country)
	e.Match(read, "/jobs/:slug", site.Job, country) // 200, 301 to the current slug, 404 or 410
	e.Match(read, "/feed.xml", site.Feed, country)
	e.Match(read, "/sitemap.xml", site.Sitemap, country) // an index of /sitemaps/<n>.xml past 50,000 URLs
	e.Match(read, "/sitemaps/:part", site.SitemapPart, country)
	e.Match(read, "/robots.txt", site.Robots, country)
	e.Match(read, "/static/site.css", site.Stylesheet, country)
	// Any other path: the site's HTML 404 on a country host; JSON under
	// the API prefixes and on unknown hosts (site.Unrouted).
	unrouted := site.Unrouted(country)
	if erpBase != nil {
		// The router backtracks to this catch-all for another method on
		// the bare ERP base (e.g. POST /recruitment/integration/erp), so
		// hand that path back to the ERP chain: 405 in its envelope.
		siteUnrouted := unrouted
		unrouted = func(c echo.Context) error {
			if c.Request().URL.Path == erpPrefix {
				return erpBase(c)
			}
			return siteUnrouted(c)
		}
	}
	e.RouteNotFound("/*", unrouted)
}

// adminRoutes is the whole surface of the back-office listener.
func (s *Server) adminRoutes(e *echo.Echo) {
	e.Use(mw.NoStore) // nothing this listener says is cached, errors included
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics)                 // admin listener only
	e.GET("/api/openapi.json", openAPI("admin")) // openapi.go: the admin part
	if s.BackOffice == nil {
		return
	}
	b := s.backOffice() // package backoffice
	perm := b.Require   // one permission per route; the role table is atsgate.Role.Can

	// JSON admin API: Authorization: Bearer <admin token>.
	api := e.Group("/admin/api", b.APIAuth)
	api.GET("/countries", b.APICountries, perm(atsgate.PermCountriesRead))
	api.GET("/employers", b.APIEmployers, perm(atsgate.PermEmployersRead))
	api.GET("/employers/:id", b.APIEmployer, perm(atsgate.PermEmployersRead))
	api.GET("/employers/:id/statement", b.APIStatement, perm(atsgate.PermWalletsRead))
	api.POST("/employers/:id/topup", b.APITopUp, perm(atsgate.PermWalletsWrite))
	api.POST("/employers/:id/adjust", b.APIAdjust, perm(atsgate.PermWalletsWrite))
	api.POST("/employers/:id/keys", b.APIIssueKey, perm(atsgate.PermKeysWrite))
	api.DELETE("/employers/:id/keys", b.APIDisableKey, perm(atsgate.PermKeysWrite))
	api.GET("/reviews", b.APIReviews, perm(atsgate.PermReviewsRead))
	api.GET("/jobs/:id", b.APIJob, perm(atsgate.PermJobsRead))
	api.POST("/jobs/:id/approve", b.APIApprove, perm(atsgate.PermReviewsWrite))
	api.POST("/jobs/:id/disapprove", b.APIDisapprove, perm(atsgate.PermReviewsWrite))
	api.GET("/reconciliation", b.APIReconciliation, perm(atsgate.PermReconciliationRead))
	api.POST("/reconciliation", b.APIReconcile, perm(atsgate.PermReconciliationRun))
	// Webhooks (backoffice/webhooks.go; docs/webhooks.md).
	api.GET("/employers/:id/webhook", b.APIWebhook, perm(atsgate.PermWebhooksRead))
	api.PUT("/employers/:id/webhook", b.APISetWebhook, perm(atsgate.PermWebhooksWrite)) // the secret, once
	api.DELETE("/employers/:id/webhook", b.APIDisableWebhook, perm(atsgate.PermWebhooksWrite))
	api.GET("/webhooks/deliveries", b.APIWebhookDeliveries, perm(atsgate.PermWebhooksRead))
	api.GET("/webhooks/deliveries/:id", b.APIWebhookDelivery, perm(atsgate.PermWebhooksRead))
	api.POST("/webhooks/deliveries/:id/resend", b.APIResendWebhook, perm(atsgate.PermWebhooksWrite))
	api.GET("/logs", b.APILogs, perm(atsgate.PermLogsRead)) // ?dialect=&source=&action=&status=&from=&to=
	// ERP sources: the key and secret are answered once, on create and rotate.
	api.GET("/erp/sources", b.APIERPSources, perm(atsgate.PermEmployersRead))
	api.POST("/erp/sources", b.APICreateERPSource, perm(atsgate.PermKeysWrite))
	api.GET("/erp/sources/:id", b.APIERPSource, perm(atsgate.PermEmployersRead))
	api.POST("/erp/sources/:id/rotate", b.APIRotateERPSource, perm(atsgate.PermKeysWrite))
	api.POST("/erp/sources/:id/disable", b.APIDisableERPSource, perm(atsgate.PermKeysWrite))
	api.POST("/erp/sources/:id/enable", b.APIEnableERPSource, perm(atsgate.PermKeysWrite))

	// Pages: sign in with a token for a session cookie; every POST carries
	// the session's CSRF token.
	e.GET("/admin/static/admin.css", b.Stylesheet)
	e.GET("/admin/login", b.LoginPage, b.PageErrors)
	e.POST("/admin/login", b.Login, b.PageErrors, b.LimitForm)
	pages := e.Group("/admin", b.PageErrors, b.LimitForm, b.SessionAuth, b.CSRF)
	pages.GET("", b.Home)
	pages.GET("/", b.Home)
	pages.POST("/logout", b.Logout)
	pages.GET("/reviews", b.ReviewsPage, perm(atsgate.PermReviewsRead))
	pages.GET("/jobs/:id", b.JobPage, perm(atsgate.PermJobsRead))
	pages.POST("/jobs/:id/approve", b.ApprovePage, perm(atsgate.PermReviewsWrite))
	pages.POST("/jobs/:id/disapprove", b.DisapprovePage, perm(atsgate.PermReviewsWrite))
	pages.GET("/employers", b.EmployersPage, perm(atsgate.PermEmployersRead))
	pages.GET("/employers/:id", b.StatementPage, perm(atsgate.PermWalletsRead))
	pages.GET("/employers/:id/statement.csv", b.StatementCSVPage, perm(atsgate.PermWalletsRead))
	pages.POST("/employers/:id/topup", b.TopUpPage, perm(atsgate.PermWalletsWrite))
	pages.POST("/employers/:id/adjust", b.AdjustPage, perm(atsgate.PermWalletsWrite))
	pages.POST("/employers/:id/keys", b.IssueKeyPage, perm(atsgate.PermKeysWrite))
	pages.POST("/employers/:id/keys/disable", b.DisableKeyPage, perm(atsgate.PermKeysWrite))
	pages.GET("/reconciliation", b.ReconciliationPage, perm(atsgate.PermReconciliationRead))
	pages.POST("/reconciliation", b.ReconcilePage, perm(atsgate.PermReconciliationRun))
	pages.GET("/logs", b.LogsPage, perm(atsgate.PermLogsRead))
	pages.GET("/employers/:id/webhook", b.WebhookPage, perm(atsgate.PermWebhooksRead))
	pages.POST("/employers/:id/webhook", b.SetWebhookPage, perm(atsgate.PermWebhooksWrite))
	pages.POST("/employers/:id/webhook/disable", b.DisableWebhookPage, perm(atsgate.PermWebhooksWrite))
	pages.GET("/webhooks", b.WebhooksPage, perm(atsgate.PermWebhooksRead))
	pages.GET("/webhooks/:id", b.WebhookDeliveryPage, perm(atsgate.PermWebhooksRead))
	pages.POST("/webhooks/:id/resend", b.ResendWebhookPage, perm(atsgate.PermWebhooksWrite))
	pages.GET("/erp/sources", b.ERPSourcesPage, perm(atsgate.PermEmployersRead))
	pages.POST("/erp/sources", b.CreateERPSourcePage, perm(atsgate.PermKeysWrite))
	pages.GET("/erp/sources/:id", b.ERPSourcePage, perm(atsgate.PermEmployersRead))
	pages.POST("/erp/sources/:id/rotate", b.RotateERPSourcePage, perm(atsgate.PermKeysWrite))
	pages.POST("/erp/sources/:id/disable", b.DisableERPSourcePage, perm(atsgate.PermKeysWrite))
	pages.POST("/erp/sources/:id/enable", b.EnableERPSourcePage, perm(atsgate.PermKeysWrite))
}

// erpRoutes is the ERP dialect (package erp, SPEC section 7), every path
// with and without its trailing slash. Errors leave in the ERP envelope
// (erp.Handler.Envelope comes first). The health endpoints are public and
// not logged; the API is recorded in the integration log before any
// refusal, then: host, failed authentications per IP, the source's key
// and trusted IPs, the source's sync status, the per-key rate limit.
//
// It returns the ERP answer for a path no route takes at the bare base
// (nil without ERP sources), for the site's catch-all to defer to.
func (s *Server) erpRoutes(e *echo.Echo, country echo.MiddlewareFunc) echo.HandlerFunc {
	if s.ERPSources == nil {
		return nil
	}
	h := s.erpHandler()
	const base = erpPrefix
	health := []echo.MiddlewareFunc{h.Envelope, country}
	for _, p := range []string{"", "/"} {
		e.GET(base+p, h.ServeInfo, health...)
	}
	for _, p := range []string{"/health", "/health/"} {
		e.GET(base+p, h.ServeHealth, health...)
	}
	chain := []echo.MiddlewareFunc{h.Envelope, mw.Record(atsgate.DialectERP, erp.Operation, s.IntegrationLog, s.Now),
		country, h.HealthMethods, s.limits.AuthFailures, h.Authenticate, h.Track, s.limits.PerKey}
	api := e.Group(base, chain...)
	for _, p := range []string{"/create-job", "/create-job/"} {
		api.POST(p, h.CreateJob)
	}
	for _, p := range []string{"/update-job", "/update-job/"} {
		api.POST(p, h.UpdateJob)
	}
	for _, p := range []string{"/batch", "/batch/"} {
		api.POST(p, h.Batch)
	}
	// Anything else under the base: 405 for another method on a known
	// path, 404 otherwise, both in the envelope and logged.
	// (HealthMethods answers the public health paths' 405 before the key.)
	api.RouteNotFound("/*", h.NotFound)
	bare := echo.HandlerFunc(h.NotFound)
	for i := len(chain) - 1; i >= 0; i-- {
		bare = chain[i](bare)
	}
	return bare
}

// erpPrefix is where the ERP dialect lives on every country host.
const erpPrefix = "/recruitment/integration/erp"
