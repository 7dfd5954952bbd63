package backoffice

import (
	"bytes"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
	"github.com/atsgate/atsgate/internal/wire"
)

// templatesFS holds the back office's pages and stylesheet; nothing is
// built or fetched at run time.
//
//go:embed templates
var templatesFS embed.FS

// pageTemplate is one page: the shared layout plus the page's content.
type pageTemplate struct{ t *template.Template }

var pageFuncs = template.FuncMap{
	"neg": func(amount string) bool { return strings.HasPrefix(amount, "-") },
}

// parsePages parses every page with the layout. A broken template is a
// programming error the tests catch at once, so it panics.
func parsePages() map[string]*pageTemplate {
	names, err := fs.Glob(templatesFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*pageTemplate{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(pageFuncs).ParseFS(templatesFS, "templates/layout.html", n))
		out[base] = &pageTemplate{t: t}
	}
	return out
}

// navItem is one entry of the navigation, shown only to roles that may
// use it.
type navItem struct {
	Path, Label string
	Perm        atsgate.Permission
	Active      bool
}

var navItems = []navItem{
	{Path: "/admin/reviews", Label: "Moderation queue", Perm: atsgate.PermReviewsRead},
	{Path: "/admin/employers", Label: "Employers", Perm: atsgate.PermEmployersRead},
	{Path: "/admin/reconciliation", Label: "Reconciliation", Perm: atsgate.PermReconciliationRead},
	{Path: "/admin/logs", Label: "Integration log", Perm: atsgate.PermLogsRead},
	{Path: "/admin/webhooks", Label: "Webhooks", Perm: atsgate.PermWebhooksRead},
	{Path: "/admin/erp/sources", Label: "ERP sources", Perm: atsgate.PermEmployersRead},
}

// pageData is what the layout renders around every page.
type pageData struct {
	Title string
	Admin *atsgate.AdminToken
	CSRF  string
	Nav   []navItem
	Flash string
	Data  any
}

// referenceField is the hidden field of a money form that holds its
// reference.
const referenceField = "reference"

// NewReference is a fresh reference for one money form on the page: 128
// random bits, so two forms never share one, while the form itself,
// however often it is sent, always carries the same (see pageMoney).
func (d *pageData) NewReference() string { return "form-" + rand.Text() }

// can reports whether the signed-in role holds a permission, for
// templates that hide actions the role may not take.
func (d *pageData) Can(p string) bool {
	return d.Admin != nil && d.Admin.Role.Can(atsgate.Permission(p))
}

// render writes a page with the layout and the security headers every
// back-office page carries.
func (h *Handler) render(c echo.Context, status int, name, title string, data any) error {
	p, ok := h.pages[name]
	if !ok {
		return atsgate.Internal(errors.New("no template " + name))
	}
	d := &pageData{Title: title, Data: data, Flash: flash(c)}
	if t := adminOf(c); t != nil {
		d.Admin = t
		for _, n := range navItems {
			if t.Role.Can(n.Perm) {
				n.Active = strings.HasPrefix(c.Request().URL.Path, n.Path)
				d.Nav = append(d.Nav, n)
			}
		}
	}
	if s := sessionOf(c); s != nil {
		d.CSRF = s.CSRF
	}
	var buf bytes.Buffer
	if err := p.t.Execute(&buf, d); err != nil {
		return atsgate.Internal(err)
	}
	pageHeaders(c)
	return c.HTMLBlob(status, buf.Bytes())
}

