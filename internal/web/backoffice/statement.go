package backoffice

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// statementView is an employer's statement for a period, ready for JSON,
// CSV and the page: times in the employer's country, amounts with currency.
type statementView struct {
	Employer *atsgate.Employer
	Country  *atsgate.Country
	// From and To are the period's days as given, [From, To); either may
	// be empty for an open end.
	From, To  string
	Statement *atsgate.Statement
}

// parseDay reads "YYYY-MM-DD" as midnight in loc; "" is the zero time.
func parseDay(field, v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(atsgate.DateLayout, v, loc)
	if err != nil {
		return time.Time{}, atsgate.Invalid(map[string]string{field: "must be a date such as 2026-10-01"})
	}
	return t, nil
}

// statement loads the statement of employer :id for ?from= and ?to=,
// read as days in the employer's country time zone: from the start of
// from up to (not including) the start of to.
func (h *Handler) statement(c echo.Context) (*statementView, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	emp, country, err := h.employerCountry(c, id)
	if err != nil {
		return nil, err
	}
	return h.statementFor(c, emp, country, c.QueryParam("from"), c.QueryParam("to"))
}

func (h *Handler) statementFor(c echo.Context, emp *atsgate.Employer, country *atsgate.Country, from, to string) (*statementView, error) {
	loc := country.Location
	if loc == nil {
		loc = time.UTC
	}
	f, err := parseDay("from", from, loc)
	if err != nil {
		return nil, err
	}
	t, err := parseDay("to", to, loc)
	if err != nil {
		return nil, err
	}
	if !f.IsZero() && !t.IsZero() && !t.After(f) {
		return nil, atsgate.Invalid(map[string]string{"to": "must be after from"})
	}
	st, err := h.bo.Statement(c.Request().Context(), emp.ID, f, t)
	if err != nil {
		return nil, err
	}
	if st.Currency == "" {
		st.Currency = country.Currency
	}
	return &statementView{Employer: emp, Country: country, From: strings.TrimSpace(from), To: strings.TrimSpace(to), Statement: st}, nil
}

func (v *statementView) money(d decimal.Decimal) string {
	return atsgate.Money{Amount: d, Currency: v.Statement.Currency}.String()
}

func (v *statementView) local(t time.Time) string {
	return v.Country.Local(t).Format(atsgate.DateTimeLayout)
}

// csvHeader is the statement CSV's one header. Opening balance, closing
// balance and the totals are rows of their own, told apart by "kind", so
// the file is one table a spreadsheet imports as is.
var csvHeader = []string{"time", "entry_id", "kind", "amount", "running_balance", "currency", "job_id", "period", "actor", "note"}

// csvFlushEvery is how many entry rows go out between flushes: the file
// leaves as it is read, never whole in memory.
const csvFlushEvery = 500

// csvWriteWindow is how long the rest of a CSV export may take after each
// flush. The listener's WriteTimeout (30 s) would cut a long export short
// however fast the client reads; moving the deadline on with every flush
// bounds a stalled client instead of a big file.
const csvWriteWindow = 30 * time.Second

