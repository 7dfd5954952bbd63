package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

// jobJSON is the --json form of a job in the review commands.
type jobJSON struct {
	ID                int64     `json:"id"`
	EmployerID        int64     `json:"employer_id"`
	ExternalID        string    `json:"external_id"`
	State             string    `json:"state"`
	Title             string    `json:"title"`
	AmountCharged     string    `json:"amount_charged"`
	ReceivedAt        time.Time `json:"received_at"`
	PublicLink        string    `json:"public_link"`
	DisapprovalReason string    `json:"disapproval_reason,omitempty"`
}

func jobOut(j *atsgate.Job) jobJSON {
	return jobJSON{j.ID, j.EmployerID, j.ExternalID, string(j.State), j.Title, j.AmountCharged.StringFixed(2),
		j.ReceivedAt, j.PublicLink, j.DisapprovalReason}
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
	out := make([]jobJSON, len(jobs))
	for i := range jobs {
		out[i] = jobOut(&jobs[i])
	}
	return e.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "JOB\tEMPLOYER\tEXTERNAL ID\tTITLE\tRECEIVED (UTC)")
		for _, j := range out {
			fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\n", j.ID, j.EmployerID, j.ExternalID, j.Title, j.ReceivedAt.Format(atsgate.DateTimeLayout))
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
	j, err := st.Approve(ctx, id, e.actor())
	if err != nil {
		return cliError(err)
	}
	return e.print(jobOut(j), func(w io.Writer) {
		fmt.Fprintf(w, "job %d is published at %s\n", j.ID, j.PublicLink)
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
	j, err := st.Disapprove(ctx, id, e.actor(), *reason)
	if err != nil {
		return cliError(err)
	}
	return e.print(jobOut(j), func(w io.Writer) {
		fmt.Fprintf(w, "job %d is disapproved; its charge of %s is refunded\n", j.ID, j.AmountCharged.StringFixed(2))
	})
}