// pageHeaders keeps pages out of caches and frames, and lets them load
// nothing but their own stylesheet: sanitised job descriptions cannot
// pull in remote images or scripts.
func pageHeaders(c echo.Context) {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// flashes are the messages a redirect after a form may show; the query
// names one, so no text from the URL reaches the page.
var flashes = map[string]string{
	"approved":    "Job %s approved and published.",
	"disapproved": "Job %s disapproved; its charge was refunded.",
	// An edit's decision leaves the job published and its charge alone.
	"edit_approved":    "The edit of job %s is live.",
	"edit_disapproved": "The edit of job %s was refused; the job stays as approved.",
	"topup":            "Top-up posted.",
	"adjust":           "Adjustment posted.",
	"topup_again":      "This top-up was already posted as entry %s; it was not posted again.",
	"adjust_again":     "This adjustment was already posted as entry %s; it was not posted again.",
	"key_off":          "The API key was disabled.",
	"reconciled":       "Reconciliation run for %s.",
	"reconcile_failed": "Reconciliation run for %s, but it failed for some employers: they still read pending below, " +
		"and the next run tries them again. The server log has the causes.",
	"signed_out":  "You are signed out.",
	"webhook_set": "Webhook endpoint saved; its signing secret is unchanged.",
	"webhook_off": "Webhook endpoint disabled: no new events are sent.",
	"resent":      "The event is pending again; a running server sends it within seconds.",
}

func flash(c echo.Context) string {
	msg, ok := flashes[c.QueryParam("done")]
	if !ok {
		return ""
	}
	if strings.Contains(msg, "%s") {
		arg := c.QueryParam("ref")
		if len(arg) > 20 || strings.ContainsAny(arg, "<>\"'&") {
			arg = ""
		}
		msg = strings.Replace(msg, "%s", arg, 1)
	}
	return msg
}

// PageErrors renders errors of the pages as HTML with the status their
// code maps to, instead of the API's JSON.
func (h *Handler) PageErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		e, status := mw.Classify(err)
		mw.LogServerError(h.log, c, e, err)
		data := map[string]any{"Status": status, "StatusText": http.StatusText(status), "Message": atsgate.ErrorMessage(e), "Fields": e.Fields}
		return h.render(c, status, "error", http.StatusText(status), data)
	}
}

// problemOf is what a page shows above a refused form: the error's
// message and, for a validation error, which fields were wrong. A nil
// error shows nothing, so a page can call it whether or not its form
// failed.
func problemOf(err error) (string, map[string]string) {
	var fields map[string]string
	var e *atsgate.Error
	if errors.As(err, &e) {
		fields = e.Fields
	}
	return atsgate.ErrorMessage(err), fields
}

// --- sign-in ---------------------------------------------------------------

func (h *Handler) cookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: adminCookiePath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.proxies.HTTPS(c.Request())})
}

// safeNext keeps the after-sign-in redirect inside the back office.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") &&
		!strings.HasPrefix(next, "/admin/login") && !strings.HasPrefix(next, "/admin/logout") {
		return next
	}
	return "/admin/"
}

// LoginPage shows the sign-in form. Before a session exists, CSRF is a
// double-submit token: a cookie and the same value in the form.
func (h *Handler) LoginPage(c echo.Context) error {
	return h.renderLogin(c, http.StatusOK, "")
}

func (h *Handler) renderLogin(c echo.Context, status int, problem string) error {
	token, _, err := atsgate.NewSessionSecret()
	if err != nil {
		return atsgate.Internal(err)
	}
	h.cookie(c, loginCSRFCookie, token, 3600)
	next := c.QueryParam("next")
	if c.Request().Method == http.MethodPost {
		next = formValue(c, "next")
	}
	return h.render(c, status, "login", "Sign in", map[string]any{"LoginCSRF": token, "Next": safeNext(next), "Problem": problem})
}

