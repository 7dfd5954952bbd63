package web_test

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web"
)

// adminEnv is env plus the back office served over real HTTP, a token of
// each role, and some data: Acme (gh) with a wallet, a commitment and
// pending jobs, and Lagos Ltd (ng).
type adminEnv struct {
	*env
	admin   *httptest.Server
	handler http.Handler
	tokens  map[atsgate.Role]string
	acme    employer
	lagos   employer
}

var roles = []atsgate.Role{atsgate.RoleOperator, atsgate.RoleReviewer, atsgate.RoleFinance}

func adminDeps(e *env) web.Deps {
	return web.Deps{
		Directory:  e.st,
		Jobs:       e.st,
		Taxonomy:   config.Taxonomy,
		Now:        e.clock.Now,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		BackOffice: e.st,
	}
}

func newAdminEnv(t testing.TB) *adminEnv {
	t.Helper()
	e := newEnv(t)
	h := web.NewAdmin(adminDeps(e))
	srv := httptest.NewServer(contract(t, "admin", h))
	t.Cleanup(srv.Close)
	a := &adminEnv{env: e, admin: srv, handler: h, tokens: map[atsgate.Role]string{}}
	names := map[atsgate.Role]string{atsgate.RoleOperator: "olu", atsgate.RoleReviewer: "rita", atsgate.RoleFinance: "fatima"}
	for _, r := range roles {
		plain, _, err := e.st.IssueAdminToken(context.Background(), names[r], r)
		if err != nil {
			t.Fatalf("issue %s token: %v", r, err)
		}
		a.tokens[r] = plain
	}
	// Acme's commitment starts in May 2026, a finished month at t0; it has
	// been a customer since April, so May is owed.
	e.clock.Set(time.Date(2026, 4, 20, 9, 0, 0, 0, time.UTC))
	a.acme = e.employer(t, "gh", "Acme Ltd", "1000", func(in *atsgate.EmployerInput) {
		in.Code = "ACME"
		in.MinMonthlySpend = "300"
		in.CommitmentStart = "2026-05"
	})
	e.clock.Set(t0)
	a.lagos = e.employer(t, "ng", "Lagos Ltd", "50000")
	return a
}

// pending creates a pending job of Acme and returns its ID.
func (a *adminEnv) pending(t testing.TB, externalID string, extra ...any) int64 {
	t.Helper()
	a.create(t, a.acme, job(externalID, extra...))
	return a.storedJob(t, a.acme.ID, externalID).ID
}

// api calls the admin API with the token of role ("" for none).
func (a *adminEnv) api(t testing.TB, role atsgate.Role, method, target string, body any, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, a.admin.URL+target, bodyOf(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.send(t, req)
}

func TestAdminAPIRoleMatrix(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	acme := itoa(a.acme.ID)
	op, rev, fin := atsgate.RoleOperator, atsgate.RoleReviewer, atsgate.RoleFinance
	type endpoint struct {
		name    string
		method  string
		allowed []atsgate.Role
		// target returns the path to call; it may prepare fresh data so
		// that each allowed call can succeed on its own.
		target func(t *testing.T) string
		body   any
	}
	fixed := func(p string) func(*testing.T) string { return func(*testing.T) string { return p } }
	freshJob := func(t *testing.T) string { return "/admin/api/jobs/" + itoa(a.pending(t, "M-"+randomSuffix())) }
	endpoints := []endpoint{
		{"countries", "GET", []atsgate.Role{op, rev, fin}, fixed("/admin/api/countries"), nil},
		{"employers", "GET", []atsgate.Role{op, fin}, fixed("/admin/api/employers"), nil},
		{"employers of a country", "GET", []atsgate.Role{op, fin}, fixed("/admin/api/employers?country=gh"), nil},
		{"employer", "GET", []atsgate.Role{op, fin}, fixed("/admin/api/employers/" + acme), nil},
		{"statement", "GET", []atsgate.Role{op, fin}, fixed("/admin/api/employers/" + acme + "/statement?from=2026-06-01&to=2026-07-01"), nil},
		{"statement csv", "GET", []atsgate.Role{op, fin}, fixed("/admin/api/employers/" + acme + "/statement?format=csv"), nil},
		{"top-up", "POST", []atsgate.Role{op}, fixed("/admin/api/employers/" + acme + "/topup"), map[string]any{"amount": "10", "note": "matrix"}},
		{"adjust", "POST", []atsgate.Role{op}, fixed("/admin/api/employers/" + acme + "/adjust"), map[string]any{"amount": -1, "note": "matrix"}},
		// Key changes use employers of their own: Acme's key posts the jobs.
		{"issue key", "POST", []atsgate.Role{op}, func(t *testing.T) string {
			return "/admin/api/employers/" + itoa(a.employer(t, "gh", "Rekeyed "+randomSuffix(), "0").ID) + "/keys"
		}, nil},
		{"disable key", "DELETE", []atsgate.Role{op}, func(t *testing.T) string {
			emp := a.employer(t, "gh", "Keyed "+randomSuffix(), "0")
			return "/admin/api/employers/" + itoa(emp.ID) + "/keys"
		}, nil},
		{"review queue", "GET", []atsgate.Role{op, rev}, fixed("/admin/api/reviews"), nil},
		{"job", "GET", []atsgate.Role{op, rev, fin}, freshJob, nil},
		{"approve", "POST", []atsgate.Role{op, rev}, func(t *testing.T) string { return freshJob(t) + "/approve" }, nil},
		{"disapprove", "POST", []atsgate.Role{op, rev}, func(t *testing.T) string { return freshJob(t) + "/disapprove" }, map[string]any{"reason": "matrix"}},
		{"reconciliation report", "GET", []atsgate.Role{op, fin}, fixed("/admin/api/reconciliation?month=2026-05"), nil},
		{"reconciliation run", "POST", []atsgate.Role{op}, fixed("/admin/api/reconciliation?month=2026-05"), nil},
		{"integration log", "GET", []atsgate.Role{op, fin}, fixed("/admin/api/logs?status=4xx"), nil},
	}
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			for _, role := range roles {
				allowed := false
				for _, r := range ep.allowed {
					allowed = allowed || r == role
				}
				t.Run(string(role), func(t *testing.T) {
					res := a.api(t, role, ep.method, ep.target(t), ep.body)
					if allowed {
						if res.Status < 200 || res.Status > 299 {
							t.Fatalf("%s %s as %s: status %d, want 2xx; body %s", ep.method, ep.name, role, res.Status, res.Body)
						}
						return
					}
					res.wantError(t, http.StatusForbidden, "forbidden")
				})
			}
			t.Run("no token", func(t *testing.T) {
				res := a.api(t, "", ep.method, ep.target(t), ep.body)
				res.wantError(t, http.StatusUnauthorized, "unauthorized")
				if res.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
			t.Run("bad token", func(t *testing.T) {
				req, _ := http.NewRequest(ep.method, a.admin.URL+ep.target(t), bodyOf(t, ep.body))
				req.Header.Set("Authorization", "Bearer atsadm_"+strings.Repeat("x", 43))
				a.send(t, req).wantError(t, http.StatusUnauthorized, "unauthorized")
			})
		})
	}
}

