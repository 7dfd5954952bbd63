package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

// kenya creates country "ke" in Africa/Nairobi: UTC+3 all year, so local
// month boundaries are three hours before the UTC ones.
func kenya(t *testing.T, st *store.Store) *atsgate.Country {
	t.Helper()
	c, err := st.CreateCountry(context.Background(), atsgate.Country{
		Code: "ke", Name: "Kenya", Hosts: []string{"ke.localhost"}, Currency: "KES",
		TimeZone: "Africa/Nairobi", Price: dec("50"), PublicURL: "http://ke.localhost:8080",
	})
	if err != nil {
		t.Fatalf("CreateCountry(ke): %v", err)
	}
	return c
}

// committedEmployer creates an employer of c with a minimum monthly spend
// from start, an active key, and balance in its wallet.
func committedEmployer(t *testing.T, st *store.Store, c *atsgate.Country, minimum, start, balance string) *fixture {
	t.Helper()
	ctx := context.Background()
	e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: c.ID, Name: fmt.Sprintf("Committed %d", uniq()),
		MinMonthlySpend: minimum, CommitmentStart: start})
	if err != nil {
		t.Fatalf("CreateEmployer: %v", err)
	}
	plain, _, err := st.IssueKey(ctx, e.ID, false)
	if err != nil {
		t.Fatalf("IssueKey: %v", err)
	}
	p, err := st.Authenticate(ctx, atsgate.HashAPIKey(plain))
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if balance != "" {
		if _, _, err := st.TopUp(ctx, e.ID, dec(balance), "test", "initial", ""); err != nil {
			t.Fatalf("TopUp: %v", err)
		}
	}
	return &fixture{st: st, country: c, employer: e, p: p, key: plain}
}

