// Package erp serves the ERP dialect (SPEC section 7): the
// /recruitment/integration/erp/ endpoints an employer's ERP system calls
// with a source's key, answered in the seed's envelope
// {status, message, data, processing_time}. Its routes are in package
// web's routes.go; it shares the host step, rate limits, integration log
// and error classification with the ATS dialect through package
// middleware, and the jobs, their lifecycle, reviewed edits and billing
// through the store.
//
// Errors are classified once (middleware.Classify) and written here in
// the envelope (Envelope installs the writer before any step that can
// refuse); the ATS dialect's lower-case codes appear in upper case, and
// the seed's dictionary adds its own (atsgate.EMISSINGFIELD, …).
package erp

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// Handler serves the ERP dialect.
type Handler struct {
	// Sources authenticates source keys and keeps their sync status.
	Sources atsgate.ERPSources
	// Jobs creates, changes and reads jobs.
	Jobs JobStore
	// Taxonomy returns a country's reference data by code.
	Taxonomy func(countryCode string) *atsgate.Taxonomy
	// Now is the clock of signatures, dates and "today".
	Now atsgate.Clock
	// PingDatabase is the health check's database probe.
	PingDatabase func(ctx context.Context) error
}

// JobStore is what the ERP dialect does with jobs.
type JobStore interface {
	atsgate.Jobs
	atsgate.ERPJobs
}

// Envelope is the shape of every ERP response (the seed's "Response
// Format"): status "success" or "error", a message for people, data, and
// the server's processing time in seconds. Errors add error_code (the
// seed's dictionary, or another dialect code in upper case) and, for
// field errors, errors (field → what is wrong).
type Envelope struct {
	Status         string            `json:"status"`
	Message        string            `json:"message"`
	ErrorCode      string            `json:"error_code,omitempty"`
	Errors         map[string]string `json:"errors,omitempty"`
	Data           any               `json:"data,omitempty"` // *JobData, *BatchData or *ErrorData
	ProcessingTime float64           `json:"processing_time"`
}

// JobData is the data of a create or update: the job as the ERP dialect
// sees it.
type JobData struct {
	// JobID is the ERP job ID, "<EMPLOYER_CODE>-<YEAR>-<NNNN>"; it is
	// also the job's external_id in the ATS dialect and the back office.
	JobID string `json:"job_id"`
	Title string `json:"title"`
	// Status is DRAFT, PUBLISHED, CLOSED or ARCHIVED (SPEC section 7).
	Status string `json:"status"`
	// State is the job's lifecycle state as the ATS dialect names it.
	State         string `json:"state"`
	CreatedAt     string `json:"created_at"` // RFC 3339, UTC
	UpdatedAt     string `json:"updated_at"`
	PublishedAt   string `json:"published_at"` // "" until published
	PublicLink    string `json:"public_link"`
	AmountCharged string `json:"amount_charged"`
	// PendingEdit is true while an update of the published job waits for
	// the board's review.
	PendingEdit bool              `json:"pending_edit"`
	Warnings    map[string]string `json:"warnings,omitempty"`
}

// ErrorData is the data of an error that has something to hand back:
// JOB_EXISTS's open job, INSUFFICIENT_FUNDS's balance and price.
type ErrorData struct {
	JobID    string `json:"job_id,omitempty"`
	Balance  string `json:"balance,omitempty"`
	Price    string `json:"price,omitempty"`
	Currency string `json:"currency,omitempty"`
}

// Health is the body of / and /health/: the seed's health shape, with
// the envelope's processing_time. / adds a message and the API's data.
type Health struct {
	Status         string         `json:"status"` // healthy or unhealthy
	Timestamp      string         `json:"timestamp"`
	Services       HealthServices `json:"services"`
	Message        string         `json:"message,omitempty"`
	Data           *APIInfo       `json:"data,omitempty"`
	ProcessingTime float64        `json:"processing_time"`
}

// HealthServices are the parts of the health check.
type HealthServices struct {
	ERPIntegration string `json:"erp_integration"` // available or unavailable
	Database       string `json:"database"`        // connected or disconnected
}

// APIInfo describes the API at its root.
type APIInfo struct {
	Version   string   `json:"version"`
	Endpoints []string `json:"endpoints"`
}

// processingTime is the request's time so far, in seconds.
func processingTime(c echo.Context) float64 {
	d := time.Since(mw.StartOf(c))
	return float64(d.Microseconds()) / 1e6
}

// respond writes a success envelope.
func respond(c echo.Context, status int, message string, data any) error {
	return c.JSON(status, Envelope{Status: "success", Message: message, Data: data, ProcessingTime: processingTime(c)})
}

// Envelope makes every error of this request leave in the ERP envelope.
// It comes first in the ERP routes, before the integration log and every
// step that can refuse.
func (h *Handler) Envelope(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		mw.SetErrorWriter(c, writeError)
		return next(c)
	}
}

