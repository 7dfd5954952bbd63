package web

import (
	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// publicRoutes is the whole surface of the public listener.
func (s *Server) publicRoutes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	ats := e.Group("/api/ats", s.resolveCountry)
	ats.GET("/taxonomy", s.taxonomy)
	// Every jobs request goes to the integration log, refusals included:
	// recordAPI comes before every check that can refuse.
	jobs := e.Group("/api/ats", s.recordAPI(atsgate.DialectATS), s.resolveCountry,
		s.limitAuthFailures, s.authenticate, s.rateLimit) // limit.go
	// One URL, many operations: method and ?action= choose (atsJobs).
	jobs.Any("/jobs", s.atsJobs)
	jobs.Any("/jobs.php", s.atsJobs)
}

// adminRoutes is the whole surface of the back-office listener.
func (s *Server) adminRoutes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics) // admin listener only
	if s.BackOffice == nil {
		return
	}
	b := newBackOffice(s)
	perm := b.require

	// JSON admin API: Authorization: Bearer <admin token>.
	api := e.Group("/admin/api", b.apiAuth)
	api.GET("/countries", b.apiCountries, perm(atsgate.PermCountriesRead))
	api.GET("/employers", b.apiEmployers, perm(atsgate.PermEmployersRead))
	api.GET("/employers/:id", b.apiEmployer, perm(atsgate.PermEmployersRead))
	api.GET("/employers/:id/statement", b.apiStatement, perm(atsgate.PermWalletsRead))
	api.POST("/employers/:id/topup", b.apiPost(false), perm(atsgate.PermWalletsWrite))
	api.POST("/employers/:id/adjust", b.apiPost(true), perm(atsgate.PermWalletsWrite))
	api.POST("/employers/:id/keys", b.apiIssueKey, perm(atsgate.PermKeysWrite))
	api.DELETE("/employers/:id/keys", b.apiDisableKey, perm(atsgate.PermKeysWrite))
	api.GET("/reviews", b.apiReviews, perm(atsgate.PermReviewsRead))
	api.GET("/jobs/:id", b.apiJob, perm(atsgate.PermJobsRead))
	api.POST("/jobs/:id/approve", b.apiModerate(true), perm(atsgate.PermReviewsWrite))
	api.POST("/jobs/:id/disapprove", b.apiModerate(false), perm(atsgate.PermReviewsWrite))
	api.GET("/reconciliation", b.apiReconciliation, perm(atsgate.PermReconciliationRead))
	api.POST("/reconciliation", b.apiReconcile, perm(atsgate.PermReconciliationRun))
	api.GET("/logs", b.apiLogs, perm(atsgate.PermLogsRead))

	// Pages: sign in with a token for a session cookie; every POST carries
	// the session's CSRF token.
	e.GET("/admin/static/admin.css", b.stylesheet)
	e.GET("/admin/login", b.loginPage, b.pageErrors)
	e.POST("/admin/login", b.login, b.pageErrors, b.limitForm)
	pages := e.Group("/admin", b.pageErrors, b.limitForm, b.sessionAuth, b.csrf)
	pages.GET("", b.home)
	pages.GET("/", b.home)
	pages.POST("/logout", b.logout)
	pages.GET("/reviews", b.reviewsPage, perm(atsgate.PermReviewsRead))
	pages.GET("/jobs/:id", b.jobPage, perm(atsgate.PermJobsRead))
	pages.POST("/jobs/:id/approve", b.moderate(true), perm(atsgate.PermReviewsWrite))
	pages.POST("/jobs/:id/disapprove", b.moderate(false), perm(atsgate.PermReviewsWrite))
	pages.GET("/employers", b.employersPage, perm(atsgate.PermEmployersRead))
	pages.GET("/employers/:id", b.statementPage, perm(atsgate.PermWalletsRead))
	pages.GET("/employers/:id/statement.csv", b.statementCSVPage, perm(atsgate.PermWalletsRead))
	pages.POST("/employers/:id/topup", b.postMoney(false), perm(atsgate.PermWalletsWrite))
	pages.POST("/employers/:id/adjust", b.postMoney(true), perm(atsgate.PermWalletsWrite))
	pages.POST("/employers/:id/keys", b.issueKeyPage, perm(atsgate.PermKeysWrite))
	pages.POST("/employers/:id/keys/disable", b.disableKeyPage, perm(atsgate.PermKeysWrite))
	pages.GET("/reconciliation", b.reconciliationPage, perm(atsgate.PermReconciliationRead))
	pages.POST("/reconciliation", b.reconcilePage, perm(atsgate.PermReconciliationRun))
	pages.GET("/logs", b.logsPage, perm(atsgate.PermLogsRead))
}
