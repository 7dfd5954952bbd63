package backoffice

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
	"github.com/atsgate/atsgate/internal/wire"
)

// Context keys of the back office.
const (
	ctxAdmin   = "atsgate.admin"
	ctxSession = "atsgate.admin_session"
)

// Cookie names of the back office.
const (
	sessionCookie    = "atsgate_admin"
	loginCSRFCookie  = "atsgate_login"
	csrfField        = "csrf"
	adminCookiePath  = "/admin"
	adminPageSize    = 50
	statementPerPage = 100
	// statementAPIPage is the admin API's default page of statement
	// entries: a month of most employers' ledgers in one answer.
	statementAPIPage = 500
)

// Handler serves the back office: its JSON API, its pages and their
// middleware. Its routes are in package web's routes.go.
type Handler struct {
	bo      atsgate.BackOffice
	log     *slog.Logger
	now     atsgate.Clock
	proxies mw.Proxies
	pages   map[string]*pageTemplate
	ugc     *bluemonday.Policy

	// Webhooks sets endpoints and shows deliveries; nil answers their
	// routes with not_found.
	Webhooks atsgate.Webhooks
}

// New returns the back office over bo. proxies tell it when a browser came
// over HTTPS through a trusted proxy, so cookies get the Secure attribute.
func New(bo atsgate.BackOffice, log *slog.Logger, now atsgate.Clock, proxies mw.Proxies) *Handler {
	return &Handler{bo: bo, log: log, now: now, proxies: proxies, pages: parsePages(), ugc: mw.Sanitizer()}
}

func adminOf(c echo.Context) *atsgate.AdminToken {
	t, _ := c.Get(ctxAdmin).(*atsgate.AdminToken)
	return t
}

func sessionOf(c echo.Context) *atsgate.AdminSession {
	s, _ := c.Get(ctxSession).(*atsgate.AdminSession)
	return s
}

// APIAuth authenticates the JSON admin API: "Authorization: Bearer
// <admin token>", 401 otherwise.
func (h *Handler) APIAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(auth, " ")
		tok = strings.TrimSpace(tok)
		switch {
		case auth == "":
			return atsgate.Errorf(atsgate.EUNAUTHORIZED, "the Authorization header is missing; send 'Authorization: Bearer <admin token>'")
		case !strings.EqualFold(scheme, "Bearer"):
			return atsgate.Errorf(atsgate.EUNAUTHORIZED, "the Authorization header must be 'Bearer <admin token>'")
		case !atsgate.ValidAdminTokenShape(tok):
			return atsgate.Errorf(atsgate.EUNAUTHORIZED, "the admin token is not valid")
		}
		t, err := h.bo.AuthenticateAdmin(c.Request().Context(), atsgate.HashAPIKey(tok))
		if err != nil {
			return err
		}
		c.Set(ctxAdmin, t)
		return next(c)
	}
}

// Require refuses, with 403, a signed-in role that lacks p.
func (h *Handler) Require(p atsgate.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			t := adminOf(c)
			if t == nil {
				return atsgate.Errorf(atsgate.EUNAUTHORIZED, "sign in first")
			}
			if !t.Role.Can(p) {
				return atsgate.Errorf(atsgate.EFORBIDDEN, "the %s role may not do this (%s)", t.Role, p)
			}
			return next(c)
		}
	}
}

// SessionAuth authenticates the pages by their session cookie. A page
// asked for without a session goes to the sign-in form; anything else is
// refused.
func (h *Handler) SessionAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var sess *atsgate.AdminSession
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sess, err = h.bo.AdminSession(c.Request().Context(), atsgate.HashAPIKey(ck.Value))
			if err != nil && atsgate.ErrorCode(err) != atsgate.EUNAUTHORIZED {
				return err
			}
		}
		if sess == nil {
			if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
				return c.Redirect(http.StatusSeeOther, "/admin/login?next="+urlQueryEscape(c.Request().URL.RequestURI()))
			}
			return atsgate.Errorf(atsgate.EUNAUTHORIZED, "the session has ended; sign in again")
		}
		c.Set(ctxSession, sess)
		c.Set(ctxAdmin, &sess.Token)
		return next(c)
	}
}

