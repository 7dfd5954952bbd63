package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/ats"
	"github.com/atsgate/atsgate/internal/atsgate"
)

// atsAllow is the Allow header of the jobs endpoint.
const atsAllow = "GET, POST, PUT"

// atsJobs dispatches the single jobs URL on method and ?action=.
func (s *Server) atsJobs(c echo.Context) error {
	action := c.QueryParam("action")
	switch m := c.Request().Method; {
	case m == http.MethodPost && action == "":
		return s.createJob(c)
	case m == http.MethodPost && action == "close":
		return s.closeJob(c)
	case m == http.MethodPut && action == "":
		return s.updateJob(c)
	case m == http.MethodGet && action == "" && c.QueryParams().Has("external_id"):
		return s.getJob(c)
	case m == http.MethodGet && action == "":
		return s.listJobs(c)
	}
	c.Response().Header().Set("Allow", atsAllow)
	what := c.Request().Method
	if action != "" {
		what += " ?action=" + action
	}
	return atsgate.Errorf(atsgate.EMETHOD,
		"%s is not an operation of this endpoint; use POST (create), PUT (update), POST ?action=close (close) or GET (get, list)", what)
}

// readBody reads at most MaxBodyBytes, chunked or not.
func readBody(c echo.Context) ([]byte, error) {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, MaxBodyBytes)
	b, err := io.ReadAll(r)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, atsgate.Errorf(atsgate.ETOOLARGE, "the body is larger than 1 MiB")
	case err != nil:
		return nil, atsgate.Errorf(atsgate.EINVALIDJSON, "the body could not be read")
	}
	c.Set(ctxRequestBody, b) // for the integration log
	return b, nil
}

// decodeJob reads and validates a create or update body.
func (s *Server) decodeJob(c echo.Context, create bool) (atsgate.JobInput, error) {
	body, err := readBody(c)
	if err != nil {
		return atsgate.JobInput{}, err
	}
	in, fields, err := ats.DecodeJob(body)
	setExternalID(c, in.ExternalID)
	if err != nil {
		return in, err
	}
	if fields == nil {
		fields = map[string]string{}
	}
	country := countryOf(c)
	in.Validate(atsgate.Rules{Create: create, Today: country.Today(s.Now()), Taxonomy: s.Taxonomy(country.Code)}, fields)
	if len(fields) > 0 {
		return in, atsgate.Invalid(fields)
	}
	return in, nil
}

func (s *Server) createJob(c echo.Context) error {
	in, err := s.decodeJob(c, true)
	if err != nil {
		return err
	}
	p := principalOf(c)
	job, created, err := s.Jobs.CreateJob(c.Request().Context(), p, in)
	if err != nil {
		return err
	}
	if !created {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.JSON(http.StatusOK, recordOf(job, &p.Country))
	}
	return c.JSON(http.StatusCreated, recordOf(job, &p.Country))
}

func (s *Server) updateJob(c echo.Context) error {
	in, err := s.decodeJob(c, false)
	if err != nil {
		return err
	}
	p := principalOf(c)
	job, err := s.Jobs.UpdateJob(c.Request().Context(), p, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordOf(job, &p.Country))
}

func (s *Server) closeJob(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	externalID, fields, err := ats.DecodeExternalID(body)
	setExternalID(c, externalID)
	if err != nil {
		return err
	}
	if msg := atsgate.CheckExternalID(externalID); len(fields) == 0 && msg != "" {
		fields = map[string]string{"external_id": msg}
	}
	if len(fields) > 0 {
		return atsgate.Invalid(fields)
	}
	p := principalOf(c)
	job, err := s.Jobs.CloseJob(c.Request().Context(), p, externalID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordOf(job, &p.Country))
}

func (s *Server) getJob(c echo.Context) error {
	externalID := c.QueryParam("external_id")
	if msg := atsgate.CheckExternalID(externalID); msg != "" {
		return atsgate.Invalid(map[string]string{"external_id": msg})
	}
	p := principalOf(c)
	job, err := s.Jobs.Job(c.Request().Context(), p.Employer.ID, externalID)
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

func (s *Server) listJobs(c echo.Context) error {
	f := atsgate.JobFilter{State: atsgate.JobState(c.QueryParam("state")), Cursor: c.QueryParam("cursor")}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return atsgate.Invalid(map[string]string{"limit": "must be an integer between 1 and 200"})
		}
		f.Limit = n
	}
	p := principalOf(c)
	page, err := s.Jobs.ListJobs(c.Request().Context(), p.Employer.ID, f)
	if err != nil {
		return err
	}
	out := listResponse{Jobs: make([]jobRecord, len(page.Jobs)), NextCursor: page.NextCursor}
	for i := range page.Jobs {
		out.Jobs[i] = recordOf(&page.Jobs[i], &p.Country)
	}
	return c.JSON(http.StatusOK, out)
}

// jobRecord is the wire form of a job. Unknown dates are "", never null.
type jobRecord struct {
	ExternalID        string `json:"external_id"`
	State             string `json:"state"`
	ReceivedDate      string `json:"received_date"`
	PublishedDate     string `json:"published_date"`
	PublicLink        string `json:"public_link"`
	AmountCharged     string `json:"amount_charged"`
	Title             string `json:"title"`
	Deadline          string `json:"deadline"`
	UpdatedDate       string `json:"updated_date"`
	ClosedDate        string `json:"closed_date"`
	DisapprovalReason string `json:"disapproval_reason"`
}

func recordOf(j *atsgate.Job, c *atsgate.Country) jobRecord {
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return c.Local(t).Format(atsgate.DateTimeLayout)
	}
	return jobRecord{
		ExternalID: j.ExternalID, State: string(j.State), ReceivedDate: date(j.ReceivedAt),
		PublishedDate: date(j.PublishedAt), PublicLink: j.PublicLink, AmountCharged: j.AmountCharged.String(),
		Title: j.Title, Deadline: j.Deadline, UpdatedDate: date(j.UpdatedAt), ClosedDate: date(j.ClosedAt),
		DisapprovalReason: j.DisapprovalReason,
	}
}

// taxonomy serves the country's reference data, so integrators can map
// their regions, qualifications and specializations to IDs.
func (s *Server) taxonomy(c echo.Context) error {
	return c.JSON(http.StatusOK, s.Taxonomy(countryOf(c).Code))
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