// localTime parses "2006-01-02 15:04:05" in c's time zone.
func localTime(t *testing.T, c *atsgate.Country, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation(atsgate.DateTimeLayout, s, c.Location)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// lineOf returns employerID's line of r.
func lineOf(t *testing.T, r *atsgate.Reconciliation, employerID int64) atsgate.ReconciliationLine {
	t.Helper()
	for _, l := range r.Lines {
		if l.EmployerID == employerID {
			return l
		}
	}
	t.Fatalf("reconciliation %s has no line for employer %d: %+v", r.Month, employerID, r.Lines)
	return atsgate.ReconciliationLine{}
}

// mustVerify fails the test on any ledger breach.
func mustVerify(t *testing.T, st *store.Store) {
	t.Helper()
	breaches, err := st.VerifyLedger(context.Background(), 0)
	if err != nil {
		t.Fatalf("VerifyLedger: %v", err)
	}
	for _, b := range breaches {
		t.Errorf("ledger breach %s: %s", b.Rule, b.Message)
	}
}

func minimumEntries(t *testing.T, st *store.Store, employerID int64, period string) int64 {
	t.Helper()
	return count(t, st, `SELECT COUNT(*) FROM ledger_entries WHERE employer_id = $1 AND kind = 'minimum_spend' AND period = $2`, employerID, period)
}

// TestReconcileMonth walks one committed employer through October in
// Nairobi: charges at the month's last and the next month's first second,
// a refund in the month of a September job, the run before and after the
// month ends, re-runs, and the read-only report.
func TestReconcileMonth(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)
		f := committedEmployer(t, st, ke, "500", "2026-10", "1000")
		met := committedEmployer(t, st, ke, "100", "2026-10", "1000")
		uncommitted := newEmployer(t, st, ke, fixtureOpts{balance: "100"})

		at := func(s string) { clk.Set(localTime(t, ke, s)) }
		at("2026-09-20 12:00:00")
		september := f.create(t, "SEP-1") // charged in September
		at("2026-10-10 12:00:00")
		f.create(t, "OCT-1")
		met.create(t, "MET-1")
		met.create(t, "MET-2")
		at("2026-10-15 12:00:00")
		if _, err := st.Disapprove(ctx, september.ID, "admin:test", "duplicate"); err != nil {
			t.Fatalf("Disapprove: %v", err) // the refund is posted in October
		}
		at("2026-10-31 23:59:59")
		f.create(t, "OCT-LAST-SECOND")
		uncommitted.create(t, "U-1")

		// The month has not ended in Nairobi: nothing happens.
		r, err := st.Reconcile(ctx, "2026-10", 0, "test")
		if err != nil {
			t.Fatalf("Reconcile before month end: %v", err)
		}
		if len(r.Lines) != 2 {
			t.Fatalf("lines = %d, want 2 (only committed employers): %+v", len(r.Lines), r.Lines)
		}
		if l := lineOf(t, r, f.employer.ID); l.Status != atsgate.ReconcileOpen || l.EntryID != 0 || l.Changed {
			t.Fatalf("before month end: %+v", l)
		}
		if n := minimumEntries(t, st, f.employer.ID, "2026-10"); n != 0 {
			t.Fatalf("minimum_spend entries before month end = %d", n)
		}

		at("2026-11-01 00:00:00")
		f.create(t, "NOV-FIRST-SECOND") // November's, not October's
		balanceBefore := f.balance(t)
		r, err = st.Reconcile(ctx, "2026-10", 0, "test")
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		// October: OCT-1 + OCT-LAST-SECOND − refund of SEP-1 = 50.
		l := lineOf(t, r, f.employer.ID)
		if l.Status != atsgate.ReconcileDebited || !l.Spend.Equal(dec("50")) || !l.Shortfall.Equal(dec("450")) ||
			!l.Debited.Equal(dec("450")) || !l.Minimum.Equal(dec("500")) || l.EntryID == 0 || l.Currency != "KES" || !l.Changed {
			t.Fatalf("October line: %+v", l)
		}
		if want := localTime(t, ke, "2026-10-01 00:00:00"); !l.From.Equal(want) {
			t.Errorf("From = %v, want %v", l.From, want)
		}
		if m := lineOf(t, r, met.employer.ID); m.Status != atsgate.ReconcileMet || !m.Spend.Equal(dec("100")) || !m.Shortfall.IsZero() || m.EntryID != 0 {
			t.Fatalf("met line: %+v", m)
		}
		if got, want := f.balance(t), balanceBefore.Sub(dec("450")); !got.Equal(want) {
			t.Fatalf("balance = %s, want %s", got, want)
		}
		entries := ledger(t, st, f.employer.ID)
		last := entries[len(entries)-1]
		if last.Kind != "minimum_spend" || last.Amount != -45000 || last.ID != l.EntryID {
			t.Fatalf("last entry = %+v, want the minimum_spend debit of 450", last)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM ledger_entries WHERE id = $1 AND period = '2026-10' AND actor = 'test'`, l.EntryID); n != 1 {
			t.Fatalf("entry %d lacks its period or actor", l.EntryID)
		}

		// Running again, later, changes nothing.
		clk.Add(36 * time.Hour)
		for i := 0; i < 2; i++ {
			r, err = st.Reconcile(ctx, "2026-10", 0, "test")
			if err != nil {
				t.Fatalf("re-run: %v", err)
			}
			if again := lineOf(t, r, f.employer.ID); again.Status != atsgate.ReconcileDebited || again.Changed ||
				again.EntryID != l.EntryID || !again.Debited.Equal(dec("450")) {
				t.Fatalf("re-run line: %+v", again)
			}
		}
		if got := len(ledger(t, st, f.employer.ID)); got != len(entries) {
			t.Fatalf("re-runs added entries: %d, want %d", got, len(entries))
		}
		// One employer only, and the unknown or uncommitted ones.
		if r, err = st.Reconcile(ctx, "2026-10", f.employer.ID, "test"); err != nil || len(r.Lines) != 1 ||
			r.Lines[0].Status != atsgate.ReconcileDebited || r.Lines[0].Changed {
			t.Fatalf("Reconcile(one employer) = %+v, %v", r, err)
		}
		_, err = st.Reconcile(ctx, "2026-10", uncommitted.employer.ID, "test")
		wantCode(t, err, atsgate.EINVALID)
		_, err = st.Reconcile(ctx, "2026-10", 999999, "test")
		wantCode(t, err, atsgate.ENOTFOUND)

		// Months before the commitment and months still running are skipped.
		r, err = st.Reconcile(ctx, "2026-09", 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, r, f.employer.ID); l.Status != atsgate.ReconcileSkippedBeforeCommitment {
			t.Fatalf("September: %+v", l)
		}
		r, err = st.Reconcile(ctx, "2026-11", 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, r, f.employer.ID); l.Status != atsgate.ReconcileOpen || l.Changed || !l.Spend.Equal(dec("50")) {
			t.Fatalf("November: %+v", l)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM ledger_entries WHERE kind = 'minimum_spend'`); n != 1 {
			t.Fatalf("minimum_spend entries = %d, want 1", n)
		}

		// The read-only report agrees and changes nothing.
		rep, err := st.ReconciliationReport(ctx, "2026-10", ke.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, rep, f.employer.ID); l.Status != atsgate.ReconcileDebited || l.EntryID != last.ID || !l.Spend.Equal(dec("50")) {
			t.Fatalf("report October: %+v", l)
		}
		if l := lineOf(t, rep, met.employer.ID); l.Status != atsgate.ReconcileMet {
			t.Fatalf("report October met: %+v", l)
		}
		rep, err = st.ReconciliationReport(ctx, "2026-11", 0)
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, rep, f.employer.ID); l.Status != atsgate.ReconcileOpen || !l.Spend.Equal(dec("50")) {
			t.Fatalf("report November: %+v", l)
		}
		rep, err = st.ReconciliationReport(ctx, "2026-10", 999999)
		if err != nil || len(rep.Lines) != 0 {
			t.Fatalf("report of an unknown country = %+v, %v", rep, err)
		}
		mustVerify(t, st)
	})
}

// TestReconcileReportPending: a month that ended with a shortfall nobody
// has debited yet is pending in the report, and the report debits nothing.
func TestReconcileReportPending(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)
		f := committedEmployer(t, st, ke, "300", "2026-10", "100")
		clk.Set(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
		rep, err := st.ReconciliationReport(ctx, "2026-10", 0)
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, rep, f.employer.ID); l.Status != atsgate.ReconcilePending || !l.Shortfall.Equal(dec("300")) || l.EntryID != 0 {
			t.Fatalf("report: %+v", l)
		}
		if got := f.balance(t); !got.Equal(dec("100")) {
			t.Fatalf("the report moved money: balance %s", got)
		}
	})
}

