package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

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
	if f.CountryID, err = optionalCountry(ctx, st, *country); err != nil {
		return err
	}
	jobs, err := st.ReviewQueue(ctx, f)
	if err != nil {
		return cliError(err)
	}
	edits, err := st.PendingEdits(ctx, f)
	if err != nil {
		return cliError(err)
	}
	out, err := queueOut(ctx, st, jobs, edits)
	if err != nil {
		return err
	}
	countries, err := st.Countries(ctx)
	if err != nil {
		return cliError(err)
	}
	byID := make(map[int64]atsgate.Country, len(countries))
	for _, c := range countries {
		byID[c.ID] = c
	}
	return e.print(out, func(w io.Writer) {
		// Times in the CLI are each country's own, as on the country's
		// site and in its statements, with the zone named beside them.
		fmt.Fprintln(w, "JOB\tEMPLOYER\tEXTERNAL ID\tTITLE\tRECEIVED (LOCAL)\tZONE")
		for _, j := range jobs {
			c := byID[j.CountryID]
			fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\n", j.ID, j.EmployerID, clean(j.ExternalID), clean(j.Title),
				c.Local(j.ReceivedAt).Format(atsgate.DateTimeLayout), c.TimeZone)
		}
		if len(out.Edits) == 0 {
			return
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "EDITS OF PUBLISHED JOBS")
		fmt.Fprintln(w, "JOB\tEMPLOYER\tEXTERNAL ID\tFIELD\tLIVE\tPROPOSED")
		for _, p := range out.Edits {
			for _, ch := range p.Edit.Changes {
				fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\n", p.Job.ID, p.Job.EmployerID, clean(p.Job.ExternalID), ch.Field, cell(ch.Old), cell(ch.New))
			}
		}
	})
}

// queueOut is the moderation queue as the admin API prints it: pending
// jobs, and the pending edits of published jobs with their diffs.
func queueOut(ctx context.Context, st *store.Store, jobs []atsgate.Job, edits []atsgate.PendingEdit) (wire.JobList, error) {
	live := make([]atsgate.Job, len(edits))
	for i := range edits {
		live[i] = edits[i].Job
	}
	all, err := jobsOut(ctx, st, append(slices.Clone(jobs), live...))
	if err != nil {
		return wire.JobList{}, err
	}
	countries, err := st.Countries(ctx)
	if err != nil {
		return wire.JobList{}, cliError(err)
	}
	ugc := bluemonday.UGCPolicy()
	out := wire.JobList{Jobs: all[:len(jobs)], Edits: make([]wire.PendingEdit, len(edits))}
	for i := range edits {
		var c atsgate.Country
		for _, k := range countries {
			if k.ID == edits[i].Job.CountryID {
				c = k
			}
		}
		out.Edits[i] = wire.PendingEdit{Job: all[len(jobs)+i], Edit: wire.NewEdit(&edits[i], &c, ugc.Sanitize)}
	}
	return out, nil
}

// cell keeps a diff value on one short line of the text table; --json has
// the whole value.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "—"
	}
	if r := []rune(s); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return s
}

// hasEdit reports whether a reviewer's decision on job id is about its
// pending edit rather than the job itself, for the message printed after.
func hasEdit(ctx context.Context, st *store.Store, id int64) bool {
	j, err := st.JobByID(ctx, id)
	return err == nil && j.State.ReviewsEdit(j.PendingEdit)
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
	edit := hasEdit(ctx, st, id)
	if _, err := st.Approve(ctx, id, e.actor()); err != nil {
		return cliError(err)
	}
	return moderated(ctx, e, st, id, func(w io.Writer, j *atsgate.Job) {
		if edit {
			fmt.Fprintf(w, "the edit of job %d is live at %s\n", j.ID, clean(j.PublicLink))
			return
		}
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
	edit := hasEdit(ctx, st, id)
	// Disapproving again changes nothing (the refund happened once, and
	// the first reason stands): say so, and when, rather than repeat that
	// the charge "is refunded".
	if before, err := st.JobByID(ctx, id); err == nil && before.State == atsgate.StateDisapproved {
		when := disapprovedAt(ctx, st, before)
		return moderated(ctx, e, st, id, func(w io.Writer, j *atsgate.Job) {
			fmt.Fprintf(w, "job %d was already disapproved%s (reason: %q), and its charge of %s refunded then; nothing changed, and the new reason was not recorded\n",
				j.ID, when, j.DisapprovalReason, jobMoney(ctx, st, j))
		})
	}
	if _, err := st.Disapprove(ctx, id, e.actor(), *reason); err != nil {
		return cliError(err)
	}
	return moderated(ctx, e, st, id, func(w io.Writer, j *atsgate.Job) {
		if edit {
			fmt.Fprintf(w, "the edit of job %d is refused; the job stays published as approved, nothing is refunded\n", j.ID)
			return
		}
		fmt.Fprintf(w, "job %d is disapproved; its charge of %s is refunded\n", j.ID, jobMoney(ctx, st, j))
	})
}

// jobMoney is a job's charge for people, in its country's currency.
func jobMoney(ctx context.Context, st *store.Store, j *atsgate.Job) string {
	c, err := st.Country(ctx, fmt.Sprint(j.CountryID))
	if err != nil {
		return j.AmountCharged.StringFixed(2)
	}
	return atsgate.Money{Amount: j.AmountCharged, Currency: c.Currency}.String()
}

// disapprovedAt is " on <local time> (<zone>)" of a job's disapproval,
// from its history; "" when the history cannot be read.
func disapprovedAt(ctx context.Context, st *store.Store, j *atsgate.Job) string {
	events, err := st.JobEvents(ctx, j.ID)
	if err != nil {
		return ""
	}
	c, err := st.Country(ctx, fmt.Sprint(j.CountryID))
	if err != nil {
		return ""
	}
	for _, ev := range events {
		if ev.To == atsgate.StateDisapproved {
			return " on " + c.Local(ev.CreatedAt).Format(atsgate.DateTimeLayout) + " (" + c.TimeZone + ")"
		}
	}
	return ""
}
