package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/microcosm-cc/bluemonday"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// jobsOut renders jobs as the admin API does: in their countries' time
// zones, with descriptions sanitised by the back office's policy
// (bluemonday's UGC policy), so the two print the same job alike.
func jobsOut(ctx context.Context, st *store.Store, jobs []atsgate.Job) ([]wire.Job, error) {
	countries, err := st.Countries(ctx)
	if err != nil {
		return nil, cliError(err)
	}
	byID := make(map[int64]*atsgate.Country, len(countries))
	for i := range countries {
		byID[countries[i].ID] = &countries[i]
	}
	ugc := bluemonday.UGCPolicy()
	out := make([]wire.Job, len(jobs))
	for i := range jobs {
		c := byID[jobs[i].CountryID]
		if c == nil {
			return nil, fmt.Errorf("job %d: no country %d", jobs[i].ID, jobs[i].CountryID)
		}
		out[i] = wire.NewJob(&jobs[i], c, ugc.Sanitize)
	}
	return out, nil
}

// moderated prints a job just approved or disapproved as it now reads,
// as the admin API answers: Disapprove does not fill the public link.
func moderated(ctx context.Context, e *env, st *store.Store, id int64, text func(w io.Writer, j *atsgate.Job)) error {
	j, err := st.JobByID(ctx, id)
	if err != nil {
		return cliError(err)
	}
	out, err := jobsOut(ctx, st, []atsgate.Job{*j})
	if err != nil {
		return err
	}
	return e.print(out[0], func(w io.Writer) { text(w, j) })
}

func cmdReviewList(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	country := fs.String("country", "", "only this country (code or ID)")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	var f atsgate.ReviewFilter
	f.Limit = 200
	if *country != "" {
		c, err := st.Country(ctx, *country)
		if err != nil {
			return cliError(err)
		}
		f.CountryID = c.ID
	}
	jobs, err := st.ReviewQueue(ctx, f)
	if err != nil {
		return cliError(err)
	}
	out, err := jobsOut(ctx, st, jobs)
	if err != nil {
		return err
	}
	return e.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "JOB\tEMPLOYER\tEXTERNAL ID\tTITLE\tRECEIVED (UTC)")
		for _, j := range jobs {
			fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\n", j.ID, j.EmployerID, clean(j.ExternalID), clean(j.Title), j.ReceivedAt.UTC().Format(atsgate.DateTimeLayout))
		}
	})
}

// jobFlags reads --job or --employer with --external-id.
func jobFlags(fs *flag.FlagSet) func(ctx context.Context, st *store.Store) (int64, error) {
	job := fs.String("job", "", "job ID")
	emp := fs.String("employer", "", "employer ID (with --external-id)")
	ext := fs.String("external-id", "", "the employer's external ID of the job")
	return func(ctx context.Context, st *store.Store) (int64, error) {
		switch {
		case *job != "" && *emp == "" && *ext == "":
			return parseID("job", *job)
		case *job == "" && *emp != "" && *ext != "":
			id, err := parseID("employer", *emp)
			if err != nil {
				return 0, err
			}
			j, err := st.Job(ctx, id, *ext)
			if err != nil {
				return 0, cliError(err)
			}
			return j.ID, nil
		}
		return 0, fmt.Errorf("give --job ID, or --employer ID with --external-id X")
	}
}

func cmdReviewApprove(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	resolve := jobFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	id, err := resolve(ctx, st)
	if err != nil {
		return err
	}
	if _, err := st.Approve(ctx, id, e.actor()); err != nil {
		return cliError(err)
	}
	return moderated(ctx, e, st, id, func(w io.Writer, j *atsgate.Job) {
		fmt.Fprintf(w, "job %d is published at %s\n", j.ID, clean(j.PublicLink))
	})
}

func cmdReviewDisapprove(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	resolve := jobFlags(fs)
	reason := fs.String("reason", "", "why the job is refused (shown to the employer)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "reason"); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	id, err := resolve(ctx, st)
	if err != nil {
		return err
	}
	if _, err := st.Disapprove(ctx, id, e.actor(), *reason); err != nil {
		return cliError(err)
	}
	return moderated(ctx, e, st, id, func(w io.Writer, j *atsgate.Job) {
		fmt.Fprintf(w, "job %d is disapproved; its charge of %s is refunded\n", j.ID, j.AmountCharged.StringFixed(2))
	})
}
