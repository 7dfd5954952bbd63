package erp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// Request actions, as the seed names them.
const (
	actionCreate = "create_job"
	actionUpdate = "update_job"
	actionBatch  = "batch"
)

// textFields are the string fields of a create or update and where each
// goes: "" for the job's own columns (handled by name), else the extra it
// is kept as.
var textFields = map[string]string{
	"action": "", "source_name": "", "job_id": "", "status": "",
	"title": "", "description": "", "application_url": "", "application_deadline": "",
	"department": "department", "job_type": "job_type", "workplace_type": "workplace_type",
	"location_city": "location_city", "location_state": "location_state", "location_country": "location_country",
	"qualifications": "qualifications_text", "salary_range": "salary_range", "benefits": "benefits",
	"application_instructions": "application_instructions",
}

// request is one decoded create or update body.
type request struct {
	Action      string
	SourceName  string
	JobID       string
	Status      string
	AutoPublish bool
	Input       atsgate.JobInput
	hasContent  bool // any field that changes the job's content
}

// fieldError is a refusal of one field with the seed's code.
func fieldError(code, field, msg string) *atsgate.Error {
	return &atsgate.Error{Code: code, Message: field + " " + msg, Fields: map[string]string{field: msg}}
}

// decode reads one create or update object. Unknown keys are ignored;
// null is the same as absent.
func decode(raw map[string]json.RawMessage, want string) (*request, error) {
	r := &request{Input: atsgate.JobInput{Extras: map[string]string{}}}
	strs := map[string]string{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first bad field is the same on every try
	for _, k := range keys {
		v := bytes.TrimSpace(raw[k])
		if string(v) == "null" {
			continue
		}
		if k == "auto_publish" {
			b, ok := boolOf(v)
			if !ok {
				return nil, fieldError(atsgate.EINVALIDTYPE, k, "must be a boolean")
			}
			r.AutoPublish = b
			continue
		}
		if _, known := textFields[k]; !known {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fieldError(atsgate.EINVALIDTYPE, k, "must be a string")
		}
		strs[k] = s
	}
	for _, k := range []string{"action", "source_name"} {
		if strings.TrimSpace(strs[k]) == "" {
			return nil, fieldError(atsgate.EMISSINGFIELD, k, "is required")
		}
	}
	r.Action, r.SourceName = strings.TrimSpace(strs["action"]), strings.TrimSpace(strs["source_name"])
	if r.Action != want {
		return nil, fieldError(atsgate.EINVALIDTYPE, "action", fmt.Sprintf("must be %q at this endpoint", want))
	}
	create := want == actionCreate
	if create {
		for _, k := range []string{"title", "application_url"} {
			if strings.TrimSpace(strs[k]) == "" {
				return nil, fieldError(atsgate.EMISSINGFIELD, k, "is required")
			}
		}
	} else {
		r.JobID = strings.TrimSpace(strs["job_id"])
		if r.JobID == "" {
			return nil, fieldError(atsgate.EMISSINGFIELD, "job_id", "is required")
		}
		if s, ok := strs["status"]; ok {
			r.Status = strings.ToUpper(strings.TrimSpace(s))
			switch r.Status {
			case "DRAFT", "PUBLISHED", "CLOSED", "ARCHIVED":
			default:
				return nil, fieldError(atsgate.EINVALIDTYPE, "status", "must be one of DRAFT, PUBLISHED, CLOSED, ARCHIVED")
			}
		}
	}
	in := &r.Input
	in.ExternalID = r.JobID
	take := func(k string) *string {
		if s, ok := strs[k]; ok {
			r.hasContent = true
			return &s
		}
		return nil
	}
	in.Title, in.Description, in.ApplyURL = take("title"), take("description"), take("application_url")
	if u := in.ApplyURL; u != nil && !atsgate.IsWebURL(strings.TrimSpace(*u)) {
		return nil, fieldError(atsgate.EINVALIDURL, "application_url", "must be an absolute http or https URL")
	}
	if d := take("application_deadline"); d != nil {
		v := strings.TrimSpace(*d)
		if v != "" {
			if _, err := time.Parse(atsgate.DateLayout, v); err != nil {
				return nil, fieldError(atsgate.EINVALIDTYPE, "application_deadline", "must be a date as YYYY-MM-DD")
			}
		}
		in.Deadline = &v
	}
	for k, extra := range textFields {
		if extra == "" {
			continue
		}
		if v := take(k); v != nil {
			in.Extras[extra] = *v
		}
	}
	if create {
		if in.Description == nil || strings.TrimSpace(*in.Description) == "" {
			// The public job page needs a description; an ERP may send none.
			in.Description = in.Title
		}
		for k, def := range map[string]string{"job_type": "FULL_TIME", "workplace_type": "ON_SITE"} {
			if strings.TrimSpace(in.Extras[k]) == "" {
				in.Extras[k] = def
			}
		}
	}
	return r, nil
}

// boolOf reads true/false, 1/0 and their quoted forms.
func boolOf(v []byte) (bool, bool) {
	switch strings.Trim(strings.ToLower(string(v)), `"`) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// erpField is the ERP name of a field as validation names it.
var erpField = map[string]string{"apply_url": "application_url", "deadline": "application_deadline",
	"qualifications_text": "qualifications", "external_id": "job_id"}

// validate applies the rules both dialects share and turns what they
// refuse into the seed's codes.
func (h *Handler) validate(c echo.Context, r *request, create bool) error {
	country := mw.CountryOf(c)
	fields := map[string]string{}
	in := &r.Input
	if create {
		in.ExternalID = "pending" // the store gives the job its ERP job ID
		// The seed defaults location_country to "United States"; on a
		// country's site that would mislabel every job that leaves it
		// out, so the default is the country whose host received it.
		if strings.TrimSpace(in.Extras["location_country"]) == "" {
			in.Extras["location_country"] = country.Name
		}
	}
	in.Validate(atsgate.Rules{Create: create, Today: country.Today(h.Now()), Taxonomy: h.Taxonomy(country.Code)}, fields)
	if create {
		in.ExternalID = ""
	}
	if len(fields) == 0 {
		return nil
	}
	out := map[string]string{}
	code := atsgate.EINVALIDTYPE
	for k, msg := range fields {
		name := k
		if n, ok := erpField[k]; ok {
			name = n
		}
		out[name] = msg
		switch {
		case msg == "is required" || msg == "must not be empty":
			code = atsgate.EMISSINGFIELD
		case name == "application_url" && code != atsgate.EMISSINGFIELD:
			code = atsgate.EINVALIDURL
		}
	}
	names := make([]string, 0, len(out))
	for k := range out {
		names = append(names, k+" "+out[k])
	}
	sort.Strings(names)
	return &atsgate.Error{Code: code, Message: strings.Join(names, "; "), Fields: out}
}

// readObject reads the body as one JSON object, checking the source's
// signature on the raw bytes first.
func (h *Handler) readObject(c echo.Context) (map[string]json.RawMessage, error) {
	body, err := mw.ReadBody(c)
	if err != nil {
		return nil, err
	}
	if err := h.checkSignature(c, body); err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, atsgate.Errorf(atsgate.EINVALIDJSON, "the body must be a JSON object")
	}
	return raw, nil
}

// checkSource refuses a source_name that is not the key's source.
func checkSource(c echo.Context, name string) error {
	if p := principalOf(c); name != p.Source.Name {
		return atsgate.Errorf(atsgate.EINVALIDSOURCE, "source %q is not the source of this API key", name)
	}
	return nil
}

// CreateJob is POST create-job/.
func (h *Handler) CreateJob(c echo.Context) error {
	raw, err := h.readObject(c)
	if err != nil {
		return err
	}
	res := h.create(c, raw)
	return res.write(c)
}

// UpdateJob is POST update-job/.
func (h *Handler) UpdateJob(c echo.Context) error {
	raw, err := h.readObject(c)
	if err != nil {
		return err
	}
	res := h.update(c, raw)
	return res.write(c)
}

// result is the outcome of one operation, before it is written: a batch
// collects them, a single request writes its own.
type result struct {
	status  int
	message string
	data    *JobData
	err     error
}

func (r result) write(c echo.Context) error {
	if r.err != nil {
		return r.err
	}
	return respond(c, r.status, r.message, r.data)
}

func (h *Handler) create(c echo.Context, raw map[string]json.RawMessage) result {
	r, err := decode(raw, actionCreate)
	if err != nil {
		return result{err: err}
	}
	if err := checkSource(c, r.SourceName); err != nil {
		return result{err: err}
	}
	if err := h.validate(c, r, true); err != nil {
		return result{err: err}
	}
	p := principalOf(c)
	job, err := h.Jobs.CreateERPJob(c.Request().Context(), &p.Principal, r.Input, r.AutoPublish)
	if err != nil {
		return result{err: err}
	}
	mw.SetExternalID(c, job.ExternalID)
	msg := "Job created successfully"
	switch {
	case job.State == atsgate.StatePending && r.AutoPublish:
		msg += "; this employer's jobs are reviewed before they are published, so it awaits review (DRAFT)"
	case job.State == atsgate.StatePending:
		msg += " as DRAFT; it awaits the board's review"
	}
	return result{status: http.StatusCreated, message: msg, data: dataOf(job, r.Input.Warnings)}
}

func (h *Handler) update(c echo.Context, raw map[string]json.RawMessage) result {
	r, err := decode(raw, actionUpdate)
	if err != nil {
		return result{err: err}
	}
	if err := checkSource(c, r.SourceName); err != nil {
		return result{err: err}
	}
	mw.SetExternalID(c, r.JobID)
	if err := h.validate(c, r, false); err != nil {
		return result{err: err}
	}
	p := principalOf(c)
	ctx := c.Request().Context()
	current, err := h.Jobs.Job(ctx, p.Employer.ID, r.JobID)
	if err != nil {
		return result{err: notFound(err, r.JobID)}
	}
	switch {
	case r.Status == "DRAFT" && current.State == atsgate.StatePublished:
		return result{err: atsgate.Errorf(atsgate.EINVALIDSTATUS,
			"job %s is published and cannot go back to DRAFT; close it (CLOSED) or update its fields", r.JobID)}
	case r.Status == "PUBLISHED" && !current.State.Open():
		return result{err: atsgate.Errorf(atsgate.EINVALIDSTATUS, "job %s has ended (%s) and cannot be published again", r.JobID,
			atsgate.ERPStatus(current.State, !current.ArchivedAt.IsZero()))}
	}
	job := current
	if r.hasContent || r.Status == "" || r.Status == "DRAFT" || r.Status == "PUBLISHED" {
		if job, err = h.Jobs.UpdateJob(ctx, &p.Principal, r.Input); err != nil {
			return result{err: notFound(err, r.JobID)}
		}
	}
	switch r.Status {
	case "CLOSED":
		job, err = h.Jobs.CloseJob(ctx, &p.Principal, r.JobID)
	case "ARCHIVED":
		job, err = h.Jobs.ArchiveJob(ctx, &p.Principal, r.JobID)
	}
	if err != nil {
		return result{err: notFound(err, r.JobID)}
	}
	msg := "Job updated successfully"
	switch {
	case job.PendingEdit:
		msg += "; the changes to the published job await the board's review"
	case r.Status == "PUBLISHED" && job.State == atsgate.StatePending:
		msg += "; PUBLISHED does not bypass review: the job is published once a reviewer approves it"
	}
	return result{status: http.StatusOK, message: msg, data: dataOf(job, r.Input.Warnings)}
}

// notFound names the job the ERP way when the store did not find it.
func notFound(err error, jobID string) error {
	if atsgate.ErrorCode(err) == atsgate.ENOTFOUND {
		return atsgate.Errorf(atsgate.EJOBNOTFOUND, "no job %s of this employer", jobID)
	}
	return err
}

func dataOf(j *atsgate.Job, warnings map[string]string) *JobData {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return &JobData{JobID: j.ExternalID, Title: j.Title, Status: atsgate.ERPStatus(j.State, !j.ArchivedAt.IsZero()),
		State: string(j.State), CreatedAt: ts(j.ReceivedAt), UpdatedAt: ts(j.UpdatedAt), PublishedAt: ts(j.PublishedAt),
		PublicLink: j.PublicLink, AmountCharged: j.AmountCharged.String(), PendingEdit: j.PendingEdit, Warnings: warnings}
}