// CSRF checks, on every state-changing request of a signed-in page, that
// the form carries the session's CSRF token: 403 otherwise. The cookie is
// SameSite=Strict as well; the token is what makes that belt and braces.
func (h *Handler) CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		sess := sessionOf(c)
		if sess == nil || !sameToken(formValue(c, csrfField), sess.CSRF) {
			return atsgate.Errorf(atsgate.EFORBIDDEN, "the form's security token is missing or out of date; reload the page and try again")
		}
		return next(c)
	}
}

// LimitForm caps form bodies like API bodies.
func (h *Handler) LimitForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		r.Body = http.MaxBytesReader(c.Response(), r.Body, mw.MaxBodyBytes)
		return next(c)
	}
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// formValue reads a POST form field; a body that cannot be parsed reads
// as empty, which the checks then refuse.
func formValue(c echo.Context, name string) string {
	r := c.Request()
	if r.PostForm == nil {
		_ = r.ParseForm()
	}
	return r.PostForm.Get(name)
}

// pathID reads a positive integer path parameter.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id < 1 {
		return 0, atsgate.Errorf(atsgate.ENOTFOUND, "no %s %q", name, c.Param(name))
	}
	return id, nil
}

// queryID reads an optional positive integer query parameter (0 if absent).
func queryID(c echo.Context, name string) (int64, error) {
	v := strings.TrimSpace(c.QueryParam(name))
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, atsgate.Invalid(map[string]string{name: "must be a positive integer"})
	}
	return id, nil
}

// countryParam resolves ?country= (code or ID) to an ID; 0 when absent.
func (h *Handler) countryParam(c echo.Context) (int64, error) {
	v := strings.TrimSpace(c.QueryParam("country"))
	if v == "" {
		return 0, nil
	}
	country, err := h.bo.Country(c.Request().Context(), v)
	if atsgate.ErrorCode(err) == atsgate.ENOTFOUND {
		return 0, atsgate.Invalid(map[string]string{"country": "is not a known country code or ID"})
	}
	if err != nil {
		return 0, err
	}
	return country.ID, nil
}

// decodeJSON reads a small JSON body into v; an empty body leaves v as is.
func decodeJSON(c echo.Context, v any) error {
	body, err := mw.ReadBody(c)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return atsgate.Errorf(atsgate.EINVALIDJSON, "the body is not valid JSON: %v", err)
	}
	return nil
}

// amountOf reads a JSON amount given as a number or a decimal string.
func amountOf(raw json.RawMessage) (decimal.Decimal, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return decimal.Zero, errors.New("is required")
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return decimal.Zero, errors.New("must be a decimal amount")
		}
	}
	d, err := atsgate.ParseAmount(strings.TrimSpace(s))
	if err != nil {
		return decimal.Zero, errors.New("must be a decimal amount with at most two decimals")
	}
	return d, nil
}

// --- JSON admin API -------------------------------------------------------
//
// Every body is a type of package wire, the one shape of each object that
// the CLI's --json prints too.

// APICountries lists the countries with their hosts, currency and price.
func (h *Handler) APICountries(c echo.Context) error {
	cs, err := h.bo.Countries(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.CountryList{Countries: wire.NewCountries(cs)})
}

// employerRows joins employers with their countries and balances.
func (h *Handler) employerRows(c echo.Context, emps []atsgate.Employer) ([]wire.Employer, error) {
	ctx := c.Request().Context()
	countries, err := h.countryMap(c)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(emps))
	for i := range emps {
		ids[i] = emps[i].ID
	}
	bal := map[int64]atsgate.Money{}
	if len(ids) > 0 {
		if bal, err = h.bo.Balances(ctx, ids); err != nil {
			return nil, err
		}
	}
	out := make([]wire.Employer, len(emps))
	for i := range emps {
		k := countries[emps[i].CountryID]
		out[i] = wire.NewEmployer(&emps[i], &k, bal[emps[i].ID])
	}
	return out, nil
}

