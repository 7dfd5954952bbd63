package ats

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
	"github.com/atsgate/atsgate/internal/wire"
)

// Handler serves the ATS dialect (SPEC section 2): one jobs URL whose
// method and ?action= choose the operation, and the country taxonomy.
// Its routes are in package web's routes.go.
type Handler struct {
	// Keys authenticates API keys.
	Keys Authenticator
	// Jobs creates, changes and reads jobs.
	Jobs atsgate.Jobs
	// Taxonomy returns a country's reference data by code.
	Taxonomy func(countryCode string) *atsgate.Taxonomy
	// Now is the clock of "today" in validation.
	Now atsgate.Clock
}

// Authenticator finds the principal of a hashed API key; atsgate.Directory
// is one.
type Authenticator interface {
	// Authenticate returns the principal of an active key, or an
	// EUNAUTHORIZED error.
	Authenticate(ctx context.Context, keyHash string) (*atsgate.Principal, error)
}

// atsAllow is the Allow header of the jobs endpoint.
const atsAllow = "GET, POST, PUT"

// ServeJobs is the single jobs URL (/api/ats/jobs and its .php alias):
// it dispatches on method and ?action=.
func (h *Handler) ServeJobs(c echo.Context) error {
	action := c.QueryParam("action")
	switch dispatch(c.Request().Method, action, c.QueryParams()) {
	case "create":
		return h.createJob(c)
	case "close":
		return h.closeJob(c)
	case "update":
		return h.updateJob(c)
	case "get":
		return h.getJob(c)
	case "list":
		return h.listJobs(c)
	}
	c.Response().Header().Set("Allow", atsAllow)
	what := c.Request().Method
	if action != "" {
		what += " ?action=" + action
	}
	return atsgate.Errorf(atsgate.EMETHOD,
		"%s is not an operation of this endpoint; use POST (create), PUT (update), POST ?action=close (close) or GET (get, list)", what)
}

// decodeJob reads and validates a create or update body.
func (h *Handler) decodeJob(c echo.Context, create bool) (atsgate.JobInput, error) {
	body, err := mw.ReadBody(c)
	if err != nil {
		return atsgate.JobInput{}, err
	}
	in, fields, err := DecodeJob(body)
	mw.SetExternalID(c, in.ExternalID)
	if err != nil {
		return in, err
	}
	if fields == nil {
		fields = map[string]string{}
	}
	country := mw.CountryOf(c)
	in.Validate(atsgate.Rules{Create: create, Today: country.Today(h.Now()), Taxonomy: h.Taxonomy(country.Code)}, fields)
	if len(fields) > 0 {
		return in, atsgate.Invalid(fields)
	}
	return in, nil
}

func (h *Handler) createJob(c echo.Context) error {
	in, err := h.decodeJob(c, true)
	if err != nil {
		return err
	}
	p := mw.PrincipalOf(c)
	job, created, err := h.Jobs.CreateJob(c.Request().Context(), p, in)
	if err != nil {
		return err
	}
	rec := recordOf(job, &p.Country)
	rec.Warnings = in.Warnings
	if !created {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.JSON(http.StatusOK, rec)
	}
	return c.JSON(http.StatusCreated, rec)
}

func (h *Handler) updateJob(c echo.Context) error {
	in, err := h.decodeJob(c, false)
	if err != nil {
		return err
	}
	p := mw.PrincipalOf(c)
	job, err := h.Jobs.UpdateJob(c.Request().Context(), p, in)
	if err != nil {
		return err
	}
	rec := recordOf(job, &p.Country)
	rec.Warnings = in.Warnings
	return c.JSON(http.StatusOK, rec)
}

func (h *Handler) closeJob(c echo.Context) error {
	body, err := mw.ReadBody(c)
	if err != nil {
		return err
	}
	externalID, fields, err := DecodeExternalID(body)
	mw.SetExternalID(c, externalID)
	if err != nil {
		return err
	}
	if msg := atsgate.CheckExternalID(externalID); len(fields) == 0 && msg != "" {
		fields = map[string]string{"external_id": msg}
	}
	if len(fields) > 0 {
		return atsgate.Invalid(fields)
	}
	p := mw.PrincipalOf(c)
	job, err := h.Jobs.CloseJob(c.Request().Context(), p, externalID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordOf(job, &p.Country))
}

