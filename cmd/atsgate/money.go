package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// employerCountry loads an employer and its country, which its money and
// times are printed in.
func employerCountry(ctx context.Context, st *store.Store, id int64) (*atsgate.Employer, *atsgate.Country, error) {
	emp, err := st.Employer(ctx, id)
	if err != nil {
		return nil, nil, cliError(err)
	}
	c, err := st.Country(ctx, fmt.Sprint(emp.CountryID))
	if err != nil {
		return nil, nil, cliError(err)
	}
	return emp, c, nil
}

func post(ctx context.Context, e *env, fs *flag.FlagSet, args []string, adjust bool) error {
	emp := employerFlag(fs)
	var amount, note *string
	if adjust {
		amount = fs.String("amount", "", "the signed correction in the wallet's currency, e.g. -20.50 or 15 (required)")
		note = fs.String("note", "", "why the correction is made; shown on statements (required)")
	} else {
		amount = fs.String("amount", "", "the money received, in the wallet's currency, e.g. 500 or 12.50 (required)")
		note = fs.String("note", "", "what the money is, e.g. \"bank transfer 123\"; shown on statements")
	}
	reference := fs.String("reference", "", "your unique reference, e.g. the bank transfer's; the same reference again posts nothing new")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "employer", "amount"); err != nil {
		return err
	}
	id, err := parseID("employer", *emp)
	if err != nil {
		return err
	}
	a, err := atsgate.ParseAmount(*amount)
	if err != nil {
		return fmt.Errorf("--amount: %w", err)
	}
	// An empty reference would quietly mean "none", and the retry the
	// operator meant to make safe would post twice.
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "reference" })
	if given && atsgate.NormalReference(*reference) == "" {
		return fmt.Errorf("--reference must not be blank")
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	// The employer first: an unknown one is "not found", as in every other
	// command, not a wallet that is missing.
	_, country, err := employerCountry(ctx, st, id)
	if err != nil {
		return err
	}
	var le *atsgate.LedgerEntry
	var created bool
	if adjust {
		le, created, err = st.Adjust(ctx, id, a, e.actor(), *note, *reference)
	} else {
		le, created, err = st.TopUp(ctx, id, a, e.actor(), *note, *reference)
	}
	if err != nil {
		return cliError(err)
	}
	money := func(d decimal.Decimal) string { return atsgate.Money{Amount: d, Currency: country.Currency}.String() }
	return e.print(wire.NewLedgerEntry(le, country), func(w io.Writer) {
		if !created {
			fmt.Fprintf(w, "reference %q was already posted as entry %d (%s of %s); nothing new was posted\n",
				le.Reference, le.ID, le.Kind, money(le.Amount))
			return
		}
		fmt.Fprintf(w, "%s of %s posted to employer %d; balance now %s\n", le.Kind, money(le.Amount), id, money(le.BalanceAfter))
	})
}

func cmdWalletTopup(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return post(ctx, e, fs, args, false)
}

func cmdWalletAdjust(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return post(ctx, e, fs, args, true)
}

func cmdWalletShow(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := employerFlag(fs)
	from := fs.String("from", "", "first day, YYYY-MM-DD (in the employer's country time zone)")
	to := fs.String("to", "", "day after the last, YYYY-MM-DD")
	st, id, err := employerStore(ctx, e, fs, args, emp, parseID)
	if err != nil {
		return err
	}
	employer, country, err := employerCountry(ctx, st, id)
	if err != nil {
		return err
	}
	day := func(name, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation(atsgate.DateLayout, v, country.Location)
		if err != nil {
			return t, &usageError{msg: fmt.Sprintf("--%s must be a date such as 2026-10-01", name)}
		}
		return t, nil
	}
	f, err := day("from", *from)
	if err != nil {
		return err
	}
	t, err := day("to", *to)
	if err != nil {
		return err
	}
	if !f.IsZero() && !t.IsZero() && !t.After(f) {
		return &usageError{msg: "--to must be a later day than --from (--to is the day after the period's last)"}
	}
	s, err := st.Statement(ctx, id, f, t)
	if err != nil {
		return cliError(err)
	}
	// The entries are streamed, never held: a ledger of a million entries
	// prints in the memory of one page. They stop at the statement's last,
	// so they add up to its totals whatever is posted meanwhile.
	each := func(fn func(*atsgate.LedgerEntry) error) error {
		if s.LastID == 0 {
			return nil
		}
		return st.EachStatementEntry(ctx, id, f, t, s.LastID, fn)
	}
	out := wire.NewStatement(s, nil, employer, country, *from, *to)
	if e.json {
		return wire.WriteStatement(e.stdout, out, func(yield func(wire.LedgerEntry) error) error {
			return each(func(le *atsgate.LedgerEntry) error { return yield(wire.NewLedgerEntry(le, country)) })
		})
	}
	w, flush := e.text()
	money := func(d decimal.Decimal) string {
		return clean(atsgate.Money{Amount: d, Currency: s.Currency}.String())
	}
	fmt.Fprintf(w, "employer %d %q: balance %s\n", id, employer.Name, money(s.Balance))
	if *from != "" || *to != "" {
		fmt.Fprintf(w, "period [%s, %s): opening %s, closing %s\n", *from, *to, money(s.OpeningBalance), money(s.ClosingBalance))
	}
	// Times are the employer's country's, as its periods are; the header
	// says which zone.
	fmt.Fprintf(w, "ID\tTIME (%s)\tKIND\tAMOUNT\tBALANCE AFTER\tJOB\tACTOR\tNOTE\n", clean(country.TimeZone))
	n := 0
	err = each(func(le *atsgate.LedgerEntry) error {
		job := ""
		if le.JobID != 0 {
			job = fmt.Sprint(le.JobID)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", le.ID, country.Local(le.CreatedAt).Format(atsgate.DateTimeLayout),
			le.Kind, money(le.Amount), money(le.BalanceAfter), job, clean(le.Actor), clean(le.Note))
		// The table aligns a block at a time, so it is written a block at
		// a time rather than held to the end.
		if n++; n%500 == 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return cliError(err)
	}
	return flush()
}
