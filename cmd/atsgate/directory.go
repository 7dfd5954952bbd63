package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

func cmdCountryAdd(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	var hosts stringsFlag
	code := fs.String("code", "", "two-letter country code")
	name := fs.String("name", "", "country name")
	fs.Var(&hosts, "host", "host name of the country site (repeatable)")
	currency := fs.String("currency", "", "ISO 4217 currency code")
	tz := fs.String("timezone", "", "IANA time zone")
	price := fs.String("price", "", "default price of a job")
	publicURL := fs.String("public-url", "", "base URL of the public site (default https://<first host>)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "code", "name", "host", "currency", "timezone", "price"); err != nil {
		return err
	}
	p, err := atsgate.ParseAmount(*price)
	if err != nil {
		return fmt.Errorf("--price: %w", err)
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	c, err := st.CreateCountry(ctx, atsgate.Country{Code: *code, Name: *name, Hosts: hosts, Currency: *currency,
		TimeZone: *tz, Price: p, PublicURL: *publicURL})
	if err != nil {
		return cliError(err)
	}
	return e.print(wire.NewCountry(c), func(w io.Writer) {
		fmt.Fprintf(w, "country %s (%s) added: id %d, hosts %s, price %s %s, public URL %s\n",
			clean(c.Code), clean(c.Name), c.ID, clean(strings.Join(c.Hosts, ", ")), c.Price.StringFixed(2), clean(c.Currency), clean(c.PublicURL))
	})
}

func cmdCountryList(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	list, err := st.Countries(ctx)
	if err != nil {
		return cliError(err)
	}
	out := wire.NewCountries(list)
	return e.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tCODE\tNAME\tCURRENCY\tPRICE\tTIME ZONE\tHOSTS\tPUBLIC URL")
		for _, c := range out {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, clean(c.Code), clean(c.Name), clean(c.Currency), c.Price, clean(c.TimeZone), clean(strings.Join(c.Hosts, ",")), clean(c.PublicURL))
		}
	})
}

// optionalCountry is the ID of the country given as a code or ID in v, or
// 0 (every country) when v is empty.
func optionalCountry(ctx context.Context, st *store.Store, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	c, err := st.Country(ctx, v)
	if err != nil {
		return 0, cliError(err)
	}
	return c.ID, nil
}

func cmdEmployerAdd(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	country := fs.String("country", "", "country code or ID")
	var in atsgate.EmployerInput
	fs.StringVar(&in.Name, "name", "", "employer name")
	fs.StringVar(&in.Code, "code", "", "short code used in ERP job IDs (default: from the name)")
	fs.StringVar(&in.Price, "price", "", "per-job price override (default: the country's)")
	fs.BoolVar(&in.AutoPublish, "auto-publish", false, "publish jobs without review")
	fs.StringVar(&in.MinMonthlySpend, "min-monthly-spend", "", "committed minimum spend per month")
	fs.StringVar(&in.CommitmentStart, "commitment-start", "", "first month of the commitment, YYYY-MM")
	sameName := fs.Bool("allow-same-name", false, "add it even if an employer of that country already has this name")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "country", "name"); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	c, err := st.Country(ctx, *country)
	if err != nil {
		return cliError(err)
	}
	in.CountryID = c.ID
	// A second employer under the same name is most often the same
	// company added twice, which would split its money over two wallets;
	// two companies that share a name are told apart on purpose.
	if !*sameName {
		emps, err := st.Employers(ctx, c.ID)
		if err != nil {
			return cliError(err)
		}
		for _, other := range emps {
			if strings.EqualFold(strings.TrimSpace(other.Name), strings.TrimSpace(in.Name)) {
				return fmt.Errorf("employer %d is already named %q in %s; use it, or pass --allow-same-name if this is another company", other.ID, other.Name, c.Code)
			}
		}
	}
	emp, err := st.CreateEmployer(ctx, in)
	if err != nil {
		return cliError(err)
	}
	out := wire.NewEmployer(emp, c, atsgate.Money{Currency: c.Currency}) // a new wallet is empty
	return e.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "employer %d %q (%s) added in %s; job price %s; next: atsgate key issue --employer %d\n",
			emp.ID, emp.Name, clean(emp.Code), clean(c.Code), clean(atsgate.Money{Amount: emp.JobPrice(c), Currency: c.Currency}.String()), emp.ID)
	})
}