func (h *Handler) countryMap(c echo.Context) (map[int64]atsgate.Country, error) {
	cs, err := h.bo.Countries(c.Request().Context())
	if err != nil {
		return nil, err
	}
	m := make(map[int64]atsgate.Country, len(cs))
	for _, k := range cs {
		m[k.ID] = k
	}
	return m, nil
}

// APIEmployers lists employers, optionally of one country, with their
// balances, a page at a time.
func (h *Handler) APIEmployers(c echo.Context) error {
	countryID, err := h.countryParam(c)
	if err != nil {
		return err
	}
	after, err := queryID(c, "after")
	if err != nil {
		return err
	}
	limit := adminPageSize
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > atsgate.MaxEmployerPage {
			return atsgate.Invalid(map[string]string{"limit": "must be 1–200"})
		}
	}
	var out wire.EmployerList
	emps, next, err := h.bo.EmployerPage(c.Request().Context(), countryID, after, limit)
	if err != nil {
		return err
	}
	out.NextAfter = next
	if out.Employers, err = h.employerRows(c, emps); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// APIEmployer shows one employer with its balance and keys.
func (h *Handler) APIEmployer(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.bo.Employer(c.Request().Context(), id)
	if err != nil {
		return err
	}
	rows, err := h.employerRows(c, []atsgate.Employer{*e})
	if err != nil {
		return err
	}
	keys, err := h.bo.Keys(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.EmployerDetail{Employer: rows[0], Keys: wire.NewAPIKeys(keys)})
}

type moneyBody struct {
	Amount json.RawMessage `json:"amount"`
	Note   string          `json:"note"`
}

// APITopUp credits an employer's wallet.
func (h *Handler) APITopUp(c echo.Context) error { return h.apiMoney(c, h.bo.TopUp) }

// APIAdjust posts a signed correction to an employer's wallet.
func (h *Handler) APIAdjust(c echo.Context) error { return h.apiMoney(c, h.bo.Adjust) }

// postMoney is a wallet operation of an operator: BackOffice.TopUp or
// BackOffice.Adjust.
type postMoney func(ctx context.Context, employerID int64, amount decimal.Decimal, actor, note, reference string) (*atsgate.LedgerEntry, bool, error)

// Headers of an idempotent top-up or adjustment on the admin API, as the
// IETF's Idempotency-Key draft and common payment APIs spell them.
const (
	idempotencyKeyHeader = "Idempotency-Key"
	replayedHeader       = "Idempotent-Replayed"
)

func (h *Handler) apiMoney(c echo.Context, post postMoney) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ref, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var body moneyBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	amount, aerr := amountOf(body.Amount)
	if aerr != nil {
		return atsgate.Invalid(map[string]string{"amount": aerr.Error()})
	}
	emp, country, err := h.employerCountry(c, id)
	if err != nil {
		return err
	}
	le, created, err := post(c.Request().Context(), emp.ID, amount, adminOf(c).Actor(), body.Note, ref)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		// A retry of a request that was posted: the first entry, and a
		// header that tells the client it was not posted again.
		status = http.StatusOK
		c.Response().Header().Set(replayedHeader, "true")
	}
	return c.JSON(status, wire.EntryResponse{Entry: wire.NewLedgerEntry(le, country)})
}

// idempotencyKey reads the optional Idempotency-Key header, the reference
// of a top-up or adjustment. Sent, it must say something: a blank or
// repeated header would otherwise quietly post without idempotency, the
// very double credit the client sent it to prevent.
func idempotencyKey(c echo.Context) (string, error) {
	vs := c.Request().Header.Values(idempotencyKeyHeader)
	if len(vs) == 0 {
		return "", nil
	}
	bad := func(msg string) error {
		return atsgate.Invalid(map[string]string{idempotencyKeyHeader: msg})
	}
	if len(vs) > 1 {
		return "", bad("must be sent once")
	}
	ref := atsgate.NormalReference(vs[0])
	if ref == "" {
		return "", bad("must not be blank")
	}
	if msg := atsgate.CheckReference(ref); msg != "" {
		return "", bad(msg)
	}
	return ref, nil
}

