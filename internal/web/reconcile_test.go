package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web"
)

// TestAdminReconcileReportsFailures: a run from the admin API or the page
// that fails for one employer debits the others, answers the failed line
// with its error, and logs the cause at error level.
func TestAdminReconcileReportsFailures(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	ctx := context.Background()
	var logs lockedBuffer
	deps := adminDeps(a.env)
	deps.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	srv := httptest.NewServer(contract(t, "admin", web.NewAdmin(deps)))
	t.Cleanup(srv.Close)

	// Customers since April, committed from May, spending nothing: Broke's
	// wallet sits at the lowest balance a wallet may hold, so its May
	// cannot be debited; Later's can.
	a.clock.Set(time.Date(2026, 4, 20, 9, 0, 0, 0, time.UTC))
	committed := func(name string) int64 {
		e, err := a.st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: a.gh.ID, Name: name, MinMonthlySpend: "300", CommitmentStart: "2026-05"})
		if err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	broke, later := committed("Broke Ltd"), committed("Later Ltd")
	a.clock.Set(t0)
	const bottom = -atsgate.MaxAmount * 100
	if _, err := a.st.DB().ExecContext(ctx, `INSERT INTO ledger_entries (employer_id, kind, amount_minor, balance_after_minor, actor, note, created_at)
VALUES ($1, 'adjustment', $2, $2, 'test', 'write-off', $3)`, broke, bottom, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.DB().ExecContext(ctx, `UPDATE wallets SET balance_minor = $2 WHERE employer_id = $1`, broke, bottom); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequest("POST", srv.URL+"/admin/api/reconciliation?month=2026-05", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens[atsgate.RoleOperator])
	var r struct {
		Lines []struct {
			EmployerID int64  `json:"employer_id"`
			Status     string `json:"status"`
			Error      string `json:"error"`
		} `json:"lines"`
	}
	a.send(t, req).wantStatus(t, 200).decode(t, &r)
	status := map[int64]string{}
	for _, l := range r.Lines {
		status[l.EmployerID] = l.Status
		if l.EmployerID == broke && !strings.Contains(l.Error, "10^15") {
			t.Errorf("the failed line's error: %q", l.Error)
		}
		if l.EmployerID != broke && l.Error != "" {
			t.Errorf("employer %d has an error: %q", l.EmployerID, l.Error)
		}
	}
	if status[broke] != "failed" || status[later] != "debited" || status[a.acme.ID] != "debited" {
		t.Fatalf("statuses %v; want Broke failed, Later and Acme debited", status)
	}
	if !strings.Contains(string(logs.Bytes()), `"level":"ERROR","msg":"reconcile minimum monthly spend: an employer failed"`) ||
		!strings.Contains(string(logs.Bytes()), `"employer_id":`+itoa(broke)) {
		t.Errorf("no error log line for the failed employer:\n%s", string(logs.Bytes()))
	}

	// From the page: the operator is told, and the report shows it owed.
	b := a.browser(t)
	b.base = srv.URL
	csrf := b.signIn(a.tokens[atsgate.RoleOperator])
	res := b.post("/admin/reconciliation", url.Values{"csrf": {csrf}, "month": {"2026-05"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "done=reconcile_failed") {
		t.Fatalf("run from the page: %d to %q", res.StatusCode, loc)
	}
	_, html := b.page(loc)
	if !strings.Contains(html, "failed for some employers") || !strings.Contains(html, `status-pending`) {
		t.Errorf("the page does not say the run failed for an employer that stays owed")
	}
}

// TestAdminReconciliationMonthInProgress: the report reads time from the
// store's clock, not the wall clock: at 2026-06-18 June is still running,
// so its line is open (never pending), a run leaves it open and changes
// nothing, and the page offers no run for it.
func TestAdminReconciliationMonthInProgress(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	type report struct {
		At    string `json:"at"`
		Lines []struct {
			EmployerID int64  `json:"employer_id"`
			Status     string `json:"status"`
			Changed    bool   `json:"changed"`
			Spend      string `json:"spend"`
		} `json:"lines"`
	}
	var rep report
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/reconciliation?month=2026-06", nil).wantStatus(t, 200).decode(t, &rep)
	if len(rep.Lines) != 1 || rep.Lines[0].Status != "open" || rep.Lines[0].Changed {
		t.Fatalf("June at %s: %+v; want one open line", t0, rep)
	}
	if !strings.HasPrefix(rep.At, "2026-06-18T09:14:32") {
		t.Errorf("report read at %q, want the store's clock %s", rep.At, t0)
	}
	var run report
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/reconciliation?month=2026-06", nil).wantStatus(t, 200).decode(t, &run)
	if len(run.Lines) != 1 || run.Lines[0].Status != "open" || run.Lines[0].Changed {
		t.Fatalf("a run of June at %s: %+v; want the line open and unchanged", t0, run)
	}
	for _, e := range a.statement(t, a.acme.ID).Entries {
		if e.Kind == atsgate.EntryMinimumSpend {
			t.Errorf("a run of a running month posted %+v", e)
		}
	}
	b := a.browser(t)
	b.signIn(a.tokens[atsgate.RoleFinance])
	_, html := b.page("/admin/reconciliation?month=2026-06")
	if !strings.Contains(html, `<span class="status">open</span>`) || strings.Contains(html, `<span class="status">pending</span>`) {
		t.Errorf("the page does not show June open:\n%s", html)
	}
}