func TestAdminAPITokens(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	ctx := context.Background()
	tests := []struct {
		name, header string
	}{
		{"an employer API key", "Bearer " + a.acme.Key},
		{"basic auth", "Basic " + a.tokens[atsgate.RoleOperator]},
		{"empty bearer", "Bearer "},
		{"garbage", "Bearer atsadm_!!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", a.admin.URL+"/admin/api/countries", nil)
			req.Header.Set("Authorization", tt.header)
			a.send(t, req).wantError(t, http.StatusUnauthorized, "unauthorized")
		})
	}
	t.Run("revoked", func(t *testing.T) {
		plain, tok, err := a.st.IssueAdminToken(ctx, "temp", atsgate.RoleOperator)
		if err != nil {
			t.Fatal(err)
		}
		call := func() response {
			req, _ := http.NewRequest("GET", a.admin.URL+"/admin/api/countries", nil)
			req.Header.Set("Authorization", "Bearer "+plain)
			return a.send(t, req)
		}
		call().wantStatus(t, http.StatusOK)
		if err := a.st.RevokeAdminToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		call().wantError(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("not on the public listener", func(t *testing.T) {
		res := a.send(t, a.request(t, "GET", "/admin/api/countries", "gh.localhost", a.tokens[atsgate.RoleOperator], nil))
		if res.Status != http.StatusNotFound {
			t.Fatalf("public listener served the admin API: status %d", res.Status)
		}
	})
}

func itoa(n int64) string { return decimal.NewFromInt(n).String() }

var suffixN int64

func randomSuffix() string {
	suffixN++
	return itoa(time.Now().UnixNano()%1e9) + "-" + itoa(suffixN)
}

func TestAdminAPIModeration(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	rev := atsgate.RoleReviewer
	approveID := a.pending(t, "A-1")
	rejectID := a.pending(t, "A-2", "description", `<p>Good <b>job</b></p><script>alert(1)</script><img src=x onerror=alert(2)>`)

	var queue struct {
		Jobs []struct {
			ID          int64  `json:"id"`
			Description string `json:"description"`
			Currency    string `json:"currency"`
		} `json:"jobs"`
	}
	a.api(t, rev, "GET", "/admin/api/reviews?country=gh", nil).wantStatus(t, 200).decode(t, &queue)
	if len(queue.Jobs) != 2 || queue.Jobs[0].ID != approveID || queue.Jobs[1].ID != rejectID {
		t.Fatalf("queue = %+v, want jobs %d and %d oldest first", queue.Jobs, approveID, rejectID)
	}
	if d := queue.Jobs[1].Description; strings.Contains(d, "script") || strings.Contains(d, "onerror") || !strings.Contains(d, "<b>job</b>") {
		t.Errorf("description not sanitised: %q", d)
	}
	if queue.Jobs[0].Currency != "GHS" {
		t.Errorf("currency = %q, want GHS", queue.Jobs[0].Currency)
	}

	a.api(t, rev, "POST", "/admin/api/jobs/"+itoa(rejectID)+"/disapprove", map[string]any{}).wantError(t, 422, "validation_failed")
	a.api(t, rev, "POST", "/admin/api/jobs/"+itoa(rejectID)+"/disapprove", `{"reason":`).wantError(t, 400, "invalid_json")
	a.api(t, rev, "POST", "/admin/api/jobs/999999/approve", nil).wantError(t, 404, "not_found")
	a.api(t, rev, "POST", "/admin/api/jobs/abc/approve", nil).wantError(t, 404, "not_found")

	var approved struct {
		Job struct {
			State      string `json:"state"`
			PublicLink string `json:"public_link"`
		} `json:"job"`
	}
	a.api(t, rev, "POST", "/admin/api/jobs/"+itoa(approveID)+"/approve", nil).wantStatus(t, 200).decode(t, &approved)
	if approved.Job.State != "published" || approved.Job.PublicLink == "" {
		t.Errorf("approved job = %+v, want published with a link", approved.Job)
	}
	a.api(t, rev, "POST", "/admin/api/jobs/"+itoa(approveID)+"/disapprove", map[string]any{"reason": "late"}).wantError(t, 409, "conflict")
	a.api(t, rev, "POST", "/admin/api/jobs/"+itoa(rejectID)+"/disapprove", map[string]any{"reason": "Not a real job"}).wantStatus(t, 200)
	// Disapproving again refunds nothing more.
	a.api(t, rev, "POST", "/admin/api/jobs/"+itoa(rejectID)+"/disapprove", map[string]any{"reason": "Not a real job"}).wantStatus(t, 200)
	refunds := 0
	for _, e := range a.statement(t, a.acme.ID).Entries {
		if e.Kind == atsgate.EntryJobRefund {
			refunds++
			if e.Actor != "admin:rita" {
				t.Errorf("refund actor = %q, want admin:rita", e.Actor)
			}
		}
	}
	if refunds != 1 {
		t.Errorf("%d refunds, want 1", refunds)
	}

	var detail struct {
		Job    struct{ State, DisapprovalReason string }  `json:"job"`
		Events []struct{ From, To, Actor, Reason string } `json:"events"`
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/jobs/"+itoa(rejectID), nil).wantStatus(t, 200).decode(t, &detail)
	want := []struct{ From, To, Actor, Reason string }{
		{"", "pending_review", "api:" + atsgate.KeyPrefix(a.acme.Key), ""},
		{"pending_review", "disapproved", "admin:rita", "Not a real job"},
	}
	if diff := cmp.Diff(want, detail.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestAdminAPIMoneyAndKeys(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	op := atsgate.RoleOperator
	base := "/admin/api/employers/" + itoa(a.acme.ID)
	var posted struct {
		Entry struct{ Kind, Amount, RunningBalance, Currency, Actor, Note string } `json:"entry"`
	}
	a.api(t, op, "POST", base+"/topup", map[string]any{"amount": "250.50", "note": "bank 123"}).wantStatus(t, 201).decode(t, &posted)
	if posted.Entry.Amount != "250.50" || posted.Entry.Currency != "GHS" || posted.Entry.Actor != "admin:olu" {
		t.Errorf("top-up = %+v", posted.Entry)
	}
	tests := []struct {
		name, path string
		body       any
		field      string
	}{
		{"negative top-up", "/topup", map[string]any{"amount": "-5"}, "amount"},
		{"three decimals", "/topup", map[string]any{"amount": "1.005"}, "amount"},
		{"no amount", "/topup", map[string]any{}, "amount"},
		{"adjust without note", "/adjust", map[string]any{"amount": "-5"}, "note"},
		{"amount is a word", "/adjust", map[string]any{"amount": "five", "note": "x"}, "amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := a.api(t, op, "POST", base+tt.path, tt.body).wantError(t, 422, "validation_failed")
			if _, ok := e.Error.Fields[tt.field]; !ok {
				t.Errorf("fields = %v, want %s", e.Error.Fields, tt.field)
			}
		})
	}
	a.api(t, op, "POST", "/admin/api/employers/99999/topup", map[string]any{"amount": "5"}).wantError(t, 404, "not_found")

	var issued struct {
		Key    string `json:"key"`
		Prefix string `json:"prefix"`
	}
	a.api(t, op, "POST", base+"/keys", nil).wantStatus(t, 201).decode(t, &issued)
	if !strings.HasPrefix(issued.Key, "mjm_gh_") || atsgate.KeyPrefix(issued.Key) != issued.Prefix {
		t.Fatalf("issued = %+v", issued)
	}
	// The old key stopped working and the new one works, at once.
	a.call(t, a.acme, "GET", "/api/ats/jobs", nil).wantError(t, 401, "unauthorized")
	a.call(t, employer{ID: a.acme.ID, Key: issued.Key, Host: a.acme.Host}, "GET", "/api/ats/jobs", nil).wantStatus(t, 200)
	a.api(t, op, "DELETE", base+"/keys", nil).wantStatus(t, 200)
	a.api(t, op, "DELETE", base+"/keys", nil).wantError(t, 404, "not_found")
	a.call(t, employer{ID: a.acme.ID, Key: issued.Key, Host: a.acme.Host}, "GET", "/api/ats/jobs", nil).wantError(t, 401, "unauthorized")

	var emps struct {
		Employers []struct {
			ID       int64  `json:"id"`
			Country  string `json:"country"`
			Balance  string `json:"balance"`
			Currency string `json:"currency"`
		} `json:"employers"`
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers?country=ng", nil).wantStatus(t, 200).decode(t, &emps)
	if len(emps.Employers) != 1 || emps.Employers[0].ID != a.lagos.ID || emps.Employers[0].Balance != "50000.00" || emps.Employers[0].Currency != "NGN" {
		t.Errorf("ng employers = %+v", emps.Employers)
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers?country=zz", nil).wantError(t, 422, "validation_failed")
}

// statementFixture posts, for Lagos Ltd (Africa/Lagos, UTC+1), entries on
// both sides of a local midnight, and returns the job that was refunded.
func statementFixture(t *testing.T, a *adminEnv) {
	t.Helper()
	ctx := context.Background()
	// 50000 was topped up at t0 (2026-06-18 10:14:32 Lagos).
	a.clock.Set(time.Date(2026, 6, 30, 22, 59, 59, 0, time.UTC)) // 23:59:59 on 30 June in Lagos
	a.create(t, a.lagos, job("L-1"))
	a.clock.Set(time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC)) // 00:00:00 on 1 July in Lagos
	a.create(t, a.lagos, job("L-2"))
	a.clock.Set(time.Date(2026, 7, 2, 8, 0, 0, 0, time.UTC))
	j := a.storedJob(t, a.lagos.ID, "L-2")
	if _, err := a.st.Disapprove(ctx, j.ID, "admin:rita", "duplicate"); err != nil {
		t.Fatal(err)
	}
	a.clock.Set(time.Date(2026, 7, 3, 8, 0, 0, 0, time.UTC))
	if _, _, err := a.st.Adjust(ctx, a.lagos.ID, decimal.RequireFromString("-12.5"), "admin:olu", "=cmd|' /C calc'!A0", ""); err != nil {
		t.Fatal(err)
	}
}

func TestAdminAPIStatement(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	statementFixture(t, a)
	j2 := a.storedJob(t, a.lagos.ID, "L-2").ID
	var st struct {
		Currency       string            `json:"currency"`
		TimeZone       string            `json:"time_zone"`
		OpeningBalance string            `json:"opening_balance"`
		ClosingBalance string            `json:"closing_balance"`
		Balance        string            `json:"balance"`
		Totals         map[string]string `json:"totals"`
		Entries        []struct {
			Time           string `json:"time"`
			Kind           string `json:"kind"`
			Amount         string `json:"amount"`
			RunningBalance string `json:"running_balance"`
			JobID          int64  `json:"job_id"`
		} `json:"entries"`
	}
	// July in Lagos: the charge at 23:59:59 on 30 June is before it.
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers/"+itoa(a.lagos.ID)+"/statement?from=2026-07-01&to=2026-08-01", nil).
		wantStatus(t, 200).decode(t, &st)
	type row struct{ Time, Kind, Amount, Running string }
	var got []row
	for _, e := range st.Entries {
		got = append(got, row{e.Time, e.Kind, e.Amount, e.RunningBalance})
	}
	want := []row{
		{"2026-07-01 00:00:00", "job_charge", "-5000.00", "40000.00"},
		{"2026-07-02 09:00:00", "job_refund", "5000.00", "45000.00"},
		{"2026-07-03 09:00:00", "adjustment", "-12.50", "44987.50"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if st.Entries[1].JobID != j2 {
		t.Errorf("refund job = %d, want %d", st.Entries[1].JobID, j2)
	}
	if st.Currency != "NGN" || st.TimeZone != "Africa/Lagos" || st.OpeningBalance != "45000.00" || st.ClosingBalance != "44987.50" || st.Balance != "44987.50" {
		t.Errorf("statement header = %+v", st)
	}
	wantTotals := map[string]string{"topup": "0.00", "job_charge": "-5000.00", "job_refund": "5000.00", "minimum_spend": "0.00", "adjustment": "-12.50"}
	if diff := cmp.Diff(wantTotals, st.Totals); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"from=2026-13-01", "to=yesterday", "from=2026-07-02&to=2026-07-01"} {
		a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers/"+itoa(a.lagos.ID)+"/statement?"+bad, nil).wantError(t, 422, "validation_failed")
	}
}

func TestAdminAPIStatementCSV(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	statementFixture(t, a)
	j1, j2 := a.storedJob(t, a.lagos.ID, "L-1").ID, a.storedJob(t, a.lagos.ID, "L-2").ID
	path := "/admin/api/employers/" + itoa(a.lagos.ID) + "/statement?from=2026-06-30&to=2026-07-02"
	want := [][]string{
		{"time", "entry_id", "kind", "amount", "running_balance", "currency", "job_id", "period", "actor", "note"},
		{"2026-06-30 00:00:00", "", "opening_balance", "", "50000.00", "NGN", "", "", "", ""},
		{"2026-06-30 23:59:59", "*", "job_charge", "-5000.00", "45000.00", "NGN", itoa(j1), "", "api:" + atsgate.KeyPrefix(a.lagos.Key), "job L-1"},
		{"2026-07-01 00:00:00", "*", "job_charge", "-5000.00", "40000.00", "NGN", itoa(j2), "", "api:" + atsgate.KeyPrefix(a.lagos.Key), "job L-2"},
		{"2026-07-02 00:00:00", "", "closing_balance", "", "40000.00", "NGN", "", "", "", ""},
		{"", "", "total_topup", "0.00", "", "NGN", "", "", "", ""},
		{"", "", "total_job_charge", "-10000.00", "", "NGN", "", "", "", ""},
		{"", "", "total_job_refund", "0.00", "", "NGN", "", "", "", ""},
		{"", "", "total_minimum_spend", "0.00", "", "NGN", "", "", "", ""},
		{"", "", "total_adjustment", "0.00", "", "NGN", "", "", "", ""},
	}
	for _, how := range []struct {
		name, suffix string
		header       []string
	}{
		{"format=csv", "&format=csv", nil},
		{"Accept: text/csv", "", []string{"Accept", "text/csv"}},
	} {
		t.Run(how.name, func(t *testing.T) {
			res := a.api(t, atsgate.RoleFinance, "GET", path+how.suffix, nil, how.header...).wantStatus(t, 200)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Errorf("Content-Type = %q", ct)
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="statement-LAGOSLTD-2026-06-30-2026-07-02.csv"`) {
				t.Errorf("Content-Disposition = %q", cd)
			}
			rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
			if err != nil {
				t.Fatalf("parse CSV: %v\n%s", err, res.Body)
			}
			for i := range rows {
				if i < len(want) && want[i][1] == "*" && rows[i][1] != "" {
					rows[i][1] = "*"
				}
			}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("CSV (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("formula in a note is defused", func(t *testing.T) {
		res := a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers/"+itoa(a.lagos.ID)+"/statement?format=csv", nil).wantStatus(t, 200)
		if !strings.Contains(string(res.Body), `'=cmd|' /C calc'!A0`) {
			t.Errorf("adjustment note not prefixed with a quote:\n%s", res.Body)
		}
	})
	t.Run("JSON stays the default", func(t *testing.T) {
		res := a.api(t, atsgate.RoleFinance, "GET", path, nil, "Accept", "application/json, text/csv;q=0.5").wantStatus(t, 200)
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("Content-Type = %q", res.Header.Get("Content-Type"))
		}
	})
}

func TestAdminAPIReconciliationAndLogs(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	ctx := context.Background()
	// Acme spent nothing in May 2026 against a 300 GHS minimum.
	var rep struct {
		Month string `json:"month"`
		Lines []struct {
			EmployerID int64  `json:"employer_id"`
			Currency   string `json:"currency"`
			Minimum    string `json:"minimum"`
			Spend      string `json:"spend"`
			Shortfall  string `json:"shortfall"`
			Status     string `json:"status"`
			Debited    string `json:"debited"`
		} `json:"lines"`
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/reconciliation?month=2026-05", nil).wantStatus(t, 200).decode(t, &rep)
	if len(rep.Lines) != 1 || rep.Lines[0].Status != "pending" || rep.Lines[0].Shortfall != "300.00" || rep.Lines[0].Currency != "GHS" {
		t.Fatalf("report before the run = %+v", rep)
	}
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/reconciliation?month=2026-05", nil).wantStatus(t, 200)
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/reconciliation?month=2026-05", nil).wantStatus(t, 200)
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/reconciliation?month=2026-05", nil).wantStatus(t, 200).decode(t, &rep)
	if rep.Lines[0].Status != "debited" || rep.Lines[0].Debited != "300.00" {
		t.Fatalf("report after the run = %+v", rep)
	}
	mins := 0
	for _, e := range a.statement(t, a.acme.ID).Entries {
		if e.Kind == atsgate.EntryMinimumSpend {
			mins++
			if e.Actor != "admin:olu" {
				t.Errorf("minimum_spend actor = %q", e.Actor)
			}
		}
	}
	if mins != 1 {
		t.Errorf("%d minimum_spend entries, want 1", mins)
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/reconciliation?month=May", nil).wantError(t, 422, "validation_failed")

	base := time.Date(2026, 6, 18, 8, 0, 0, 0, time.UTC)
	err := a.st.AppendLogs(ctx, []atsgate.LogEntry{
		{Time: base, CountryID: a.gh.ID, EmployerID: a.acme.ID, Dialect: "ats", Operation: "create", Status: 201, Method: "POST", Path: "/api/ats/jobs"},
		{Time: base.Add(time.Minute), CountryID: a.gh.ID, EmployerID: a.acme.ID, Dialect: "ats", Operation: "create", Status: 422, ErrorCode: "validation_failed"},
		{Time: base.Add(2 * time.Minute), CountryID: a.ng.ID, EmployerID: a.lagos.ID, Dialect: "ats", Operation: "list", Status: 200},
		{Time: base.Add(3 * time.Minute), CountryID: a.gh.ID, Dialect: "ats", Operation: "create", Status: 401, ErrorCode: "unauthorized"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  []int // statuses, newest first
	}{
		{"", []int{401, 200, 422, 201}},
		{"?employer=" + itoa(a.acme.ID), []int{422, 201}},
		{"?status=4xx", []int{401, 422}},
		{"?status=422", []int{422}},
		{"?operation=list", []int{200}},
		{"?since=2026-06-18T08:01&until=2026-06-18T08:03", []int{200, 422}},
		{"?since=2026-06-18T08:01:00Z&limit=1", []int{401}},
	}
	for _, tt := range tests {
		t.Run("logs"+tt.query, func(t *testing.T) {
			var body struct {
				Logs []struct {
					Status int `json:"status"`
				} `json:"logs"`
			}
			a.api(t, atsgate.RoleFinance, "GET", "/admin/api/logs"+tt.query, nil).wantStatus(t, 200).decode(t, &body)
			var got []int
			for _, l := range body.Logs {
				got = append(got, l.Status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"?status=abc", "?since=yesterday", "?employer=x", "?limit=0"} {
		a.api(t, atsgate.RoleFinance, "GET", "/admin/api/logs"+bad, nil).wantError(t, 422, "validation_failed")
	}
}

// --- pages -------------------------------------------------------------------

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each response.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func (a *adminEnv) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: a.admin.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) *http.Response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

// page GETs path and returns its status and body.
func (b *browser) page(path string) (int, string) {
	b.t.Helper()
	res := b.do("GET", path, nil)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	res := b.do("POST", path, form)
	res.Body.Close()
	return res
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

func csrfOf(t testing.TB, html string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", html)
	}
	return m[1]
}

// signIn signs the browser in with role's token and returns the session's
// CSRF token.
func (b *browser) signIn(token string) string {
	b.t.Helper()
	status, html := b.page("/admin/login")
	if status != 200 {
		b.t.Fatalf("login page: %d", status)
	}
	res := b.post("/admin/login", url.Values{"csrf": {csrfOf(b.t, html)}, "token": {token}, "next": {"/admin/"}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in: status %d", res.StatusCode)
	}
	res = b.do("GET", "/admin/", nil)
	res.Body.Close()
	loc := res.Header.Get("Location")
	status, html = b.page(loc)
	if status != 200 {
		b.t.Fatalf("first page %s: %d\n%s", loc, status, html)
	}
	return csrfOf(b.t, html)
}

func TestAdminSessionCookie(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	b := a.browser(t)
	status, html := b.page("/admin/login")
	if status != 200 {
		t.Fatal(status)
	}
	res := b.do("POST", "/admin/login", url.Values{"csrf": {csrfOf(t, html)}, "token": {a.tokens[atsgate.RoleReviewer]}, "next": {"/admin/reviews"}})
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/reviews" {
		t.Fatalf("sign in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "atsgate_admin" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie in %v", res.Header.Values("Set-Cookie"))
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/admin" || session.Secure {
		t.Errorf("cookie = %+v; want HttpOnly, SameSite=Strict, Path=/admin, not Secure over plain HTTP", session)
	}
	if len(session.Value) != 64 {
		t.Errorf("cookie value %q is not 256 random bits", session.Value)
	}
	if strings.Contains(session.Value, a.tokens[atsgate.RoleReviewer]) {
		t.Error("the cookie carries the admin token")
	}
	if session.MaxAge <= 0 || session.MaxAge > 12*3600 {
		t.Errorf("Max-Age = %d", session.MaxAge)
	}

	t.Run("Secure over HTTPS", func(t *testing.T) {
		srv := httptest.NewTLSServer(a.handler)
		defer srv.Close()
		jar, _ := cookiejar.New(nil)
		c := srv.Client()
		c.Jar = jar
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		tb := &browser{t: t, base: srv.URL, c: c}
		_, html := tb.page("/admin/login")
		res := tb.do("POST", "/admin/login", url.Values{"csrf": {csrfOf(t, html)}, "token": {a.tokens[atsgate.RoleFinance]}})
		res.Body.Close()
		for _, ck := range res.Cookies() {
			if ck.Name == "atsgate_admin" && !ck.Secure {
				t.Errorf("session cookie over HTTPS is not Secure: %+v", ck)
			}
		}
	})

	t.Run("Secure behind a trusted TLS proxy", func(t *testing.T) {
		d := adminDeps(a.env)
		_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
		d.TrustedProxies = []*net.IPNet{loopback}
		srv := httptest.NewServer(contract(t, "admin", web.NewAdmin(d)))
		defer srv.Close()
		req, _ := http.NewRequest("GET", srv.URL+"/admin/login", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for _, ck := range res.Cookies() {
			if !ck.Secure {
				t.Errorf("cookie %s behind an HTTPS proxy is not Secure", ck.Name)
			}
		}
	})

	t.Run("sign out ends the session", func(t *testing.T) {
		_, html := b.page("/admin/reviews")
		res := b.post("/admin/logout", url.Values{"csrf": {csrfOf(t, html)}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		// The old cookie value no longer works even if a browser kept it.
		req, _ := http.NewRequest("GET", a.admin.URL+"/admin/reviews", nil)
		req.AddCookie(&http.Cookie{Name: "atsgate_admin", Value: session.Value})
		r, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/admin/login") {
			t.Errorf("old session after sign-out: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
	})

	t.Run("revoking the token ends its sessions", func(t *testing.T) {
		plain, tok, err := a.st.IssueAdminToken(context.Background(), "short-lived", atsgate.RoleFinance)
		if err != nil {
			t.Fatal(err)
		}
		nb := a.browser(t)
		nb.signIn(plain)
		if err := a.st.RevokeAdminToken(context.Background(), tok.ID); err != nil {
			t.Fatal(err)
		}
		if status, _ := nb.page("/admin/employers"); status != http.StatusSeeOther {
			t.Errorf("page after revocation: %d, want a redirect to sign in", status)
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		nb := a.browser(t)
		_, html := nb.page("/admin/login")
		res := nb.do("POST", "/admin/login", url.Values{"csrf": {csrfOf(t, html)}, "token": {"atsadm_" + strings.Repeat("A", 43)}})
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "not valid") {
			t.Errorf("wrong token: %d\n%s", res.StatusCode, body)
		}
	})

	t.Run("open redirect", func(t *testing.T) {
		nb := a.browser(t)
		_, html := nb.page("/admin/login?next=//evil.example/")
		res := nb.do("POST", "/admin/login", url.Values{"csrf": {csrfOf(t, html)}, "token": {a.tokens[atsgate.RoleFinance]}, "next": {"//evil.example/"}})
		res.Body.Close()
		if loc := res.Header.Get("Location"); loc != "/admin/" {
			t.Errorf("Location = %q, want /admin/", loc)
		}
	})
}

func TestAdminCSRF(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	id := a.pending(t, "C-1")
	b := a.browser(t)
	csrf := b.signIn(a.tokens[atsgate.RoleReviewer])
	approve := "/admin/jobs/" + itoa(id) + "/approve"
	tests := []struct {
		name string
		form url.Values
	}{
		{"no token", url.Values{}},
		{"wrong token", url.Values{"csrf": {strings.Repeat("0", 64)}}},
		{"another session's token", url.Values{"csrf": {a.browser(t).signIn(a.tokens[atsgate.RoleOperator])}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := b.post(approve, tt.form); res.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", res.StatusCode)
			}
			if j := a.storedJob(t, a.acme.ID, "C-1"); j.State != atsgate.StatePending {
				t.Fatalf("job became %s through a forged form", j.State)
			}
		})
	}
	t.Run("logout without token", func(t *testing.T) {
		if res := b.post("/admin/logout", url.Values{}); res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", res.StatusCode)
		}
	})
	t.Run("login without token", func(t *testing.T) {
		nb := a.browser(t)
		res := nb.post("/admin/login", url.Values{"token": {a.tokens[atsgate.RoleOperator]}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", res.StatusCode)
		}
	})
	t.Run("right token", func(t *testing.T) {
		res := b.post(approve, url.Values{"csrf": {csrf}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", res.StatusCode)
		}
		if j := a.storedJob(t, a.acme.ID, "C-1"); j.State != atsgate.StatePublished {
			t.Errorf("state = %s, want published", j.State)
		}
	})
	t.Run("POST without a session", func(t *testing.T) {
		nb := a.browser(t)
		if res := nb.post(approve, url.Values{"csrf": {csrf}}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", res.StatusCode)
		}
	})
}

func TestAdminPagesRoles(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	id := a.pending(t, "P-1")
	acme := itoa(a.acme.ID)
	pages := []struct {
		path    string
		allowed []atsgate.Role
	}{
		{"/admin/reviews", []atsgate.Role{atsgate.RoleOperator, atsgate.RoleReviewer}},
		{"/admin/jobs/" + itoa(id), roles},
		{"/admin/employers", []atsgate.Role{atsgate.RoleOperator, atsgate.RoleFinance}},
		{"/admin/employers/" + acme, []atsgate.Role{atsgate.RoleOperator, atsgate.RoleFinance}},
		{"/admin/employers/" + acme + "/statement.csv", []atsgate.Role{atsgate.RoleOperator, atsgate.RoleFinance}},
		{"/admin/reconciliation?month=2026-05", []atsgate.Role{atsgate.RoleOperator, atsgate.RoleFinance}},
		{"/admin/logs", []atsgate.Role{atsgate.RoleOperator, atsgate.RoleFinance}},
	}
	posts := []struct {
		path    string
		form    url.Values
		allowed []atsgate.Role
	}{
		{"/admin/jobs/" + itoa(id) + "/disapprove", url.Values{"reason": {"x"}}, []atsgate.Role{atsgate.RoleOperator, atsgate.RoleReviewer}},
		{"/admin/jobs/" + itoa(id) + "/approve", url.Values{}, []atsgate.Role{atsgate.RoleOperator, atsgate.RoleReviewer}},
		{"/admin/employers/" + acme + "/topup", url.Values{"amount": {"1"}, "reference": {"form-matrix-topup"}}, []atsgate.Role{atsgate.RoleOperator}},
		{"/admin/employers/" + acme + "/adjust", url.Values{"amount": {"1"}, "note": {"n"}, "reference": {"form-matrix-adjust"}}, []atsgate.Role{atsgate.RoleOperator}},
		{"/admin/employers/" + acme + "/keys", url.Values{}, []atsgate.Role{atsgate.RoleOperator}},
		{"/admin/reconciliation", url.Values{"month": {"2026-05"}}, []atsgate.Role{atsgate.RoleOperator}},
	}
	nav := map[atsgate.Role][]string{
		atsgate.RoleOperator: {"Moderation queue", "Employers", "Reconciliation", "Integration log", "Webhooks"},
		atsgate.RoleReviewer: {"Moderation queue"},
		atsgate.RoleFinance:  {"Employers", "Reconciliation", "Integration log", "Webhooks"},
	}
	navRE := regexp.MustCompile(`<li><a href="/admin/[a-z]+"(?: aria-current="page")?>([^<]+)</a></li>`)
	// Reverse order, so the finance and reviewer refusals come before the
	// operator's disapproval ends the job's review.
	for i := len(roles) - 1; i >= 0; i-- {
		role := roles[i]
		t.Run(string(role), func(t *testing.T) {
			b := a.browser(t)
			csrf := b.signIn(a.tokens[role])
			for _, p := range pages {
				status, html := b.page(p.path)
				want := http.StatusForbidden
				if contains(p.allowed, role) {
					want = http.StatusOK
				}
				if status != want {
					t.Errorf("GET %s: %d, want %d", p.path, status, want)
				}
				if status == 200 && strings.HasSuffix(p.path, ".csv") {
					continue
				}
				var got []string
				for _, m := range navRE.FindAllStringSubmatch(html, -1) {
					got = append(got, m[1])
				}
				if diff := cmp.Diff(nav[role], got); diff != "" {
					t.Errorf("GET %s nav (-want +got):\n%s", p.path, diff)
				}
			}
			for _, p := range posts {
				form := url.Values{"csrf": {csrf}}
				for k, v := range p.form {
					form[k] = v
				}
				res := b.post(p.path, form)
				allowed := contains(p.allowed, role)
				if allowed && (res.StatusCode == http.StatusForbidden || res.StatusCode >= 500) || !allowed && res.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s: %d (allowed %v)", p.path, res.StatusCode, allowed)
				}
			}
		})
	}
}

func contains(rs []atsgate.Role, r atsgate.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func TestAdminPagesContent(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	a.pending(t, "X-1", "title", "Chef <i>de</i> partie", "description", `<p>Cook</p><script>steal()</script><a href="javascript:evil()">x</a>`)
	statementFixture(t, a)
	b := a.browser(t)
	b.signIn(a.tokens[atsgate.RoleOperator])

	_, html := b.page("/admin/reviews")
	for _, bad := range []string{"<script>", "steal()", "javascript:", "<i>de</i>"} {
		if strings.Contains(html, bad) {
			t.Errorf("queue page contains %q", bad)
		}
	}
	if !strings.Contains(html, "<p>Cook</p>") || !strings.Contains(html, "Chef &lt;i&gt;de&lt;/i&gt; partie") {
		t.Errorf("queue page lacks the sanitised description or escaped title:\n%s", html)
	}
	res := b.do("GET", "/admin/reviews", nil)
	res.Body.Close()
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}

	_, html = b.page("/admin/employers")
	for _, want := range []string{"Lagos Ltd", "44,987.50 NGN", "Acme Ltd", "950.00 GHS", "Ghana (gh)"} {
		if !strings.Contains(html, want) {
			t.Errorf("employers page lacks %q", want)
		}
	}

	_, html = b.page("/admin/employers/" + itoa(a.lagos.ID) + "?from=2026-07-01&to=2026-08-01")
	for _, want := range []string{`id="opening">45,000.00 NGN`, `id="closing">44,987.50 NGN`, "5,000.00 NGN", "-12.50 NGN",
		`data-kind="job_refund"`, "statement.csv?from=2026-07-01&amp;to=2026-08-01", "2026-07-01 to 2026-07-31 inclusive"} {
		if !strings.Contains(html, want) {
			t.Errorf("statement page lacks %q", want)
		}
	}

	_, html = b.page("/admin/reconciliation?month=2026-05")
	for _, want := range []string{"Acme Ltd", "300.00 GHS", "pending", "Run reconciliation for 2026-05"} {
		if !strings.Contains(html, want) {
			t.Errorf("reconciliation page lacks %q", want)
		}
	}
	// A month still running has nothing to run: no button, a sentence.
	_, html = b.page("/admin/reconciliation?month=2027-01")
	if strings.Contains(html, "Run reconciliation for") || !strings.Contains(html, "Nothing to run for 2027-01") || !strings.Contains(html, "open") {
		t.Errorf("the page of a running month offers a run, or does not say why not:\n%s", html)
	}
	if status, html := b.page("/admin/reconciliation?month=soon"); status != 422 || !strings.Contains(html, "month") {
		t.Errorf("bad month: %d", status)
	}
	if status, _ := b.page("/admin/nope"); status != 404 {
		t.Errorf("unknown page: %d", status)
	}
	// Not signed in: pages redirect to the sign-in form and keep the target.
	res = a.browser(t).do("GET", "/admin/employers?country=gh", nil)
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/admin/login?next="+url.QueryEscape("/admin/employers?country=gh") {
		t.Errorf("anonymous page: %d to %q", res.StatusCode, loc)
	}
}

func TestAdminIssueKeyPage(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	b := a.browser(t)
	csrf := b.signIn(a.tokens[atsgate.RoleOperator])
	res := b.do("POST", "/admin/employers/"+itoa(a.acme.ID)+"/keys", url.Values{"csrf": {csrf}})
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`<code id="new-key">(mjm_gh_[0-9A-Za-z]+)</code>`).FindStringSubmatch(string(body))
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("issue key page: %d\n%s", res.StatusCode, body)
	}
	a.call(t, employer{ID: a.acme.ID, Key: m[1], Host: a.acme.Host}, "GET", "/api/ats/jobs", nil).wantStatus(t, 200)
	a.call(t, a.acme, "GET", "/api/ats/jobs", nil).wantError(t, 401, "unauthorized")
	if res := b.post("/admin/employers/"+itoa(a.acme.ID)+"/keys/disable", url.Values{"csrf": {csrf}}); res.StatusCode != 303 {
		t.Errorf("disable: %d", res.StatusCode)
	}
	a.call(t, employer{ID: a.acme.ID, Key: m[1], Host: a.acme.Host}, "GET", "/api/ats/jobs", nil).wantError(t, 401, "unauthorized")
	// A bad top-up re-renders the page with the problem.
	res = b.do("POST", "/admin/employers/"+itoa(a.acme.ID)+"/adjust", url.Values{"csrf": {csrf}, "amount": {"5"}, "reference": {"form-no-note"}})
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 422 || !strings.Contains(string(body), "required for an adjustment") {
		t.Errorf("adjust without note: %d\n%s", res.StatusCode, body)
	}
}
