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
