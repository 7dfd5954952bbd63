package backoffice

import (
	"bytes"
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

// statementCSV renders the statement as CSV: the opening balance, every
// entry with its running balance, the closing balance, and a total per
// kind. Times are in the employer's country time zone.
func statementCSV(v *statementView) ([]byte, error) {
	st := v.Statement
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	cur := st.Currency
	opening := ""
	if !st.From.IsZero() {
		opening = v.local(st.From)
	}
	rows := [][]string{csvHeader,
		{opening, "", "opening_balance", "", st.OpeningBalance.StringFixed(2), cur, "", "", "", ""}}
	for _, e := range st.Entries {
		job := ""
		if e.JobID != 0 {
			job = strconv.FormatInt(e.JobID, 10)
		}
		rows = append(rows, []string{v.local(e.CreatedAt), strconv.FormatInt(e.ID, 10), string(e.Kind),
			e.Amount.StringFixed(2), e.BalanceAfter.StringFixed(2), cur, job, e.Period, csvText(e.Actor), csvText(e.Note)})
	}
	closing := ""
	if !st.To.IsZero() {
		closing = v.local(st.To)
	}
	rows = append(rows, []string{closing, "", "closing_balance", "", st.ClosingBalance.StringFixed(2), cur, "", "", "", ""})
	for _, k := range atsgate.EntryKinds {
		rows = append(rows, []string{"", "", "total_" + string(k), st.Totals[k].StringFixed(2), "", cur, "", "", "", ""})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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

func writeStatementCSV(c echo.Context, v *statementView) error {
	body, err := statementCSV(v)
	if err != nil {
		return atsgate.Internal(err)
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, statementFilename(v)))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", body)
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
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := strings.TrimSpace(c.QueryParam(p.name)); v != "" {
			t, ok := parseInstant(v)
			if !ok {
				fields[p.name] = "must be a UTC time such as 2026-06-18T09:00 or a day such as 2026-06-18"
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