// writeStatementCSV streams the statement as CSV: the opening balance,
// every entry with its running balance, the closing balance, and a total
// per kind. Times are in the employer's country time zone. The entries
// stop at the statement's last, so the rows add up to the totals however
// many entries are posted while the file is sent.
func (h *Handler) writeStatementCSV(c echo.Context, v *statementView) error {
	st := v.Statement
	cur := st.Currency
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, statementFilename(v)))
	res.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(res)
	_ = rc.SetWriteDeadline(time.Now().Add(csvWriteWindow)) // not every writer has one: then none to move
	w := csv.NewWriter(res)
	opening := ""
	if !st.From.IsZero() {
		opening = v.local(st.From)
	}
	_ = w.Write(csvHeader)
	_ = w.Write([]string{opening, "", "opening_balance", "", st.OpeningBalance.StringFixed(2), cur, "", "", "", ""})
	n := 0
	ctx := c.Request().Context()
	var err error
	if st.LastID != 0 {
		err = h.bo.EachStatementEntry(ctx, st.EmployerID, st.From, st.To, st.LastID, func(e *atsgate.LedgerEntry) error {
			job := ""
			if e.JobID != 0 {
				job = strconv.FormatInt(e.JobID, 10)
			}
			if err := w.Write([]string{v.local(e.CreatedAt), strconv.FormatInt(e.ID, 10), string(e.Kind),
				e.Amount.StringFixed(2), e.BalanceAfter.StringFixed(2), cur, job, e.Period, csvText(e.Actor), csvText(e.Note)}); err != nil {
				return err
			}
			if n++; n%csvFlushEvery == 0 {
				w.Flush()
				res.Flush()
				_ = rc.SetWriteDeadline(time.Now().Add(csvWriteWindow))
				return w.Error()
			}
			return nil
		})
	}
	if err != nil {
		// The status is sent: all that is left is to break the transfer, so
		// the client sees a failed download rather than a short file that
		// looks whole (it would lack the totals).
		if ctx.Err() == nil {
			h.log.ErrorContext(ctx, "statement CSV cut short", "employer", st.EmployerID, "rows", n, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	closing := ""
	if !st.To.IsZero() {
		closing = v.local(st.To)
	}
	_ = w.Write([]string{closing, "", "closing_balance", "", st.ClosingBalance.StringFixed(2), cur, "", "", "", ""})
	for _, k := range atsgate.EntryKinds {
		_ = w.Write([]string{"", "", "total_" + string(k), st.Totals[k].StringFixed(2), "", cur, "", "", "", ""})
	}
	w.Flush()
	return w.Error()
}

// csvText defuses text a spreadsheet would run as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// statementFilename is e.g. "statement-ACME-2026-06-01-2026-07-01.csv".
func statementFilename(v *statementView) string {
	name := "statement-" + v.Employer.Code
	if v.From != "" {
		name += "-" + v.From
	}
	if v.To != "" {
		name += "-" + v.To
	}
	return name + ".csv"
}

// entryPage reads ?after=, ?before= and ?limit= (1–MaxEntryPage, else
// def) into a page of the statement's entries that ends at its last
// entry: entries posted since it was summed up are not listed beside
// totals that leave them out. ?before= pages back from an entry.
func entryPage(c echo.Context, st *atsgate.Statement, def int) (atsgate.EntryPage, error) {
	p := atsgate.EntryPage{Limit: def, BeforeID: st.LastID + 1}
	fields := map[string]string{}
	after, err := queryID(c, "after")
	if err != nil {
		fields["after"] = "must be an entry ID"
	}
	before, err := queryID(c, "before")
	if err != nil {
		fields["before"] = "must be an entry ID"
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > atsgate.MaxEntryPage {
			fields["limit"] = fmt.Sprintf("must be 1–%d", atsgate.MaxEntryPage)
		}
		p.Limit = n
	}
	if len(fields) > 0 {
		return p, atsgate.Invalid(fields)
	}
	p.AfterID = after
	if before != 0 && after == 0 {
		p.BeforeID, p.Last = min(before, p.BeforeID), true
	}
	return p, nil
}

// logFilter reads the integration log filters: employer, operation,
// status (an exact code such as 422, or 2xx/4xx/5xx), since and until (UTC;
// RFC 3339, "YYYY-MM-DD HH:MM", "YYYY-MM-DDTHH:MM" or a day), before (the
// keyset cursor) and limit.
func logFilter(c echo.Context) (atsgate.LogFilter, error) {
	f := atsgate.LogFilter{Limit: adminPageSize}
	fields := map[string]string{}
	var err error
	if f.EmployerID, err = queryID(c, "employer"); err != nil {
		fields["employer"] = "must be an employer ID"
	}
	if f.BeforeID, err = queryID(c, "before"); err != nil {
		fields["before"] = "must be an entry ID"
	}
	f.Operation = strings.TrimSpace(c.QueryParam("operation"))
	if f.Operation != "" {
		if msg := atsgate.CheckLogOperation(f.Operation); msg != "" {
			fields["operation"] = msg
		}
	}
	// The ERP seed's filters: dialect, source, action (REQUEST, RESPONSE,
	// ERROR) and a date range (from, to; a day given as "to" counts whole).
	f.Dialect = strings.ToLower(strings.TrimSpace(c.QueryParam("dialect")))
	if msg := atsgate.CheckLogDialect(f.Dialect); msg != "" {
		fields["dialect"] = msg
	}
	f.Source = strings.TrimSpace(c.QueryParam("source"))
	f.Action = strings.ToUpper(strings.TrimSpace(c.QueryParam("action")))
	if msg := atsgate.CheckLogAction(f.Action); msg != "" {
		fields["action"] = msg
	}
	if s := strings.ToLower(strings.TrimSpace(c.QueryParam("status"))); s != "" {
		if len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5' {
			f.StatusClass = int(s[0] - '0')
		} else if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 599 {
			f.Status = n
		} else {
			fields["status"] = "must be a status code such as 422, or 2xx, 4xx, 5xx"
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}, {"from", &f.Since}, {"to", &f.Until}} {
		if v := strings.TrimSpace(c.QueryParam(p.name)); v != "" {
			t, ok := parseInstant(v)
			if !ok {
				fields[p.name] = "must be a UTC time such as 2026-06-18T09:00 or a day such as 2026-06-18"
			}
			if p.name == "to" && len(v) == len(atsgate.DateLayout) {
				t = t.AddDate(0, 0, 1) // through the end of that day
			}
			*p.dst = t
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 200 {
			f.Limit = n
		} else {
			fields["limit"] = "must be 1–200"
		}
	}
	if len(fields) > 0 {
		return f, atsgate.Invalid(fields)
	}
	return f, nil
}

// parseInstant reads a UTC time in the forms people and browsers send.
func parseInstant(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", atsgate.DateLayout} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// urlQueryEscape escapes a value for a query string.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }
