package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

// cmdReconcile posts a month's minimum-spend shortfalls. It is safe to run
// at any time and any number of times: see store.Reconcile. With --report
// it only reads the month's table, as the back office shows it; a run and
// a report use the same statuses, and a run marks the lines it debited
// itself in the CHANGED column ("changed" in --json).
func cmdReconcile(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	month := fs.String("month", "", "the month to reconcile, YYYY-MM")
	emp := fs.String("employer", "", "only this employer ID")
	report := fs.Bool("report", false, "only print the month's table; change nothing")
	country := fs.String("country", "", "with --report: only this country (code or ID)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "month"); err != nil {
		return err
	}
	if *country != "" && !*report {
		return misuse("reconcile", "--country only narrows a --report; a run takes --employer")
	}
	id, err := optionalID("employer", *emp)
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	var r *atsgate.Reconciliation
	if *report {
		var countryID int64
		if countryID, err = optionalCountry(ctx, st, *country); err != nil {
			return err
		}
		if r, err = st.ReconciliationReport(ctx, *month, countryID); err != nil {
			return cliError(err)
		}
		if id != 0 {
			lines := r.Lines[:0]
			for _, l := range r.Lines {
				if l.EmployerID == id {
					lines = append(lines, l)
				}
			}
			r.Lines = lines
		}
	} else if r, err = st.Reconcile(ctx, *month, id, e.actor()); err != nil {
		return cliError(err)
	}
	out := wire.NewReconciliation(r)
	var failed []atsgate.ReconciliationLine
	for _, l := range r.Lines {
		if l.Status == atsgate.ReconcileFailed {
			failed = append(failed, l)
		}
	}
	if err := e.print(out, func(w io.Writer) {
		what := "run at"
		if *report {
			what = "report read at"
		}
		fmt.Fprintf(w, "minimum monthly spend for %s (%s %s UTC): %d employer(s) with a commitment\n",
			r.Month, what, r.At.UTC().Format("2006-01-02 15:04"), len(r.Lines))
		fmt.Fprintln(w, "EMPLOYER\tCODE\tCOUNTRY\tMINIMUM\tSPEND\tSHORTFALL\tDEBITED\tSTATUS\tCHANGED\tENTRY")
		for i, l := range r.Lines {
			entry := ""
			if l.EntryID != 0 {
				entry = fmt.Sprint(l.EntryID)
			}
			changed := "no"
			if l.Changed {
				changed = "yes"
			}
			m := func(d decimal.Decimal) string { return clean(atsgate.Money{Amount: d, Currency: l.Currency}.String()) }
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.EmployerID, clean(out.Lines[i].EmployerCode), clean(l.CountryCode),
				m(l.Minimum), m(l.Spend), m(l.Shortfall), m(l.Debited), l.Status, changed, entry)
		}
	}); err != nil {
		return err
	}
	// The operator has the shell: each failure's whole cause goes to
	// stderr, and the exit status tells a script the run is not complete.
	for _, l := range failed {
		fmt.Fprintf(e.stderr, "employer %d: %s\n", l.EmployerID, escape(l.Err.Error(), layout))
	}
	if len(failed) > 0 {
		return fmt.Errorf("reconcile %s: %d of %d employer(s) failed and stay owed; run it again once the cause is fixed",
			r.Month, len(failed), len(r.Lines))
	}
	return nil
}

// cmdLedgerVerify checks the ledger invariants and fails on any breach, so
// scripts and CI can run it after anything that moves money.
func cmdLedgerVerify(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := fs.String("employer", "", "only this employer ID")
	st, id, err := employerStore(ctx, e, fs, args, emp, optionalID)
	if err != nil {
		return err
	}
	breaches, err := st.VerifyLedger(ctx, id)
	if err != nil {
		return cliError(err)
	}
	out := wire.NewLedgerCheck(breaches)
	if err := e.print(out, func(w io.Writer) {
		if out.OK {
			fmt.Fprintln(w, "ledger verified: every invariant holds")
			return
		}
		fmt.Fprintln(w, "RULE\tEMPLOYER\tENTRY\tJOB\tBREACH")
		for _, b := range out.Breaches {
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", b.Rule, b.EmployerID, b.EntryID, b.JobID, clean(b.Message))
		}
	}); err != nil {
		return err
	}
	if !out.OK {
		return fmt.Errorf("ledger verify: %d breach(es) of the ledger invariants", len(breaches))
	}
	return nil
}