// Login exchanges an admin token for a session cookie.
func (h *Handler) Login(c echo.Context) error {
	ck, err := c.Cookie(loginCSRFCookie)
	if err != nil || !sameToken(formValue(c, csrfField), ck.Value) {
		return atsgate.Errorf(atsgate.EFORBIDDEN, "the sign-in form's security token is missing or out of date; reload the page and try again")
	}
	tok := strings.TrimSpace(formValue(c, "token"))
	if !atsgate.ValidAdminTokenShape(tok) {
		return h.renderLogin(c, http.StatusUnauthorized, "That is not a valid admin token.")
	}
	ctx := c.Request().Context()
	t, err := h.bo.AuthenticateAdmin(ctx, atsgate.HashAPIKey(tok))
	if atsgate.ErrorCode(err) == atsgate.EUNAUTHORIZED {
		return h.renderLogin(c, http.StatusUnauthorized, "That admin token is not valid or was revoked.")
	}
	if err != nil {
		return err
	}
	cookie, _, err := h.bo.CreateAdminSession(ctx, t.ID, atsgate.AdminSessionTTL)
	if err != nil {
		return err
	}
	h.cookie(c, sessionCookie, cookie, int(atsgate.AdminSessionTTL/time.Second))
	h.cookie(c, loginCSRFCookie, "", -1)
	h.log.InfoContext(ctx, "admin signed in", "actor", t.Actor(), "role", string(t.Role), "token", t.Prefix)
	return c.Redirect(http.StatusSeeOther, safeNext(formValue(c, "next")))
}

// Logout ends the session.
func (h *Handler) Logout(c echo.Context) error {
	if s := sessionOf(c); s != nil {
		if err := h.bo.DeleteAdminSession(c.Request().Context(), s.ID); err != nil {
			return err
		}
	}
	h.cookie(c, sessionCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, "/admin/login?done=signed_out")
}

// Home sends each role to the first page it may use.
func (h *Handler) Home(c echo.Context) error {
	t := adminOf(c)
	for _, n := range navItems {
		if t.Role.Can(n.Perm) {
			return c.Redirect(http.StatusSeeOther, n.Path)
		}
	}
	return atsgate.Errorf(atsgate.EFORBIDDEN, "this role may use no page")
}

// Stylesheet serves the back office's one stylesheet.
func (h *Handler) Stylesheet(c echo.Context) error {
	css, err := templatesFS.ReadFile("templates/admin.css")
	if err != nil {
		return atsgate.Internal(err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", css)
}

// --- moderation ------------------------------------------------------------

// jobView is a job as the pages show it.
type jobView struct {
	Job         *atsgate.Job
	Country     atsgate.Country
	Employer    string
	Received    string
	Published   string
	Charged     string
	Description template.HTML // sanitised with the UGC policy; in the queue, a preview (Job.DescriptionCut)
}

func (h *Handler) jobView(j *atsgate.Job, countries map[int64]atsgate.Country, employers map[int64]string) jobView {
	k := countries[j.CountryID]
	v := jobView{Job: j, Country: k, Employer: employers[j.EmployerID],
		// With the zone's abbreviation: the queue mixes countries.
		Received: k.Local(j.ReceivedAt).Format(atsgate.DateTimeLayout + " MST"),
		Charged:  atsgate.Money{Amount: j.AmountCharged, Currency: k.Currency}.String(),
		// The policy's output is safe HTML: that is its whole job.
		Description: template.HTML(h.ugc.Sanitize(j.Description))} //nolint:gosec
	if !j.PublishedAt.IsZero() {
		v.Published = k.Local(j.PublishedAt).Format(atsgate.DateTimeLayout)
	}
	return v
}

// employerNames looks up the names of the employers of some jobs.
func (h *Handler) employerNames(c echo.Context, jobs []atsgate.Job) (map[int64]string, error) {
	out := map[int64]string{}
	for _, j := range jobs {
		if _, ok := out[j.EmployerID]; ok {
			continue
		}
		e, err := h.bo.Employer(c.Request().Context(), j.EmployerID)
		if err != nil {
			return nil, err
		}
		out[j.EmployerID] = e.Name
	}
	return out, nil
}

// changeView is one row of an edit's diff as the pages show it. Only the
// description is HTML, sanitised by the pages' policy (in wire.NewEdit);
// every other value is text and escaped by the template.
type changeView struct {
	Field            string
	Old, New         string
	HTML             bool
	OldHTML, NewHTML template.HTML
}

// editView is a pending edit with its live job, as the pages show it.
type editView struct {
	Job      jobView
	Edit     wire.Edit
	Proposed string
	Changes  []changeView
}

func editViewOf(job jobView, e wire.Edit) editView {
	v := editView{Job: job, Edit: e, Proposed: e.ProposedDate, Changes: make([]changeView, len(e.Changes))}
	for i, ch := range e.Changes {
		v.Changes[i] = changeView{Field: ch.Field, Old: ch.Old, New: ch.New}
		if ch.Field == "description" {
			v.Changes[i].HTML = true
			// wire.NewEdit sanitised both sides with h.ugc.
			v.Changes[i].OldHTML, v.Changes[i].NewHTML = template.HTML(ch.Old), template.HTML(ch.New) //nolint:gosec
		}
	}
	return v
}

// ReviewsPage is the moderation queue page: pending jobs, then pending
// edits of published jobs with their diffs.
func (h *Handler) ReviewsPage(c echo.Context) error {
	page, err := h.reviewQueue(c)
	if err != nil {
		return err
	}
	jobs, countries := page.jobs, page.countries
	pageLink := func(key string, v int64, otherKey string, other int64) string {
		q := url.Values{key: {strconv.FormatInt(v, 10)}}
		if other != 0 {
			q.Set(otherKey, strconv.FormatInt(other, 10))
		}
		if v := c.QueryParam("country"); v != "" {
			q.Set("country", v)
		}
		return "/admin/reviews?" + q.Encode()
	}
	var next, nextEdits string
	if page.next != 0 {
		next = pageLink("after", page.next, "edits_after", page.editsAfter)
	}
	if page.editsNext != 0 {
		nextEdits = pageLink("edits_after", page.editsNext, "after", page.after)
	}
	all := slices.Clone(jobs)
	for i := range page.edits {
		all = append(all, page.edits[i].Job)
	}
	names, err := h.employerNames(c, all)
	if err != nil {
		return err
	}
	views := make([]jobView, len(jobs))
	for i := range jobs {
		views[i] = h.jobView(&jobs[i], countries, names)
	}
	edits := make([]editView, len(page.edits))
	for i := range page.edits {
		p := &page.edits[i]
		edits[i] = editViewOf(h.jobView(&p.Job, countries, names), h.pendingEditOut(p, countries).Edit)
	}
	list, err := h.bo.Countries(c.Request().Context())
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "reviews", "Moderation queue", map[string]any{
		"Jobs": views, "Edits": edits, "Countries": list, "Country": c.QueryParam("country"),
		"Next": next, "NextEdits": nextEdits, "First": page.after != 0 || page.editsAfter != 0})
}

// JobPage shows one job, its sanitised description, its pending edit's
// diff and its history.
func (h *Handler) JobPage(c echo.Context) error {
	d, err := h.jobDetail(c)
	if err != nil {
		return err
	}
	names, err := h.employerNames(c, []atsgate.Job{*d.job})
	if err != nil {
		return err
	}
	view := h.jobView(d.job, d.countries, names)
	data := map[string]any{"J": view, "Events": d.events}
	if d.edit != nil {
		data["Edit"] = editViewOf(view, *d.edit)
	}
	return h.render(c, http.StatusOK, "job", "Job "+strconv.FormatInt(d.job.ID, 10), data)
}

// ApprovePage approves from a form, then returns to where the form was
// (the queue or the job page).
func (h *Handler) ApprovePage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	editID, err := formEditID(c)
	if err != nil {
		return err
	}
	if editID != 0 {
		_, err = h.bo.ApproveEdit(c.Request().Context(), id, editID, adminOf(c).Actor())
	} else {
		_, err = h.bo.Approve(c.Request().Context(), id, adminOf(c).Actor())
	}
	if err != nil {
		return err
	}
	return backFromModeration(c, id, "approved")
}

// DisapprovePage disapproves from a form with its reason, then returns to
// where the form was.
func (h *Handler) DisapprovePage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	editID, err := formEditID(c)
	if err != nil {
		return err
	}
	if editID != 0 {
		_, err = h.bo.DisapproveEdit(c.Request().Context(), id, editID, adminOf(c).Actor(), formValue(c, "reason"))
	} else {
		_, err = h.bo.Disapprove(c.Request().Context(), id, adminOf(c).Actor(), formValue(c, "reason"))
	}
	if err != nil {
		return err
	}
	return backFromModeration(c, id, "disapproved")
}