// writeError is the ERP dialect's middleware.ErrorWriter.
func writeError(c echo.Context, e *atsgate.Error, status int) error {
	env := Envelope{Status: "error", Message: atsgate.ErrorMessage(e), ErrorCode: wireCode(e.Code), Errors: e.Fields}
	if e.Code == atsgate.EINVALID {
		status = http.StatusBadRequest // the seed answers bad data with 400
	}
	switch {
	case e.JobID != "":
		env.Data = &ErrorData{JobID: e.JobID}
	case e.Funds != nil:
		env.Data = &ErrorData{Balance: e.Funds.Balance.String(), Price: e.Funds.Price.String(), Currency: e.Funds.Currency}
	}
	if e.Code == atsgate.EUNAUTHORIZED || e.Code == atsgate.EINVALIDAPIKEY || e.Code == atsgate.ESOURCEINACTIVE {
		c.Response().Header().Del("WWW-Authenticate") // the key is X-API-Key, not a Bearer token
	}
	env.ProcessingTime = processingTime(c)
	return c.JSON(status, env)
}

// wireCode is the ERP name of an error code: the seed's dictionary codes
// as they are, the shared codes in upper case (validation_failed, which
// the ERP handlers turn into the seed's codes, becomes INVALID_TYPE).
func wireCode(code string) string {
	switch code {
	case atsgate.EINVALID:
		return atsgate.EINVALIDTYPE
	case atsgate.EUNAUTHORIZED:
		return atsgate.EINVALIDAPIKEY
	case atsgate.EINTERNAL:
		return "INTERNAL_ERROR"
	}
	return strings.ToUpper(code)
}

// Operation names an ERP request for the integration log, logs and
// metrics, after the seed's actions: "health" (/ and /health/),
// "create_job", "update_job", "batch"; "invalid" for a method the
// endpoint does not take, "unknown" for a path no endpoint serves.
func Operation(c echo.Context) string {
	op, method := endpoint(c.Request().URL.Path)
	switch {
	case op == "":
		return "unknown"
	case c.Request().Method != method:
		return "invalid"
	}
	return op
}

// endpoint names the ERP endpoint at a request path, and its method; ""
// for a path that is not one.
func endpoint(path string) (op, method string) {
	rest, ok := strings.CutPrefix(path, "/recruitment/integration/erp")
	if !ok {
		return "", ""
	}
	switch strings.TrimSuffix(rest, "/") {
	case "", "/health":
		return "health", http.MethodGet
	case "/create-job":
		return "create_job", http.MethodPost
	case "/update-job":
		return "update_job", http.MethodPost
	case "/batch":
		return "batch", http.MethodPost
	}
	return "", ""
}

// NotFound answers what no ERP route matched: another method on a known
// path is 405 with the Allow header, anything else 404, in the envelope.
func (h *Handler) NotFound(c echo.Context) error {
	op, method := endpoint(c.Request().URL.Path)
	if op == "" {
		return atsgate.Errorf(atsgate.ENOTFOUND, "no such endpoint; the ERP endpoints are /, health/, create-job/, update-job/ and batch/")
	}
	c.Response().Header().Set("Allow", method)
	return atsgate.Errorf(atsgate.EMETHOD, "%s is not a method of this endpoint; use %s", c.Request().Method, method)
}

// HealthMethods answers another method on the public health endpoints
// (405) before authentication, which they do not need.
func (h *Handler) HealthMethods(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if op, _ := endpoint(c.Request().URL.Path); op == "health" {
			return h.NotFound(c)
		}
		return next(c)
	}
}

// healthCheck probes the database for at most two seconds.
func (h *Handler) healthCheck(c echo.Context) (Health, int) {
	out := Health{Status: "healthy", Timestamp: h.Now().UTC().Format(time.RFC3339),
		Services: HealthServices{ERPIntegration: "available", Database: "connected"}}
	if h.PingDatabase != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := h.PingDatabase(ctx); err != nil {
			out.Status, out.Services.Database, out.Services.ERPIntegration = "unhealthy", "disconnected", "unavailable"
			return out, http.StatusServiceUnavailable
		}
	}
	return out, http.StatusOK
}

// ServeHealth is /health/: the seed's health shape; 503 "unhealthy" when
// the database is down.
func (h *Handler) ServeHealth(c echo.Context) error {
	out, status := h.healthCheck(c)
	out.ProcessingTime = processingTime(c)
	return c.JSON(status, out)
}

// ServeInfo is /: the health check and what the API offers.
func (h *Handler) ServeInfo(c echo.Context) error {
	out, status := h.healthCheck(c)
	out.Message = "atsgate ERP integration API: POST create-job/, update-job/ or batch/ with your source's X-API-Key"
	out.Data = &APIInfo{Version: "1.0", Endpoints: []string{"GET /", "GET /health/", "POST /create-job/", "POST /update-job/", "POST /batch/"}}
	out.ProcessingTime = processingTime(c)
	return c.JSON(status, out)
}