func cmdEmployerList(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	country := fs.String("country", "", "only this country (code or ID)")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	countries, err := st.Countries(ctx)
	if err != nil {
		return cliError(err)
	}
	byID := map[int64]*atsgate.Country{}
	for i := range countries {
		byID[countries[i].ID] = &countries[i]
	}
	countryID, err := optionalCountry(ctx, st, *country)
	if err != nil {
		return err
	}
	emps, err := st.Employers(ctx, countryID)
	if err != nil {
		return cliError(err)
	}
	ids := make([]int64, len(emps))
	for i := range emps {
		ids[i] = emps[i].ID
	}
	balances, err := st.Balances(ctx, ids)
	if err != nil {
		return cliError(err)
	}
	out := make([]wire.Employer, len(emps))
	for i := range emps {
		out[i] = wire.NewEmployer(&emps[i], byID[emps[i].CountryID], balances[emps[i].ID])
	}
	return e.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tCOUNTRY\tCODE\tNAME\tJOB PRICE\tAUTO-PUBLISH\tMIN SPEND\tBALANCE")
		for _, o := range out {
			min := "-"
			if o.MinMonthlySpend != "" {
				min = o.MinMonthlySpend + " from " + o.CommitmentStart
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%v\t%s\t%s %s\n", o.ID, clean(o.Country), clean(o.Code), clean(o.Name), o.Price, o.AutoPublish, clean(min), o.Balance, clean(o.Currency))
		}
	})
}

func employerFlag(fs *flag.FlagSet) *string {
	return fs.String("employer", "", "employer ID")
}

// employerStore parses the flags, reads the employer ID in emp with id
// (parseID where --employer is required, optionalID where it is not) and
// opens the store, in that order: a usage mistake is told without trying
// the database.
func employerStore(ctx context.Context, e *env, fs *flag.FlagSet, args []string, emp *string,
	id func(name, v string) (int64, error)) (*store.Store, int64, error) {
	if err := parse(fs, args); err != nil {
		return nil, 0, err
	}
	n, err := id("employer", *emp)
	if err != nil {
		return nil, 0, err
	}
	st, err := e.open(ctx)
	if err != nil {
		return nil, 0, err
	}
	return st, n, nil
}

func issueKey(ctx context.Context, e *env, fs *flag.FlagSet, args []string, rotate bool) error {
	emp := employerFlag(fs)
	st, id, err := employerStore(ctx, e, fs, args, emp, parseID)
	if err != nil {
		return err
	}
	plain, key, err := st.IssueKey(ctx, id, rotate)
	if err != nil {
		return cliError(err)
	}
	return e.print(wire.NewIssuedKey(plain, key), func(w io.Writer) {
		fmt.Fprintf(w, "API key for employer %d (shown once; any previous key no longer works):\n%s\n", id, plain)
	})
}

func cmdKeyIssue(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return issueKey(ctx, e, fs, args, false)
}

func cmdKeyRotate(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return issueKey(ctx, e, fs, args, true)
}

func cmdKeyDisable(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := employerFlag(fs)
	st, id, err := employerStore(ctx, e, fs, args, emp, parseID)
	if err != nil {
		return err
	}
	if err := st.DisableKey(ctx, id); err != nil {
		return cliError(err)
	}
	return e.print(wire.KeyDisabled{EmployerID: id, Disabled: true}, func(w io.Writer) {
		fmt.Fprintf(w, "the API key of employer %d is disabled\n", id)
	})
}