// formEditID is the edit a form's reviewer read (the forms of an edit
// carry its ID), or 0 on a pending job's forms: the decision then applies
// to that edit only, never to one that replaced it meanwhile.
func formEditID(c echo.Context) (int64, error) {
	v := formValue(c, "edit")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, atsgate.Invalid(map[string]string{"edit": "is not an edit ID"})
	}
	return id, nil
}

// backFromModeration redirects to the queue or the job page with the
// decision's message; the edit forms say they were about an edit.
func backFromModeration(c echo.Context, id int64, done string) error {
	if formValue(c, "edit") != "" {
		done = "edit_" + done
	}
	back := "/admin/reviews"
	if formValue(c, "from") == "job" {
		back = "/admin/jobs/" + strconv.FormatInt(id, 10)
	}
	return c.Redirect(http.StatusSeeOther, back+"?done="+done+"&ref="+strconv.FormatInt(id, 10))
}

// --- employers and statements ----------------------------------------------

type countryBalanceView struct {
	Country   atsgate.Country
	Employers int64
	Balance   string
}

// EmployersPage lists employers with their balances, and the total balance
// per country.
func (h *Handler) EmployersPage(c echo.Context) error {
	countryID, err := h.countryParam(c)
	if err != nil {
		return err
	}
	after, err := queryID(c, "after")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	emps, nextAfter, err := h.bo.EmployerPage(ctx, countryID, after, adminPageSize)
	if err != nil {
		return err
	}
	var next string
	if nextAfter != 0 {
		q := url.Values{"after": {strconv.FormatInt(nextAfter, 10)}}
		if v := c.QueryParam("country"); v != "" {
			q.Set("country", v)
		}
		next = "/admin/employers?" + q.Encode()
	}
	rows, err := h.employerRows(c, emps)
	if err != nil {
		return err
	}
	countries, err := h.countryMap(c)
	if err != nil {
		return err
	}
	sums, err := h.bo.CountryBalances(ctx)
	if err != nil {
		return err
	}
	var perCountry []countryBalanceView
	for _, s := range sums {
		perCountry = append(perCountry, countryBalanceView{countries[s.CountryID], s.Employers, s.Balance.String()})
	}
	list, err := h.bo.Countries(ctx)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "employers", "Employers", map[string]any{
		"Employers": rows, "PerCountry": perCountry, "Countries": list, "Country": c.QueryParam("country"),
		"Next": next, "First": after != 0})
}

// statementRow is one line of the statement table.
type statementRow struct {
	Entry   atsgate.LedgerEntry
	Time    string
	Amount  string
	Running string
	Refund  bool
}

// defaultPeriod is the current month in the country: the statement page
// opens on it.
func defaultPeriod(k *atsgate.Country, now time.Time) (from, to string) {
	l := k.Local(now)
	first := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, l.Location())
	return first.Format(atsgate.DateLayout), first.AddDate(0, 1, 0).Format(atsgate.DateLayout)
}

// StatementPage is an employer's page: its statement for a period, its keys
// and the wallet forms.
func (h *Handler) StatementPage(c echo.Context) error {
	return h.renderStatement(c, http.StatusOK, "", nil)
}

