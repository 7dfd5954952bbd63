package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

// reconcileStatuses runs Reconcile for month and returns each employer's
// status.
func reconcileStatuses(t *testing.T, st *store.Store, month string) map[int64]atsgate.ReconcileStatus {
	t.Helper()
	r, err := st.Reconcile(context.Background(), month, 0, "test")
	if err != nil {
		t.Fatalf("Reconcile %s: %v", month, err)
	}
	out := map[int64]atsgate.ReconcileStatus{}
	for _, l := range r.Lines {
		out[l.EmployerID] = l.Status
	}
	return out
}

// TestReconcileMonthsBeforeCreation: an employer whose commitment starts
// before it was created owes nothing for the months that ended before it
// existed; the month it was created in counts in full.
func TestReconcileMonthsBeforeCreation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)
		clk.Set(localTime(t, ke, "2026-10-15 12:00:00"))
		mid := committedEmployer(t, st, ke, "500", "2026-08", "")
		clk.Set(localTime(t, ke, "2026-09-01 00:00:00")) // the first instant of September, Nairobi
		edge := committedEmployer(t, st, ke, "500", "2026-08", "")
		clk.Set(localTime(t, ke, "2026-12-02 09:00:00"))

		for _, tt := range []struct {
			month     string
			mid, edge atsgate.ReconcileStatus
		}{
			{"2026-07", atsgate.ReconcileSkippedBeforeCommitment, atsgate.ReconcileSkippedBeforeCommitment},
			{"2026-08", atsgate.ReconcileSkippedBeforeCreation, atsgate.ReconcileSkippedBeforeCreation},
			{"2026-09", atsgate.ReconcileSkippedBeforeCreation, atsgate.ReconcileDebited},
			{"2026-10", atsgate.ReconcileDebited, atsgate.ReconcileDebited},
			{"2026-11", atsgate.ReconcileDebited, atsgate.ReconcileDebited},
		} {
			r, err := st.ReconciliationReport(ctx, tt.month, 0)
			if err != nil {
				t.Fatal(err)
			}
			wantReport := map[atsgate.ReconcileStatus]atsgate.ReconcileStatus{atsgate.ReconcileDebited: atsgate.ReconcilePending}
			for _, l := range r.Lines {
				want := map[int64]atsgate.ReconcileStatus{mid.employer.ID: tt.mid, edge.employer.ID: tt.edge}[l.EmployerID]
				if w, ok := wantReport[want]; ok {
					want = w
				}
				if l.Status != want {
					t.Errorf("report %s, employer %d: %s, want %s", tt.month, l.EmployerID, l.Status, want)
				}
			}
			got := reconcileStatuses(t, st, tt.month)
			if got[mid.employer.ID] != tt.mid || got[edge.employer.ID] != tt.edge {
				t.Errorf("%s: created mid-October %s, on 1 September %s; want %s, %s", tt.month,
					got[mid.employer.ID], got[edge.employer.ID], tt.mid, tt.edge)
			}
		}
		if n := minimumEntries(t, st, mid.employer.ID, "2026-09"); n != 0 {
			t.Errorf("%d minimum_spend entries for a month before the employer existed", n)
		}
		if b := mid.balance(t); !b.Equal(dec("-1000")) {
			t.Errorf("balance %s, want -1000: October (its first month, in full) and November", b)
		}
		mustVerify(t, st)
	})
}

