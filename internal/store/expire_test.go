package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

// withDeadline is a valid create with a deadline ("" for none).
func withDeadline(externalID, deadline string) atsgate.JobInput {
	in := jobInput(externalID)
	if deadline != "" {
		in.Deadline = ptr(deadline)
	}
	return in
}

func mustCreate(t *testing.T, f *fixture, in atsgate.JobInput) *atsgate.Job {
	t.Helper()
	j, created, err := f.st.CreateJob(context.Background(), f.p, in)
	if err != nil || !created {
		t.Fatalf("CreateJob(%s) = created %v, %v", in.ExternalID, created, err)
	}
	return j
}

func stateOf(t *testing.T, st *store.Store, id int64) *atsgate.Job {
	t.Helper()
	j, err := st.JobByID(context.Background(), id)
	if err != nil {
		t.Fatalf("JobByID(%d): %v", id, err)
	}
	return j
}

// TestExpireJobs: a job with deadline D is published through the last
// second of D in its country and expired from midnight after it, each
// country by its own time zone; only published jobs expire; a second run
// changes nothing.
func TestExpireJobs(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)                 // UTC+3
		gh := mustCountry(t, st, "gh", "") // Africa/Accra, UTC
		keAuto := newEmployer(t, st, ke, fixtureOpts{autoPublish: true, balance: "1000"})
		keReview := newEmployer(t, st, ke, fixtureOpts{balance: "1000"})
		ghAuto := newEmployer(t, st, gh, fixtureOpts{autoPublish: true, balance: "1000"})

		due := mustCreate(t, keAuto, withDeadline("DUE", "2026-10-20"))
		later := mustCreate(t, keAuto, withDeadline("LATER", "2026-10-21"))
		none := mustCreate(t, keAuto, withDeadline("NONE", ""))
		pending := mustCreate(t, keReview, withDeadline("PENDING", "2026-10-20"))
		closed := mustCreate(t, keAuto, withDeadline("CLOSED", "2026-10-20"))
		if _, err := st.CloseJob(ctx, keAuto.p, "CLOSED"); err != nil {
			t.Fatal(err)
		}
		ghDue := mustCreate(t, ghAuto, withDeadline("GH-DUE", "2026-10-20"))

		// 23:59:59 on the deadline in Nairobi: still published.
		clk.Set(localTime(t, ke, "2026-10-20 23:59:59"))
		if n, err := st.ExpireJobs(ctx); err != nil || n != 0 {
			t.Fatalf("ExpireJobs at 23:59:59 = %d, %v; want 0", n, err)
		}
		if j := stateOf(t, st, due.ID); j.State != atsgate.StatePublished {
			t.Fatalf("at 23:59:59 on the deadline: %s", j.State)
		}

		// Midnight after it in Nairobi (21:00 UTC, still the 20th in Accra).
		midnight := localTime(t, ke, "2026-10-21 00:00:00")
		clk.Set(midnight)
		if n, err := st.ExpireJobs(ctx); err != nil || n != 1 {
			t.Fatalf("ExpireJobs at midnight = %d, %v; want 1", n, err)
		}
		j := stateOf(t, st, due.ID)
		if j.State != atsgate.StateExpired || !j.ClosedAt.Equal(midnight) || !j.UpdatedAt.Equal(midnight) {
			t.Fatalf("expired job: state %s, closed %v, updated %v", j.State, j.ClosedAt, j.UpdatedAt)
		}
		events, err := st.JobEvents(ctx, due.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := events[len(events)-1]
		if len(events) != 2 || last.From != atsgate.StatePublished || last.To != atsgate.StateExpired ||
			last.Actor != "system" || !last.CreatedAt.Equal(midnight) {
			t.Fatalf("events: %+v", events)
		}
		for _, id := range []int64{later.ID, none.ID, ghDue.ID} {
			if j := stateOf(t, st, id); j.State != atsgate.StatePublished {
				t.Errorf("job %s: %s, want published", j.ExternalID, j.State)
			}
		}
		if j := stateOf(t, st, pending.ID); j.State != atsgate.StatePending {
			t.Errorf("pending job: %s", j.State)
		}
		if j := stateOf(t, st, closed.ID); j.State != atsgate.StateClosed {
			t.Errorf("closed job: %s", j.State)
		}

		// Running again changes nothing.
		if n, err := st.ExpireJobs(ctx); err != nil || n != 0 {
			t.Fatalf("second run = %d, %v; want 0", n, err)
		}
		if got, _ := st.JobEvents(ctx, due.ID); len(got) != 2 {
			t.Fatalf("second run added events: %+v", got)
		}

		// Accra reaches the 21st three hours later.
		clk.Set(localTime(t, gh, "2026-10-20 23:59:59"))
		if n, _ := st.ExpireJobs(ctx); n != 0 {
			t.Fatalf("Accra at 23:59:59: expired %d", n)
		}
		clk.Set(localTime(t, gh, "2026-10-21 00:00:00"))
		if n, err := st.ExpireJobs(ctx); err != nil || n != 1 {
			t.Fatalf("Accra at midnight = %d, %v; want 1", n, err)
		}
		if j := stateOf(t, st, ghDue.ID); j.State != atsgate.StateExpired {
			t.Fatalf("Accra job: %s", j.State)
		}
		// An expired job can no longer be updated.
		_, err = st.UpdateJob(ctx, keAuto.p, atsgate.JobInput{ExternalID: "DUE", Title: ptr("New title")})
		wantCode(t, err, atsgate.ECONFLICT)
		mustVerify(t, st)
	})
}

// TestExpireJobsConcurrent: many instances expiring at once move each job
// once and record one event per job.
func TestExpireJobsConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		f := newEmployer(t, st, kenya(t, st), fixtureOpts{autoPublish: true, balance: "10000"})
		const jobs = 40
		for i := 0; i < jobs; i++ {
			mustCreate(t, f, withDeadline(fmt.Sprintf("J-%d", i), "2026-10-05"))
		}
		clk.Set(time.Date(2026, 10, 7, 0, 0, 0, 0, time.UTC))
		var wg sync.WaitGroup
		counts := make([]int, 8)
		for i := range counts {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				n, err := st.ExpireJobs(ctx)
				if err != nil {
					t.Errorf("ExpireJobs: %v", err)
				}
				counts[i] = n
			}(i)
		}
		wg.Wait()
		total := 0
		for _, n := range counts {
			total += n
		}
		if total != jobs {
			t.Fatalf("expired %d jobs in all, want %d (%v)", total, jobs, counts)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM job_events WHERE to_state = 'expired'`); n != jobs {
			t.Fatalf("expiry events = %d, want %d", n, jobs)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM jobs WHERE state = 'expired' AND closed_at IS NOT NULL`); n != jobs {
			t.Fatalf("expired jobs = %d, want %d", n, jobs)
		}
		mustVerify(t, st)
	})
}