// renderStatement draws the employer page; newKey is a just-issued API
// key, shown this once.
func (h *Handler) renderStatement(c echo.Context, status int, newKey string, formErr error) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	emp, country, err := h.employerCountry(c, id)
	if err != nil {
		return err
	}
	from, to := c.QueryParam("from"), c.QueryParam("to")
	if !c.QueryParams().Has("from") && !c.QueryParams().Has("to") {
		from, to = defaultPeriod(country, h.now())
	}
	v, err := h.statementFor(c, emp, country, from, to)
	if err != nil {
		return err
	}
	st := v.Statement
	p, err := entryPage(c, st, statementPerPage)
	if err != nil {
		return err
	}
	entries, err := h.bo.StatementEntries(c.Request().Context(), id, st.From, st.To, p)
	if err != nil {
		return err
	}
	rows := make([]statementRow, len(entries))
	for i, e := range entries {
		rows[i] = statementRow{Entry: e, Time: v.local(e.CreatedAt), Amount: v.money(e.Amount),
			Running: v.money(e.BalanceAfter), Refund: e.Kind == atsgate.EntryJobRefund}
	}
	type total struct{ Kind, Amount string }
	var totals []total
	for _, k := range atsgate.EntryKinds {
		totals = append(totals, total{string(k), v.money(st.Totals[k])})
	}
	q := url.Values{"from": {v.From}, "to": {v.To}}
	// Keyset links, as on the other pages: a page of a million-entry
	// ledger costs one index range, wherever it is.
	pageLink := func(cursor string, id int64) string {
		q := url.Values{"from": {v.From}, "to": {v.To}}
		if cursor != "" {
			q.Set(cursor, strconv.FormatInt(id, 10))
		}
		return "/admin/employers/" + strconv.FormatInt(emp.ID, 10) + "?" + q.Encode()
	}
	var first, prev, next, last string
	if n := len(entries); n > 0 {
		if entries[0].ID > st.FirstID {
			first, prev = pageLink("", 0), pageLink("before", entries[0].ID)
		}
		if entries[n-1].ID < st.LastID {
			next, last = pageLink("after", entries[n-1].ID), pageLink("before", st.LastID+1)
		}
	}
	lastDay := ""
	if v.To != "" {
		if t, err := time.Parse(atsgate.DateLayout, v.To); err == nil {
			lastDay = t.AddDate(0, 0, -1).Format(atsgate.DateLayout)
		}
	}
	var keys []atsgate.APIKey
	if adminOf(c).Role.Can(atsgate.PermKeysWrite) {
		if keys, err = h.bo.Keys(c.Request().Context(), id); err != nil {
			return err
		}
	}
	problem, fields := problemOf(formErr)
	return h.render(c, status, "statement", "Statement of "+emp.Name, map[string]any{
		"Employer": emp, "Country": country, "From": v.From, "To": v.To, "LastDay": lastDay,
		"Opening": v.money(st.OpeningBalance), "Closing": v.money(st.ClosingBalance), "Balance": v.money(st.Balance),
		"Rows": rows, "Count": st.Count, "Totals": totals, "First": first, "Prev": prev, "Next": next, "Last": last,
		"CSV":  "/admin/employers/" + strconv.FormatInt(id, 10) + "/statement.csv?" + q.Encode(),
		"Keys": keys, "NewKey": newKey, "Problem": problem, "Fields": fields})
}

// StatementCSVPage downloads the statement of StatementPage as CSV.
func (h *Handler) StatementCSVPage(c echo.Context) error {
	v, err := h.statement(c)
	if err != nil {
		return err
	}
	return h.writeStatementCSV(c, v)
}

// TopUpPage is the top-up form of the employer page.
func (h *Handler) TopUpPage(c echo.Context) error { return h.pageMoney(c, "topup", h.bo.TopUp) }

// AdjustPage is the adjustment form of the employer page.
func (h *Handler) AdjustPage(c echo.Context) error { return h.pageMoney(c, "adjust", h.bo.Adjust) }