// TestReconcileMonthValidation refuses months that are not YYYY-MM.
func TestReconcileMonthValidation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		st := openStore(t, d)
		for _, m := range []string{"", "2026-13", "2026-1", "2026-001", "26-10", "2026/10", "2026-10-01", "1999-12", "october"} {
			_, err := st.Reconcile(context.Background(), m, 0, "test")
			wantCode(t, err, atsgate.EINVALID)
			if !fieldsOf(err)["month"] {
				t.Errorf("Reconcile(%q): error %v does not name the month", m, err)
			}
			_, err = st.ReconciliationReport(context.Background(), m, 0)
			wantCode(t, err, atsgate.EINVALID)
		}
	})
}

// TestMinimumSpendBlocksCreates: the debit may take the balance below zero,
// and then creates are refused with insufficient_funds until a top-up.
func TestMinimumSpendBlocksCreates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)
		f := committedEmployer(t, st, ke, "500", "2026-10", "100")
		f.create(t, "ONLY-ONE") // spend 50, balance 50

		clk.Set(time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC))
		r, err := st.Reconcile(ctx, "2026-10", 0, "system")
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, r, f.employer.ID); l.Status != atsgate.ReconcileDebited || !l.Debited.Equal(dec("450")) {
			t.Fatalf("line: %+v", l)
		}
		if got := f.balance(t); !got.Equal(dec("-400")) {
			t.Fatalf("balance = %s, want -400", got)
		}
		_, _, err = st.CreateJob(ctx, f.p, jobInput("REFUSED-1"))
		wantCode(t, err, atsgate.EFUNDS)
		if _, _, err := st.TopUp(ctx, f.employer.ID, dec("400"), "test", "settles the debt", ""); err != nil {
			t.Fatal(err)
		}
		_, _, err = st.CreateJob(ctx, f.p, jobInput("REFUSED-2")) // balance 0 < price 50
		wantCode(t, err, atsgate.EFUNDS)
		if _, _, err := st.TopUp(ctx, f.employer.ID, dec("50"), "test", "one job", ""); err != nil {
			t.Fatal(err)
		}
		f.create(t, "ACCEPTED")
		if got := f.balance(t); !got.IsZero() {
			t.Fatalf("balance = %s, want 0", got)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM jobs WHERE external_id LIKE 'REFUSED-%'`); n != 0 {
			t.Fatalf("refused creates left %d jobs behind", n)
		}
		mustVerify(t, st)
	})
}

// TestReconcileConcurrent runs the reconciliation from ten store instances
// at once, as ten servers would on the 1st: each employer gets exactly one
// minimum_spend entry for the month, and nobody sees an error.
func TestReconcileConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC))
		url := dbtest.URL(t, d)
		st, err := store.Open(ctx, url, store.WithClock(clk.Now), store.WithTimeout(testTimeout))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ke := kenya(t, st)
		var emps []*fixture
		for i := 0; i < 5; i++ {
			f := committedEmployer(t, st, ke, "500", "2026-10", "200")
			f.create(t, "JOB-1")
			emps = append(emps, f)
		}
		clk.Set(time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC))

		const instances = 10
		stores := make([]*store.Store, instances)
		for i := range stores {
			s, err := store.Open(ctx, url, store.WithClock(clk.Now), store.WithTimeout(testTimeout))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		results := make([]*atsgate.Reconciliation, instances)
		errs := make([]error, instances)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range stores {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				results[i], errs[i] = stores[i].Reconcile(ctx, "2026-10", 0, fmt.Sprintf("instance-%d", i))
			}(i)
		}
		close(start)
		wg.Wait()

		debited := map[int64]int{}
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("instance %d: %v", i, errs[i])
			}
			for _, l := range results[i].Lines {
				switch {
				case l.Status == atsgate.ReconcileDebited && l.Changed:
					debited[l.EmployerID]++
				case l.Status == atsgate.ReconcileDebited:
				default:
					t.Fatalf("instance %d: employer %d status %s", i, l.EmployerID, l.Status)
				}
				if !l.Debited.Equal(dec("450")) || l.EntryID == 0 {
					t.Fatalf("instance %d: %+v", i, l)
				}
			}
		}
		for _, f := range emps {
			if debited[f.employer.ID] != 1 {
				t.Errorf("employer %d debited by %d runs, want 1", f.employer.ID, debited[f.employer.ID])
			}
			if n := minimumEntries(t, st, f.employer.ID, "2026-10"); n != 1 {
				t.Errorf("employer %d has %d minimum_spend entries, want 1", f.employer.ID, n)
			}
			if got := f.balance(t); !got.Equal(dec("-300")) {
				t.Errorf("employer %d balance = %s, want -300", f.employer.ID, got)
			}
			checkLedger(t, st, f.employer.ID)
		}
		mustVerify(t, st)
	})
}