// TestReconcileInactiveEmployers: an inactive employer's shortfall is not
// debited (it cannot post jobs to spend); a month it met, or one already
// debited, reads as before; made active again, the next run debits.
func TestReconcileInactiveEmployers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)
		short := committedEmployer(t, st, ke, "500", "2026-09", "1000")
		met := committedEmployer(t, st, ke, "50", "2026-09", "1000")
		active := committedEmployer(t, st, ke, "500", "2026-09", "1000")
		clk.Set(localTime(t, ke, "2026-09-10 12:00:00"))
		met.create(t, "MET-1")
		clk.Set(localTime(t, ke, "2026-10-02 12:00:00"))
		// September was debited for everyone short before the deactivation.
		if got := reconcileStatuses(t, st, "2026-09"); got[short.employer.ID] != atsgate.ReconcileDebited {
			t.Fatalf("September: %v", got)
		}
		for _, f := range []*fixture{short, met} {
			exec(t, st, `UPDATE employers SET active = $1 WHERE id = $2`, false, f.employer.ID)
		}
		clk.Set(localTime(t, ke, "2026-11-02 12:00:00"))
		r, err := st.ReconciliationReport(ctx, "2026-10", 0)
		if err != nil {
			t.Fatal(err)
		}
		if l := lineOf(t, r, short.employer.ID); l.Status != atsgate.ReconcileSkippedInactive || !l.Shortfall.Equal(dec("500")) {
			t.Errorf("report, inactive and short: %s, shortfall %s", l.Status, l.Shortfall)
		}
		got := reconcileStatuses(t, st, "2026-10")
		want := map[int64]atsgate.ReconcileStatus{short.employer.ID: atsgate.ReconcileSkippedInactive,
			met.employer.ID: atsgate.ReconcileSkippedInactive, active.employer.ID: atsgate.ReconcileDebited}
		// met spent nothing in October either: short, and inactive.
		for id, w := range want {
			if got[id] != w {
				t.Errorf("October, employer %d: %s, want %s", id, got[id], w)
			}
		}
		if got := reconcileStatuses(t, st, "2026-09"); got[short.employer.ID] != atsgate.ReconcileDebited ||
			got[met.employer.ID] != atsgate.ReconcileMet {
			t.Errorf("September again, after the deactivation: %v", got)
		}
		if b := short.balance(t); !b.Equal(dec("500")) {
			t.Errorf("inactive employer's balance %s, want 500 (September's debit only)", b)
		}
		exec(t, st, `UPDATE employers SET active = $1 WHERE id = $2`, true, short.employer.ID)
		if got := reconcileStatuses(t, st, "2026-10"); got[short.employer.ID] != atsgate.ReconcileDebited {
			t.Errorf("October once active again: %s", got[short.employer.ID])
		}
		mustVerify(t, st)
	})
}

// TestReconcileGoesOnAfterAFailure: an employer whose debit fails is
// reported failed with its cause, and the employers after it are debited
// in the same run; the next run retries the failed one only.
func TestReconcileGoesOnAfterAFailure(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)
		broke := committedEmployer(t, st, ke, "500", "2026-09", "")
		after := []*fixture{committedEmployer(t, st, ke, "500", "2026-09", "1000"), committedEmployer(t, st, ke, "300", "2026-09", "")}
		// The lowest balance a wallet may hold: no debit fits below it.
		const bottom = -atsgate.MaxAmount * 100
		insertEntry(t, st, broke.employer.ID, string(atsgate.EntryAdjustment), bottom, bottom, nil)
		moveWallet(t, st, broke.employer.ID, bottom)
		clk.Set(localTime(t, ke, "2026-10-01 08:00:00"))

		r, err := st.Reconcile(ctx, "2026-09", 0, "test")
		if err != nil {
			t.Fatalf("Reconcile: %v (one employer's failure must not fail the run)", err)
		}
		if l := lineOf(t, r, broke.employer.ID); l.Status != atsgate.ReconcileFailed || atsgate.ErrorCode(l.Err) != atsgate.EINVALID ||
			!strings.Contains(l.Err.Error(), "10^15") || l.EntryID != 0 {
			t.Errorf("the broke employer: %s, %v", l.Status, l.Err)
		}
		for _, f := range after {
			if l := lineOf(t, r, f.employer.ID); l.Status != atsgate.ReconcileDebited || l.Err != nil {
				t.Errorf("employer %d after the failure: %s, %v", f.employer.ID, l.Status, l.Err)
			}
		}
		if n := minimumEntries(t, st, broke.employer.ID, "2026-09"); n != 0 {
			t.Errorf("%d entries for the failed employer", n)
		}
		got := reconcileStatuses(t, st, "2026-09")
		if got[broke.employer.ID] != atsgate.ReconcileFailed || got[after[0].employer.ID] != atsgate.ReconcileDebited {
			t.Errorf("second run: %v", got)
		}
		mustVerify(t, st)
	})
}