// pageMoney posts a form's amount with post, then shows the employer page
// with done's message.
//
// Every money form carries a fresh reference (pageData.NewReference), and
// the store posts a reference once: a double click, a browser resending
// the form or an operator resubmitting it after a lost reply repeats the
// reference and gets the first entry back instead of a second credit. The
// session's CSRF token cannot do this: it lasts the session and fits every
// form.
func (h *Handler) pageMoney(c echo.Context, done string, post postMoney) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ref := atsgate.NormalReference(formValue(c, referenceField))
	if ref == "" || atsgate.CheckReference(ref) != "" {
		return h.renderStatement(c, http.StatusUnprocessableEntity, "",
			atsgate.Invalid(map[string]string{"reference": "is missing from the form or damaged; reload the page and try again"}))
	}
	amount, err := atsgate.ParseAmount(strings.TrimSpace(formValue(c, "amount")))
	if err != nil {
		return h.renderStatement(c, http.StatusUnprocessableEntity, "",
			atsgate.Invalid(map[string]string{"amount": "must be a decimal amount with at most two decimals"}))
	}
	le, created, err := post(c.Request().Context(), id, amount, adminOf(c).Actor(), formValue(c, "note"), ref)
	switch atsgate.ErrorCode(err) {
	case "":
	case atsgate.EINVALID:
		return h.renderStatement(c, http.StatusUnprocessableEntity, "", err)
	case atsgate.ECONFLICT:
		// The same form sent again with another amount or note (edited
		// after going back, say): it posted once already, and this is not
		// a retry of that posting.
		return h.renderStatement(c, http.StatusConflict, "", atsgate.Errorf(atsgate.ECONFLICT,
			"This form was already posted with a different amount or note, so nothing was posted this time. "+
				"Check the statement; for a new posting use the fresh form below."))
	default:
		return err
	}
	q := url.Values{"done": {done}}
	if !created {
		q = url.Values{"done": {done + "_again"}, "ref": {strconv.FormatInt(le.ID, 10)}}
	}
	return c.Redirect(http.StatusSeeOther, "/admin/employers/"+strconv.FormatInt(id, 10)+"?"+q.Encode())
}

// IssueKeyPage issues (or rotates) an API key and shows it once, on the
// response to the POST itself: it is never in a URL or a redirect.
func (h *Handler) IssueKeyPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	plain, _, err := h.issueKey(c, id, false)
	if err != nil {
		return err
	}
	return h.renderStatement(c, http.StatusOK, plain, nil)
}

// DisableKeyPage disables an employer's API key.
func (h *Handler) DisableKeyPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.disableKey(c, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/employers/"+strconv.FormatInt(id, 10)+"?done=key_off")
}

// --- reconciliation ----------------------------------------------------------

type reconLineView struct {
	L                                  atsgate.ReconciliationLine
	Minimum, Spend, Shortfall, Debited string
	Period                             string
	Owed                               bool
	Failure                            string // why a failed line failed, as people may read it
}

// lastMonth is the month before now's, in UTC: the one a report is most
// often wanted for.
func lastMonth(now time.Time) string {
	t := now.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format(atsgate.MonthLayout)
}

// ReconciliationPage is a month's reconciliation report.
func (h *Handler) ReconciliationPage(c echo.Context) error {
	month := strings.TrimSpace(c.QueryParam("month"))
	if month == "" {
		month = lastMonth(h.now())
	}
	countryID, err := h.countryParam(c)
	if err != nil {
		return err
	}
	r, err := h.bo.ReconciliationReport(c.Request().Context(), month, countryID)
	if err != nil {
		return err
	}
	return h.renderReconciliation(c, r)
}

