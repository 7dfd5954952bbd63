package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// backdateEmployer moves an employer's creation to at, as if it had been
// a customer since then: the CLI creates employers now, and the months a
// reconciliation bills are those it existed in.
func backdateEmployer(t *testing.T, dbURL string, id int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := `UPDATE employers SET created_at = $1 WHERE id = $2`
	if st.Dialect() == store.SQLite {
		q = `UPDATE employers SET created_at = ? WHERE id = ?`
	}
	if _, err := st.DB().ExecContext(ctx, q, at.UTC(), id); err != nil {
		t.Fatal(err)
	}
}

// TestCLIReconcileReportsFailures: an employer the run cannot debit is
// printed as failed with its cause on stderr, the employers after it are
// debited, and the command exits non-zero, with --json as without.
func TestCLIReconcileReportsFailures(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := dbtest.URL(t, dialect)
			vars := map[string]string{"DATABASE_URL": url, "USER": "ops"}
			cli(t, vars, nil, "migrate")
			cli(t, vars, nil, "country", "add", "--code", "ke", "--name", "Kenya", "--host", "ke.localhost",
				"--currency", "KES", "--timezone", "Africa/Nairobi", "--price", "50")
			var ids []string
			for _, name := range []string{"Broke", "Fine"} {
				var emp wire.Employer
				cli(t, vars, &emp, "employer", "add", "--country", "ke", "--name", name, "--min-monthly-spend", "500",
					"--commitment-start", "2020-01")
				backdateEmployer(t, url, emp.ID, time.Date(2019, 12, 1, 0, 0, 0, 0, time.UTC))
				ids = append(ids, jsonID(emp.ID))
			}
			// Broke's wallet is at the lowest balance a wallet may hold, so
			// its minimum spend cannot be debited.
			cli(t, vars, nil, "wallet", "adjust", "--employer", ids[0], "--amount", "-1000000000000000", "--note", "write-off")

			for _, asJSON := range []bool{false, true} {
				args := []string{"atsgate", "reconcile", "--month", "2020-01"}
				if asJSON {
					args = append(args, "--json")
				}
				var stdout, stderr bytes.Buffer
				err := run(context.Background(), args, envOf(vars), &stdout, &stderr)
				if err == nil || !strings.Contains(err.Error(), "1 of 2 employer(s) failed") {
					t.Fatalf("json %v: err = %v, want 1 of 2 failed", asJSON, err)
				}
				if !strings.Contains(stderr.String(), "employer "+ids[0]+": ") || !strings.Contains(stderr.String(), "10^15") {
					t.Errorf("json %v: stderr does not give Broke's cause:\n%s", asJSON, stderr.String())
				}
				if !asJSON {
					if !strings.Contains(stdout.String(), "failed") || !strings.Contains(stdout.String(), "debited") {
						t.Errorf("table:\n%s", stdout.String())
					}
					continue
				}
				var r wire.Reconciliation
				if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
					t.Fatalf("--json output: %v\n%s", err, stdout.String())
				}
				if len(r.Lines) != 2 || r.Lines[0].Status != "failed" || !strings.Contains(r.Lines[0].Error, "10^15") ||
					r.Lines[1].Status != "already_reconciled" || r.Lines[1].Error != "" {
					t.Errorf("second run, --json: %+v", r.Lines)
				}
			}
			var show wire.Statement
			cli(t, vars, &show, "wallet", "show", "--employer", ids[1])
			if show.Totals["minimum_spend"] != "-500.00" {
				t.Errorf("Fine was not debited after Broke failed: %+v", show.Totals)
			}
			cli(t, vars, nil, "ledger", "verify")
		})
	}
}

// TestScheduleLogsFailures: the hourly run logs, at error level, each
// employer it could not debit, and debits the others.
func TestScheduleLogsFailures(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			var now atomicTime
			now.Set(time.Date(2026, 8, 20, 9, 0, 0, 0, time.UTC))
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
			var ids []int64
			for _, name := range []string{"Broke", "Fine"} {
				emp, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: ke.ID, Name: name, MinMonthlySpend: "500", CommitmentStart: "2026-09"})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, emp.ID)
			}
			q := `UPDATE wallets SET balance_minor = $1 WHERE employer_id = $2`
			if st.Dialect() == store.SQLite {
				q = `UPDATE wallets SET balance_minor = ? WHERE employer_id = ?`
			}
			if _, err := st.DB().ExecContext(ctx, q, -atsgate.MaxAmount*100, ids[0]); err != nil {
				t.Fatal(err)
			}
			now.Set(time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC))
			var logs syncBuffer
			reconcileMonths(ctx, st, slog.New(slog.NewJSONHandler(&logs, nil)), nil)
			var failed, debited bool
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var l map[string]any
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				switch {
				case l["level"] == "ERROR" && l["msg"] == "reconcile minimum monthly spend: an employer failed":
					failed = l["employer_id"] == float64(ids[0]) && l["month"] == "2026-09" && strings.Contains(l["err"].(string), "10^15")
				case l["msg"] == "minimum monthly spend debited":
					debited = l["employer_id"] == float64(ids[1])
				}
			}
			if !failed || !debited {
				t.Errorf("failure logged %v, the next employer debited %v:\n%s", failed, debited, logs.String())
			}
		})
	}
}
