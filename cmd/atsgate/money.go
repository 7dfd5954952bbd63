package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

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
	amount := fs.String("amount", "", "amount, e.g. 500 or -20.50")
	note := fs.String("note", "", "what the money is (required for an adjustment)")
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
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	var le *atsgate.LedgerEntry
	if adjust {
		le, err = st.Adjust(ctx, id, a, e.actor(), *note)
	} else {
		le, err = st.TopUp(ctx, id, a, e.actor(), *note)
	}
	if err != nil {
		return cliError(err)
	}
	_, country, err := employerCountry(ctx, st, id)
	if err != nil {
		return err
	}
	return e.print(wire.NewLedgerEntry(le, country), func(w io.Writer) {
		fmt.Fprintf(w, "%s of %s posted to employer %d; balance now %s\n", le.Kind, le.Amount.StringFixed(2), id, le.BalanceAfter.StringFixed(2))
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
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := parseID("employer", *emp)
	if err != nil {
		return err
	}
	st, err := e.open(ctx)
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
			return t, fmt.Errorf("--%s must be a date such as 2026-10-01", name)
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
	fmt.Fprintf(w, "employer %d %q: balance %s %s\n", id, employer.Name, out.Balance, clean(s.Currency))
	if *from != "" || *to != "" {
		fmt.Fprintf(w, "period [%s, %s): opening %s, closing %s\n", *from, *to, out.OpeningBalance, out.ClosingBalance)
	}
	fmt.Fprintln(w, "ID\tTIME\tKIND\tAMOUNT\tBALANCE AFTER\tJOB\tACTOR\tNOTE")
	n := 0
	err = each(func(le *atsgate.LedgerEntry) error {
		job := ""
		if le.JobID != 0 {
			job = fmt.Sprint(le.JobID)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", le.ID, country.Local(le.CreatedAt).Format(atsgate.DateTimeLayout),
			le.Kind, le.Amount.StringFixed(2), le.BalanceAfter.StringFixed(2), job, clean(le.Actor), clean(le.Note))
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