func (h *Handler) renderReconciliation(c echo.Context, r *atsgate.Reconciliation) error {
	lines := make([]reconLineView, len(r.Lines))
	type sum struct {
		Currency                 string
		Minimum, Spend, Debited  decimal.Decimal
		Shortfall                decimal.Decimal
		MinS, SpendS, DebS, ShoS string
	}
	var sums []*sum
	byCur := map[string]*sum{}
	for i, l := range r.Lines {
		m := func(d decimal.Decimal) string { return atsgate.Money{Amount: d, Currency: l.Currency}.String() }
		lines[i] = reconLineView{L: l, Minimum: m(l.Minimum), Spend: m(l.Spend), Shortfall: m(l.Shortfall), Debited: m(l.Debited),
			Period: l.From.Format("2006-01-02 15:04") + " – " + l.To.Format("2006-01-02 15:04 MST"),
			Owed:   l.Status == atsgate.ReconcilePending, Failure: wire.Failure(l.Err)}
		s, ok := byCur[l.Currency]
		if !ok {
			s = &sum{Currency: l.Currency}
			byCur[l.Currency] = s
			sums = append(sums, s)
		}
		s.Minimum = s.Minimum.Add(l.Minimum)
		s.Spend = s.Spend.Add(l.Spend)
		s.Shortfall = s.Shortfall.Add(l.Shortfall)
		s.Debited = s.Debited.Add(l.Debited)
	}
	for _, s := range sums {
		m := func(d decimal.Decimal) string { return atsgate.Money{Amount: d, Currency: s.Currency}.String() }
		s.MinS, s.SpendS, s.DebS, s.ShoS = m(s.Minimum), m(s.Spend), m(s.Debited), m(s.Shortfall)
	}
	list, err := h.bo.Countries(c.Request().Context())
	if err != nil {
		return err
	}
	// A run only does something for a line that ended short and is not
	// debited yet, or that failed; for a month still running everywhere,
	// or settled, the page says so instead of offering a button that does
	// nothing.
	runnable := false
	for _, l := range r.Lines {
		runnable = runnable || l.Status == atsgate.ReconcilePending || l.Status == atsgate.ReconcileFailed
	}
	return h.render(c, http.StatusOK, "reconciliation", "Reconciliation "+r.Month, map[string]any{
		"R": r, "Lines": lines, "Sums": sums, "Countries": list, "Country": c.QueryParam("country"),
		"At": r.At.UTC().Format("2006-01-02 15:04:05 UTC"), "Runnable": runnable})
}

// ReconcilePage runs the reconciliation of a month from the report page.
func (h *Handler) ReconcilePage(c echo.Context) error {
	month := strings.TrimSpace(formValue(c, "month"))
	r, err := h.bo.Reconcile(c.Request().Context(), month, 0, adminOf(c).Actor())
	if err != nil {
		return err
	}
	done := "reconciled"
	if h.logFailures(c, r) {
		done = "reconcile_failed"
	}
	return c.Redirect(http.StatusSeeOther, "/admin/reconciliation?"+url.Values{"month": {month}, "done": {done}, "ref": {month}}.Encode())
}

// --- integration log -------------------------------------------------------

type logView struct {
	E        atsgate.LogEntry
	Time     string
	Country  string
	Duration string
	Failed   bool
	Action   string // RESPONSE or ERROR
}

// LogsPage is the integration log with its filters.
func (h *Handler) LogsPage(c echo.Context) error {
	f, err := logFilter(c)
	if err != nil {
		return err
	}
	entries, err := h.bo.Logs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	countries, err := h.countryMap(c)
	if err != nil {
		return err
	}
	views := make([]logView, len(entries))
	for i, e := range entries {
		views[i] = logView{E: e, Time: e.Time.UTC().Format(atsgate.DateTimeLayout), Country: countries[e.CountryID].Code,
			Duration: e.Duration.Round(100 * time.Microsecond).String(), Failed: e.Status >= 400, Action: atsgate.LogAction(e.Status)}
	}
	var next string
	if len(entries) == f.Limit && len(entries) > 0 {
		q := c.QueryParams()
		q.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		next = "/admin/logs?" + q.Encode()
	}
	return h.render(c, http.StatusOK, "logs", "Integration log", map[string]any{
		"Logs": views, "Next": next, "First": f.BeforeID != 0,
		"Q": map[string]string{"employer": c.QueryParam("employer"), "operation": c.QueryParam("operation"),
			"status": c.QueryParam("status"), "since": c.QueryParam("since"), "until": c.QueryParam("until"),
			"dialect": c.QueryParam("dialect"), "source": c.QueryParam("source"), "action": c.QueryParam("action")},
		"Operations": atsgate.LogOperations,
		"Dialects":   []string{atsgate.DialectATS, atsgate.DialectERP},
		"Actions":    []string{atsgate.ActionRequest, atsgate.ActionResponse, atsgate.ActionError},
	})
}