func (h *Handler) employerCountry(c echo.Context, id int64) (*atsgate.Employer, *atsgate.Country, error) {
	emp, err := h.bo.Employer(c.Request().Context(), id)
	if err != nil {
		return nil, nil, err
	}
	country, err := h.bo.Country(c.Request().Context(), strconv.FormatInt(emp.CountryID, 10))
	if err != nil {
		return nil, nil, err
	}
	return emp, country, nil
}

// APIIssueKey issues a new API key for an employer (replacing any active
// one) and shows it once.
func (h *Handler) APIIssueKey(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var body struct {
		Rotate bool `json:"rotate"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	plain, key, err := h.issueKey(c, id, body.Rotate)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, wire.NewIssuedKey(plain, key))
}

// issueKey issues an employer's key for the API and the page alike, and
// logs who did it (never the key).
func (h *Handler) issueKey(c echo.Context, id int64, rotate bool) (string, *atsgate.APIKey, error) {
	plain, key, err := h.bo.IssueKey(c.Request().Context(), id, rotate)
	if err != nil {
		return "", nil, err
	}
	h.log.InfoContext(c.Request().Context(), "api key issued", "employer", id, "prefix", key.Prefix, "actor", adminOf(c).Actor())
	return plain, key, nil
}

// disableKey disables an employer's key for the API and the page alike,
// and logs who did it.
func (h *Handler) disableKey(c echo.Context, id int64) error {
	if err := h.bo.DisableKey(c.Request().Context(), id); err != nil {
		return err
	}
	h.log.InfoContext(c.Request().Context(), "api key disabled", "employer", id, "actor", adminOf(c).Actor())
	return nil
}

// APIDisableKey disables an employer's active API key.
func (h *Handler) APIDisableKey(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.disableKey(c, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.KeyDisabled{EmployerID: id, Disabled: true})
}

// APIStatement is an employer's statement for a period, as JSON with a
// page of its entries (?after= and ?limit=, next_after continues) or, for
// Accept: text/csv or ?format=csv, as CSV with all of them, streamed.
func (h *Handler) APIStatement(c echo.Context) error {
	st, err := h.statement(c)
	if err != nil {
		return err
	}
	if c.QueryParam("format") == "csv" || acceptsCSV(c.Request().Header.Get("Accept")) {
		return h.writeStatementCSV(c, st)
	}
	p, err := entryPage(c, st.Statement, statementAPIPage)
	if err != nil {
		return err
	}
	entries, err := h.bo.StatementEntries(c.Request().Context(), st.Employer.ID, st.Statement.From, st.Statement.To, p)
	if err != nil {
		return err
	}
	out := wire.NewStatement(st.Statement, entries, st.Employer, st.Country, st.From, st.To)
	if n := len(entries); n > 0 && entries[n-1].ID < st.Statement.LastID {
		out.NextAfter = entries[n-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// acceptsCSV reports whether an Accept header prefers CSV to JSON.
func acceptsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.TrimSpace(strings.ToLower(mt)) {
		case "text/csv":
			return true
		case "application/json":
			return false
		}
	}
	return false
}

// jobOut renders a job for the admin API, with its description sanitised
// by the pages' own policy.
func (h *Handler) jobOut(j *atsgate.Job, countries map[int64]atsgate.Country) wire.Job {
	k := countries[j.CountryID]
	return wire.NewJob(j, &k, h.ugc.Sanitize)
}

// APIReviews is the moderation queue, a page at a time.
func (h *Handler) APIReviews(c echo.Context) error {
	q, err := h.reviewQueue(c)
	if err != nil {
		return err
	}
	out := wire.JobList{Jobs: make([]wire.Job, len(q.jobs)), NextAfter: q.next,
		Edits: make([]wire.PendingEdit, len(q.edits)), NextEditAfter: q.editsNext}
	for i := range q.jobs {
		out.Jobs[i] = h.jobOut(&q.jobs[i], q.countries)
	}
	for i := range q.edits {
		out.Edits[i] = h.pendingEditOut(&q.edits[i], q.countries)
	}
	return c.JSON(http.StatusOK, out)
}

// pendingEditOut renders a queued edit with its live job, both with the
// descriptions sanitised by the pages' policy: a reviewer's browser never
// gets an integrator's raw HTML.
func (h *Handler) pendingEditOut(p *atsgate.PendingEdit, countries map[int64]atsgate.Country) wire.PendingEdit {
	k := countries[p.Job.CountryID]
	return wire.PendingEdit{Job: h.jobOut(&p.Job, countries), Edit: wire.NewEdit(p, &k, h.ugc.Sanitize)}
}

// queuePage is one page of the moderation queue, for the API and the page:
// pending jobs, and pending edits of published jobs, each with its own
// keyset (?after= and ?edits_after=).
type queuePage struct {
	jobs        []atsgate.Job
	after, next int64 // the keyset this page started after; the next page's (0 on the last)
	edits       []atsgate.PendingEdit
	editsAfter  int64 // the same for the edits, by edit ID
	editsNext   int64
	countries   map[int64]atsgate.Country
}

// reviewQueue reads ?country= and ?after= and loads that page of the queue.
func (h *Handler) reviewQueue(c echo.Context) (*queuePage, error) {
	countryID, err := h.countryParam(c)
	if err != nil {
		return nil, err
	}
	after, err := queryID(c, "after")
	if err != nil {
		return nil, err
	}
	editsAfter, err := queryID(c, "edits_after")
	if err != nil {
		return nil, err
	}
	jobs, err := h.bo.ReviewQueue(c.Request().Context(), atsgate.ReviewFilter{CountryID: countryID, AfterID: after, Limit: adminPageSize + 1})
	if err != nil {
		return nil, err
	}
	edits, err := h.bo.PendingEdits(c.Request().Context(), atsgate.ReviewFilter{CountryID: countryID, AfterID: editsAfter, Limit: adminPageSize + 1})
	if err != nil {
		return nil, err
	}
	countries, err := h.countryMap(c)
	if err != nil {
		return nil, err
	}
	q := &queuePage{jobs: jobs, after: after, edits: edits, editsAfter: editsAfter, countries: countries}
	if len(jobs) > adminPageSize {
		q.jobs = jobs[:adminPageSize]
		q.next = q.jobs[adminPageSize-1].ID
	}
	if len(edits) > adminPageSize {
		q.edits = edits[:adminPageSize]
		q.editsNext = q.edits[adminPageSize-1].Edit.ID
	}
	return q, nil
}

// APIJob shows one job with its history of transitions and edits, and
// the field-by-field diff of its pending edit.
func (h *Handler) APIJob(c echo.Context) error {
	d, err := h.jobDetail(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.JobDetail{Job: h.jobOut(d.job, d.countries), Events: d.events, PendingEdit: d.edit})
}

// detail is a job with what the API and the job page show beside it.
type detail struct {
	job       *atsgate.Job
	countries map[int64]atsgate.Country
	events    []wire.JobEvent // times in the job's country time zone
	edit      *wire.Edit      // nil without a pending edit
}

// jobDetail loads the job named by the path with its history and its
// pending edit; the API and the job page show it.
func (h *Handler) jobDetail(c echo.Context) (*detail, error) {
	ctx := c.Request().Context()
	var job *atsgate.Job
	id, err := pathID(c, "id")
	if _, isERP := atsgate.ERPJobCode(c.Param("id")); err != nil && isERP {
		// An ERP job ID names the job as well as its number does.
		job, err = h.bo.JobByERPID(ctx, c.Param("id"))
	} else if err == nil {
		job, err = h.bo.JobByID(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	id = job.ID
	var pending *atsgate.PendingEdit
	if job.PendingEdit {
		// The edit comes with the live job read in the same snapshot, so
		// the diff is against the content it would replace. An edit
		// decided since the first read shows as the job without one.
		switch p, err := h.bo.PendingEdit(ctx, id); {
		case err == nil:
			pending, job = p, &p.Job
		case atsgate.ErrorCode(err) == atsgate.ENOTFOUND:
			job.PendingEdit = false
		default:
			return nil, err
		}
	}
	events, err := h.bo.JobEvents(ctx, id)
	if err != nil {
		return nil, err
	}
	countries, err := h.countryMap(c)
	if err != nil {
		return nil, err
	}
	k := countries[job.CountryID]
	d := &detail{job: job, countries: countries, events: wire.NewJobEvents(events, &k)}
	if pending != nil {
		e := wire.NewEdit(pending, &k, h.ugc.Sanitize)
		d.edit = &e
	}
	return d, nil
}

// APIApprove approves a pending job, or applies a published job's pending
// edit. With {"edit_id": N} it applies only edit N, the one the reviewer
// read: 409 when the employer has replaced it since.
func (h *Handler) APIApprove(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var body struct {
		EditID int64 `json:"edit_id"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	var job *atsgate.Job
	if body.EditID != 0 {
		job, err = h.bo.ApproveEdit(c.Request().Context(), id, body.EditID, adminOf(c).Actor())
	} else {
		job, err = h.bo.Approve(c.Request().Context(), id, adminOf(c).Actor())
	}
	if err != nil {
		return err
	}
	return h.moderated(c, job)
}

// APIDisapprove disapproves a pending job with a reason, refunding it, or
// discards a published job's pending edit with a reason, refunding
// nothing.
func (h *Handler) APIDisapprove(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
		EditID int64  `json:"edit_id"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	var job *atsgate.Job
	if body.EditID != 0 {
		job, err = h.bo.DisapproveEdit(c.Request().Context(), id, body.EditID, adminOf(c).Actor(), body.Reason)
	} else {
		job, err = h.bo.Disapprove(c.Request().Context(), id, adminOf(c).Actor(), body.Reason)
	}
	if err != nil {
		return err
	}
	return h.moderated(c, job)
}

// moderated answers an approval or disapproval with the job as it now is.
func (h *Handler) moderated(c echo.Context, job *atsgate.Job) error {
	countries, err := h.countryMap(c)
	if err != nil {
		return err
	}
	// Re-read for the public link, which Disapprove does not fill.
	if j, err := h.bo.JobByID(c.Request().Context(), job.ID); err == nil {
		job = j
	}
	return c.JSON(http.StatusOK, wire.JobResponse{Job: h.jobOut(job, countries)})
}

// APIReconciliation is a month's minimum-spend reconciliation report.
func (h *Handler) APIReconciliation(c echo.Context) error {
	countryID, err := h.countryParam(c)
	if err != nil {
		return err
	}
	r, err := h.bo.ReconciliationReport(c.Request().Context(), c.QueryParam("month"), countryID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.NewReconciliation(r))
}

// APIReconcile runs the reconciliation of a month now. An employer that
// fails is a line with status "failed" and its error; the others are done,
// so the answer is still 200.
func (h *Handler) APIReconcile(c echo.Context) error {
	employerID, err := queryID(c, "employer")
	if err != nil {
		return err
	}
	r, err := h.bo.Reconcile(c.Request().Context(), c.QueryParam("month"), employerID, adminOf(c).Actor())
	if err != nil {
		return err
	}
	h.logFailures(c, r)
	return c.JSON(http.StatusOK, wire.NewReconciliation(r))
}

// logFailures logs each employer a reconciliation run failed for, with
// its cause, which the answer shows only as far as people may see it. It
// reports whether there was any.
func (h *Handler) logFailures(c echo.Context, r *atsgate.Reconciliation) bool {
	failed := false
	for _, l := range r.Lines {
		if l.Status == atsgate.ReconcileFailed {
			failed = true
			h.log.ErrorContext(c.Request().Context(), "reconcile minimum monthly spend: an employer failed",
				"month", r.Month, "employer_id", l.EmployerID, "actor", adminOf(c).Actor(), "err", l.Err)
		}
	}
	return failed
}

// APILogs lists integration log entries, newest first, with filters.
func (h *Handler) APILogs(c echo.Context) error {
	f, err := logFilter(c)
	if err != nil {
		return err
	}
	entries, err := h.bo.Logs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := wire.LogList{Logs: wire.NewLogEntries(entries)}
	if len(entries) == f.Limit && len(entries) > 0 {
		out.NextBefore = entries[len(entries)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}
