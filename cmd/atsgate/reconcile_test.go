package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// TestCLIReconcileAndVerify runs "atsgate reconcile" and "atsgate ledger
// verify" as an operator would, on a clean and then a broken ledger.
func TestCLIReconcileAndVerify(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			vars := map[string]string{"DATABASE_URL": dbtest.URL(t, dialect), "USER": "ops"}
			cli(t, vars, nil, "migrate")
			cli(t, vars, nil, "country", "add", "--code", "ke", "--name", "Kenya", "--host", "ke.localhost",
				"--currency", "KES", "--timezone", "Africa/Nairobi", "--price", "50")
			var emp wire.Employer
			cli(t, vars, &emp, "employer", "add", "--country", "ke", "--name", "Acme", "--min-monthly-spend", "500",
				"--commitment-start", "2020-01")
			backdateEmployer(t, vars["DATABASE_URL"], emp.ID, time.Date(2019, 11, 5, 0, 0, 0, 0, time.UTC))
			id := jsonID(emp.ID)
			cli(t, vars, nil, "wallet", "topup", "--employer", id, "--amount", "100")

			verify := func() (map[string]any, string, error) {
				var stdout, stderr bytes.Buffer
				err := run(ctx, []string{"atsgate", "ledger", "verify", "--json"}, envOf(vars), &stdout, &stderr)
				var out map[string]any
				if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
					t.Fatalf("ledger verify output is not JSON: %v\n%s\nstderr: %s", jerr, stdout.String(), stderr.String())
				}
				return out, stdout.String(), err
			}
			if out, raw, err := verify(); err != nil || out["ok"] != true {
				t.Fatalf("ledger verify on a clean ledger = %v\n%s", err, raw)
			}

			// January 2020 ended long ago: nothing spent, 500 owed.
			var r wire.Reconciliation
			cli(t, vars, &r, "reconcile", "--month", "2020-01")
			if len(r.Lines) != 1 || r.Lines[0].Status != "debited" || r.Lines[0].Debited != "500.00" ||
				r.Lines[0].Spend != "0.00" || r.Lines[0].EntryID == 0 || r.Lines[0].Currency != "KES" {
				t.Fatalf("reconcile: %+v", r)
			}
			cli(t, vars, &r, "reconcile", "--month", "2020-01", "--employer", id)
			if len(r.Lines) != 1 || r.Lines[0].Status != "already_reconciled" {
				t.Fatalf("second reconcile: %+v", r)
			}
			cli(t, vars, &r, "reconcile", "--month", "2019-12")
			if r.Lines[0].Status != "skipped_before_commitment" {
				t.Fatalf("before the commitment: %+v", r)
			}
			next := time.Now().AddDate(0, 1, 0).Format("2006-01")
			cli(t, vars, &r, "reconcile", "--month", next)
			if r.Lines[0].Status != "skipped_unfinished" {
				t.Fatalf("next month: %+v", r)
			}
			if msg := cliErr(t, vars, "reconcile", "--month", "2020-13"); !strings.Contains(msg, "month") {
				t.Fatalf("bad month: %s", msg)
			}
			if msg := cliErr(t, vars, "reconcile"); !strings.Contains(msg, "--month") {
				t.Fatalf("missing month: %s", msg)
			}
			var show wire.Statement
			cli(t, vars, &show, "wallet", "show", "--employer", id)
			if show.Balance != "-400.00" || show.Totals["minimum_spend"] != "-500.00" {
				t.Fatalf("wallet after reconcile: %+v", show)
			}
			if out, raw, err := verify(); err != nil || out["ok"] != true {
				t.Fatalf("ledger verify after reconcile = %v\n%s", err, raw)
			}

			// Break the chain by hand: verify must fail and name the breach.
			st, err := store.Open(ctx, vars["DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			q := `INSERT INTO ledger_entries (employer_id, kind, amount_minor, balance_after_minor, actor, note, created_at)
VALUES ($1, 'adjustment', 100, 999999, 'test', 'broken by hand', $2)`
			if dialect == store.SQLite {
				q = strings.NewReplacer("$1", "?", "$2", "?").Replace(q)
			}
			if _, err := st.DB().ExecContext(ctx, q, emp.ID, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			st.Close()
			out, raw, err := verify()
			if err == nil || !strings.Contains(err.Error(), "breach") {
				t.Fatalf("ledger verify on a broken ledger: err = %v\n%s", err, raw)
			}
			if out["ok"] != false || !strings.Contains(raw, "balance_after_chains") || !strings.Contains(raw, "balance_equals_sum") {
				t.Fatalf("ledger verify output:\n%s", raw)
			}
			var stdout, stderr bytes.Buffer
			err = run(ctx, []string{"atsgate", "ledger", "verify", "--employer", id}, envOf(vars), &stdout, &stderr)
			if err == nil || !strings.Contains(stdout.String(), "balance_after_chains") {
				t.Fatalf("ledger verify (text) = %v\n%s", err, stdout.String())
			}
		})
	}
}

// TestScheduleCatchesUp: a server started days after the 1st reconciles the
// month it missed at start-up, and the hourly run reconciles a month as soon
// as it has ended in a country ahead of UTC, while UTC is still in it.
func TestScheduleCatchesUp(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var now atomicTime
			now.Set(time.Date(2026, 8, 20, 9, 0, 0, 0, time.UTC)) // a customer since August
			st, err := store.Open(ctx, dbtest.URL(t, dialect), store.WithClock(now.Get))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			ke, err := st.CreateCountry(ctx, atsgate.Country{Code: "ke", Name: "Kenya", Hosts: []string{"ke.localhost"},
				Currency: "KES", TimeZone: "Africa/Nairobi", Price: decimal.NewFromInt(50), PublicURL: "http://ke.localhost"})
			if err != nil {
				t.Fatal(err)
			}
			emp, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: ke.ID, Name: "Acme", AutoPublish: true,
				MinMonthlySpend: "500", CommitmentStart: "2026-09"})
			if err != nil {
				t.Fatal(err)
			}
			minimumEntries := func() []string {
				var periods []string
				if err := st.EachStatementEntry(ctx, emp.ID, time.Time{}, time.Time{}, 0, func(e *atsgate.LedgerEntry) error {
					if e.Kind == atsgate.EntryMinimumSpend {
						periods = append(periods, e.Period)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return periods
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			now.Set(time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC))

			// Started on 5 October: September is caught up, October is not due.
			stop := startSchedule(ctx, st, log, nil)
			for deadline := time.Now().Add(10 * time.Second); len(minimumEntries()) == 0 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			stop()
			if got := minimumEntries(); len(got) != 1 || got[0] != "2026-09" {
				t.Fatalf("after a start on 5 October: minimum_spend periods %v, want [2026-09]", got)
			}
			// 31 October 22:00 UTC is 1 November 01:00 in Nairobi: October
			// has ended there although UTC is still in it.
			now.Set(time.Date(2026, 10, 31, 22, 0, 0, 0, time.UTC))
			reconcileMonths(ctx, st, log, nil)
			reconcileMonths(ctx, st, log, nil)
			if got := minimumEntries(); len(got) != 2 || got[1] != "2026-10" {
				t.Fatalf("on 1 November in Nairobi: minimum_spend periods %v, want [2026-09 2026-10]", got)
			}
			if bs, err := st.VerifyLedger(ctx, 0); err != nil || len(bs) != 0 {
				t.Fatalf("VerifyLedger = %+v, %v", bs, err)
			}
		})
	}
}

// atomicTime is a settable clock for the schedule tests.
type atomicTime struct{ ns atomic.Int64 }

func (a *atomicTime) Set(t time.Time) { a.ns.Store(t.UnixNano()) }
func (a *atomicTime) Get() time.Time  { return time.Unix(0, a.ns.Load()).UTC() }