func (h *Handler) getJob(c echo.Context) error {
	externalID := c.QueryParam("external_id")
	if msg := atsgate.CheckExternalID(externalID); msg != "" {
		return atsgate.Invalid(map[string]string{"external_id": msg})
	}
	p := mw.PrincipalOf(c)
	job, err := h.Jobs.Job(c.Request().Context(), p.Employer.ID, externalID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordOf(job, &p.Country))
}

// listResponse is the body of a list.
type listResponse struct {
	Jobs       []jobRecord `json:"jobs"`
	NextCursor string      `json:"next_cursor"`
}

func (h *Handler) listJobs(c echo.Context) error {
	f := atsgate.JobFilter{State: atsgate.JobState(c.QueryParam("state")), Cursor: c.QueryParam("cursor")}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return atsgate.Invalid(map[string]string{"limit": "must be an integer between 1 and 200"})
		}
		f.Limit = n
	}
	p := mw.PrincipalOf(c)
	page, err := h.Jobs.ListJobs(c.Request().Context(), p.Employer.ID, f)
	if err != nil {
		return err
	}
	out := listResponse{Jobs: make([]jobRecord, len(page.Jobs)), NextCursor: page.NextCursor}
	for i := range page.Jobs {
		out.Jobs[i] = recordOf(&page.Jobs[i], &p.Country)
	}
	return c.JSON(http.StatusOK, out)
}

// jobRecord is the wire form of a job: the ATS record of package wire,
// which webhook events carry too.
type jobRecord = wire.JobRecord

func recordOf(j *atsgate.Job, c *atsgate.Country) jobRecord { return wire.NewJobRecord(j, c) }

// ServeTaxonomy serves the country's reference data, so integrators can map
// their regions, qualifications and specializations to IDs.
func (h *Handler) ServeTaxonomy(c echo.Context) error {
	return c.JSON(http.StatusOK, h.Taxonomy(mw.CountryOf(c).Code))
}

// Authenticate checks that the bearer key belongs to an active employer
// of the host's country, and records the principal for what follows.
func (h *Handler) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := h.principal(c)
		if err != nil {
			return err
		}
		mw.SetPrincipal(c, p)
		return next(c)
	}
}

func (h *Handler) principal(c echo.Context) (*atsgate.Principal, error) {
	unauthorized := func(msg string) error { return atsgate.Errorf(atsgate.EUNAUTHORIZED, "%s", msg) }
	auth := c.Request().Header.Get("Authorization")
	if auth == "" {
		return nil, unauthorized("the Authorization header is missing; send 'Authorization: Bearer <API key>'")
	}
	scheme, key, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, unauthorized("the Authorization header must be 'Bearer <API key>'")
	}
	key = strings.TrimSpace(key)
	cc, _, ok := atsgate.SplitAPIKey(key)
	if !ok {
		return nil, unauthorized("the API key is not valid")
	}
	country := mw.CountryOf(c)
	if cc != country.Code {
		return nil, unauthorized("this API key is for another country's site; send it to that site's host")
	}
	p, err := h.Keys.Authenticate(c.Request().Context(), atsgate.HashAPIKey(key))
	if err != nil {
		return nil, err
	}
	if p.Country.ID != country.ID {
		return nil, unauthorized("this API key is for another country's site; send it to that site's host")
	}
	return p, nil
}

// Operation is a request's operation as ServeJobs dispatches it, for the
// integration log, logs and metrics: "create", "close", "update", "get",
// "list", "invalid" for another method or action, "unknown" for another
// path.
func Operation(c echo.Context) string {
	req := c.Request()
	if strings.HasSuffix(c.Path(), "*") {
		return "unknown" // no such endpoint: the group's catch-all
	}
	if !strings.HasSuffix(c.Path(), "/jobs") && !strings.HasSuffix(c.Path(), "/jobs.php") {
		return "unknown"
	}
	return dispatch(req.Method, c.QueryParam("action"), c.QueryParams())
}

// dispatch names the operation of a request to the jobs URL, from its
// method, ?action= and query: the one place ServeJobs and Operation agree
// on.
func dispatch(method, action string, q url.Values) string {
	switch {
	case method == http.MethodPost && action == "":
		return "create"
	case method == http.MethodPost && action == "close":
		return "close"
	case method == http.MethodPut && action == "":
		return "update"
	case method == http.MethodGet && action == "" && q.Has("external_id"):
		return "get"
	case method == http.MethodGet && action == "":
		return "list"
	}
	return "invalid"
}
