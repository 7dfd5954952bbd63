package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// reconciliationJSON is the --json form of a reconciliation run.
type reconciliationJSON struct {
	Month     string              `json:"month"`
	At        time.Time           `json:"at"`
	Employers []reconcileLineJSON `json:"employers"`
	Counts    map[string]int      `json:"counts"`
}

// reconcileLineJSON is one employer's line of a reconciliation.
type reconcileLineJSON struct {
	EmployerID   int64  `json:"employer_id"`
	EmployerName string `json:"employer_name"`
	EmployerCode string `json:"employer_code"`
	Country      string `json:"country"`
	Currency     string `json:"currency"`
	Minimum      string `json:"minimum"`
	Spend        string `json:"spend"`
	Shortfall    string `json:"shortfall"`
	Debited      string `json:"debited"`
	Status       string `json:"status"`
	EntryID      int64  `json:"entry_id,omitempty"`
}

func reconciliationOut(r *atsgate.Reconciliation) reconciliationJSON {
	out := reconciliationJSON{Month: r.Month, At: r.At, Employers: make([]reconcileLineJSON, len(r.Lines)), Counts: map[string]int{}}
	for i, l := range r.Lines {
		out.Employers[i] = reconcileLineJSON{l.EmployerID, l.EmployerName, l.EmployerCode, l.CountryCode, l.Currency,
			l.Minimum.StringFixed(2), l.Spend.StringFixed(2), l.Shortfall.StringFixed(2), l.Debited.StringFixed(2),
			string(l.Status), l.EntryID}
		out.Counts[string(l.Status)]++
	}
	return out
}

// cmdReconcile posts a month's minimum-spend shortfalls. It is safe to run
// at any time and any number of times: see store.Reconcile.
func cmdReconcile(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	month := fs.String("month", "", "the month to reconcile, YYYY-MM")
	emp := fs.String("employer", "", "only this employer ID")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "month"); err != nil {
		return err
	}
	var id int64
	if *emp != "" {
		var err error
		if id, err = parseID("employer", *emp); err != nil {
			return err
		}
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	r, err := st.Reconcile(ctx, *month, id, e.actor())
	if err != nil {
		return cliError(err)
	}
	out := reconciliationOut(r)
	return e.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "minimum monthly spend for %s: %d employer(s) with a commitment\n", r.Month, len(r.Lines))
		fmt.Fprintln(w, "EMPLOYER\tCODE\tCOUNTRY\tMINIMUM\tSPEND\tSHORTFALL\tDEBITED\tSTATUS\tENTRY")
		for _, l := range out.Employers {
			entry := ""
			if l.EntryID != 0 {
				entry = fmt.Sprint(l.EntryID)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", l.EmployerID, l.EmployerCode, l.Country,
				l.Minimum, l.Currency, l.Spend, l.Shortfall, l.Debited, l.Status, entry)
		}
	})
}

// breachJSON is the --json form of a ledger breach.
type breachJSON struct {
	Rule       string `json:"rule"`
	EmployerID int64  `json:"employer_id"`
	EntryID    int64  `json:"entry_id,omitempty"`
	JobID      int64  `json:"job_id,omitempty"`
	Message    string `json:"message"`
}

// cmdLedgerVerify checks the ledger invariants and fails on any breach, so
// scripts and CI can run it after anything that moves money.
func cmdLedgerVerify(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := fs.String("employer", "", "only this employer ID")
	if err := parse(fs, args); err != nil {
		return err
	}
	var id int64
	if *emp != "" {
		var err error
		if id, err = parseID("employer", *emp); err != nil {
			return err
		}
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	breaches, err := st.VerifyLedger(ctx, id)
	if err != nil {
		return cliError(err)
	}
	out := struct {
		OK       bool         `json:"ok"`
		Breaches []breachJSON `json:"breaches"`
	}{OK: len(breaches) == 0, Breaches: make([]breachJSON, len(breaches))}
	for i, b := range breaches {
		out.Breaches[i] = breachJSON(b)
	}
	if err := e.print(out, func(w io.Writer) {
		if out.OK {
			fmt.Fprintln(w, "ledger verified: every invariant holds")
			return
		}
		fmt.Fprintln(w, "RULE\tEMPLOYER\tENTRY\tJOB\tBREACH")
		for _, b := range out.Breaches {
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", b.Rule, b.EmployerID, b.EntryID, b.JobID, b.Message)
		}
	}); err != nil {
		return err
	}
	if !out.OK {
		return fmt.Errorf("ledger verify: %d breach(es) of the ledger invariants", len(breaches))
	}
	return nil
}
