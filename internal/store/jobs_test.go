package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

var jobCmp = cmp.Options{
	cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

func TestCreateJob(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		now := time.Date(2026, 10, 5, 9, 14, 32, 0, time.UTC)
		clock := newTestClock(now)
		f := setup(t, d, fixtureOpts{balance: "500"}, store.WithClock(clock.Now))

		t.Run("pending and charged", func(t *testing.T) {
			in := jobInput("JOB-1")
			in.Deadline = ptr("2026-12-31")
			in.ApplyURL = ptr("https://acme.example/apply")
			in.ApplyEmail = ptr("jobs@acme.example")
			in.MinExperience, in.MaxExperience, in.Salary = ptr(int64(2)), ptr(int64(5)), ptr(int64(9000))
			in.Specialization = ptr(int64(3))
			in.ShowCompanyName = ptr(false)
			in.States = &[]int64{1, 2}
			in.Qualifications = &[]int64{4}
			in.Extras = map[string]string{"job_type": "FULL_TIME", "department": "Engineering"}
			j, created, err := f.st.CreateJob(ctx, f.p, in)
			if err != nil || !created {
				t.Fatalf("CreateJob = created %v, err %v", created, err)
			}
			want := atsgate.Job{
				ID: j.ID, EmployerID: f.employer.ID, CountryID: f.country.ID, ExternalID: "JOB-1",
				Dialect: atsgate.DialectATS, State: atsgate.StatePending, Title: "Senior Go Engineer",
				Description: "<p>Build things.</p>", Deadline: "2026-12-31", ApplyURL: "https://acme.example/apply",
				ApplyEmail: "jobs@acme.example", MinExperience: 2, MaxExperience: 5, Salary: 9000, Specialization: 3,
				ShowCompanyName: false, States: []int64{1, 2}, Qualifications: []int64{4},
				Extras:        map[string]string{"job_type": "FULL_TIME", "department": "Engineering"},
				AmountCharged: dec("50"), ReceivedAt: now, UpdatedAt: now,
			}
			if diff := cmp.Diff(want, *j, jobCmp); diff != "" {
				t.Errorf("CreateJob (-want +got):\n%s", diff)
			}
			got, err := f.st.Job(ctx, f.employer.ID, "JOB-1")
			if err != nil {
				t.Fatalf("Job: %v", err)
			}
			if diff := cmp.Diff(want, *got, jobCmp); diff != "" {
				t.Errorf("Job (-want +got):\n%s", diff)
			}
			byID, err := f.st.JobByID(ctx, j.ID)
			if err != nil {
				t.Fatalf("JobByID: %v", err)
			}
			if diff := cmp.Diff(want, *byID, jobCmp); diff != "" {
				t.Errorf("JobByID (-want +got):\n%s", diff)
			}
			if b := f.balance(t); !b.Equal(dec("450")) {
				t.Errorf("balance = %s, want 450", b)
			}
			entries := statementEntries(t, f.st, f.employer.ID, time.Time{}, time.Time{})
			last := entries[len(entries)-1]
			wantEntry := atsgate.LedgerEntry{ID: last.ID, EmployerID: f.employer.ID, Kind: atsgate.EntryJobCharge,
				Amount: dec("-50"), BalanceAfter: dec("450"), JobID: j.ID, Actor: f.p.Actor(), Note: "job JOB-1", CreatedAt: now}
			if diff := cmp.Diff(wantEntry, last, jobCmp); diff != "" {
				t.Errorf("charge entry (-want +got):\n%s", diff)
			}
			checkLedger(t, f.st, f.employer.ID)
		})

		t.Run("replay", func(t *testing.T) {
			first := f.create(t, "JOB-R")
			before := len(ledger(t, f.st, f.employer.ID))
			clock.Add(time.Minute)
			in := jobInput("JOB-R")
			in.Title = ptr("A different title")
			again, created, err := f.st.CreateJob(ctx, f.p, in)
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			if created {
				t.Errorf("replay: created = true, want false")
			}
			if diff := cmp.Diff(*first, *again, jobCmp); diff != "" {
				t.Errorf("replay returned a different job (-first +replay):\n%s", diff)
			}
			if after := len(ledger(t, f.st, f.employer.ID)); after != before {
				t.Errorf("replay added %d ledger entries", after-before)
			}
			checkLedger(t, f.st, f.employer.ID)
		})

		t.Run("same external id under two employers", func(t *testing.T) {
			other := newEmployer(t, f.st, f.country, fixtureOpts{balance: "100"})
			a := f.create(t, "SHARED-1")
			b := other.create(t, "SHARED-1")
			if a.ID == b.ID || a.EmployerID == b.EmployerID {
				t.Errorf("jobs %d (employer %d) and %d (employer %d) should differ", a.ID, a.EmployerID, b.ID, b.EmployerID)
			}
			if got := count(t, f.st, `SELECT COUNT(*) FROM jobs WHERE external_id = $1`, "SHARED-1"); got != 2 {
				t.Errorf("jobs with SHARED-1 = %d, want 2", got)
			}
			checkLedger(t, f.st, other.employer.ID)
		})

		t.Run("another employer's job", func(t *testing.T) {
			other := newEmployer(t, f.st, f.country, fixtureOpts{balance: "100"})
			other.create(t, "THEIRS")
			_, err := f.st.Job(ctx, f.employer.ID, "THEIRS")
			wantCode(t, err, atsgate.ENOTFOUND)
			_, err = f.st.UpdateJob(ctx, f.p, atsgate.JobInput{ExternalID: "THEIRS", Title: ptr("Mine now")})
			wantCode(t, err, atsgate.ENOTFOUND)
			_, err = f.st.CloseJob(ctx, f.p, "THEIRS")
			wantCode(t, err, atsgate.ENOTFOUND)
			_, err = f.st.Job(ctx, f.employer.ID, "NOPE")
			wantCode(t, err, atsgate.ENOTFOUND)
			_, err = f.st.JobByID(ctx, 999999)
			wantCode(t, err, atsgate.ENOTFOUND)
		})
	})
}

func TestCreateJobAutoPublish(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		f := setup(t, d, fixtureOpts{balance: "100", autoPublish: true, price: "12.34"}, store.WithClock(newTestClock(now).Now))
		in := jobInput("AUTO-1")
		in.Title = ptr("  Héad of Sales & Marketing (m/f/d)  ")
		j, created, err := f.st.CreateJob(ctx, f.p, in)
		if err != nil || !created {
			t.Fatalf("CreateJob = created %v, err %v", created, err)
		}
		wantLink := fmt.Sprintf("http://gh.localhost:8080/jobs/%d-h-ad-of-sales-marketing-m-f-d", j.ID)
		if j.State != atsgate.StatePublished || !j.PublishedAt.Equal(now) || j.PublicLink != wantLink {
			t.Errorf("CreateJob = state %s, published %v, link %q; want published, %v, %q", j.State, j.PublishedAt, j.PublicLink, now, wantLink)
		}
		if !strings.HasPrefix(j.PublicLink, f.country.PublicURL+"/jobs/") {
			t.Errorf("PublicLink %q is not under %s/jobs/", j.PublicLink, f.country.PublicURL)
		}
		got, err := f.st.Job(ctx, f.employer.ID, "AUTO-1")
		if err != nil {
			t.Fatalf("Job: %v", err)
		}
		if got.PublicLink != wantLink || got.State != atsgate.StatePublished {
			t.Errorf("Job = %s %q, want published %q", got.State, got.PublicLink, wantLink)
		}
		if !j.AmountCharged.Equal(dec("12.34")) || !f.balance(t).Equal(dec("87.66")) {
			t.Errorf("charged %s, balance %s; want 12.34 and 87.66", j.AmountCharged, f.balance(t))
		}
		events, err := f.st.JobEvents(ctx, j.ID)
		if err != nil {
			t.Fatalf("JobEvents: %v", err)
		}
		if len(events) != 1 || events[0].From != "" || events[0].To != atsgate.StatePublished {
			t.Errorf("events = %+v, want one creation event to published", events)
		}
		// Only pending jobs are in the review queue.
		q, err := f.st.ReviewQueue(ctx, atsgate.ReviewFilter{})
		if err != nil {
			t.Fatalf("ReviewQueue: %v", err)
		}
		if len(q) != 0 {
			t.Errorf("ReviewQueue = %d jobs, want 0", len(q))
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestUpdateJob(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		clock := newTestClock(now)
		f := setup(t, d, fixtureOpts{balance: "1000"}, store.WithClock(clock.Now))

		t.Run("present fields only", func(t *testing.T) {
			in := jobInput("UPD-1")
			in.Deadline = ptr("2026-12-31")
			in.Salary = ptr(int64(100))
			in.States = &[]int64{1}
			in.Extras = map[string]string{"department": "Ops", "job_type": "CONTRACT"}
			orig, _, err := f.st.CreateJob(ctx, f.p, in)
			if err != nil {
				t.Fatalf("CreateJob: %v", err)
			}
			balance := f.balance(t)
			entries := len(ledger(t, f.st, f.employer.ID))
			clock.Add(time.Hour)
			got, err := f.st.UpdateJob(ctx, f.p, atsgate.JobInput{
				ExternalID: "UPD-1", Title: ptr("New title"), Salary: ptr(int64(0)),
				Extras: map[string]string{"department": "", "location_city": "Accra"},
			})
			if err != nil {
				t.Fatalf("UpdateJob: %v", err)
			}
			want := *orig
			want.Title = "New title"
			want.Salary = 0
			want.Extras = map[string]string{"job_type": "CONTRACT", "location_city": "Accra"}
			want.UpdatedAt = now.Add(time.Hour)
			if diff := cmp.Diff(want, *got, jobCmp); diff != "" {
				t.Errorf("UpdateJob (-want +got):\n%s", diff)
			}
			stored, err := f.st.Job(ctx, f.employer.ID, "UPD-1")
			if err != nil {
				t.Fatalf("Job: %v", err)
			}
			if diff := cmp.Diff(want, *stored, jobCmp); diff != "" {
				t.Errorf("Job after update (-want +got):\n%s", diff)
			}
			if b := f.balance(t); !b.Equal(balance) {
				t.Errorf("update changed the balance from %s to %s", balance, b)
			}
			if n := len(ledger(t, f.st, f.employer.ID)); n != entries {
				t.Errorf("update added %d ledger entries", n-entries)
			}
		})

		t.Run("published keeps its link and its approved content", func(t *testing.T) {
			j := f.create(t, "UPD-PUB")
			pub, err := f.st.Approve(ctx, j.ID, "admin:alice")
			if err != nil {
				t.Fatalf("Approve: %v", err)
			}
			got, err := f.st.UpdateJob(ctx, f.p, atsgate.JobInput{ExternalID: "UPD-PUB", Description: ptr("changed")})
			if err != nil {
				t.Fatalf("UpdateJob: %v", err)
			}
			// The edit is held for review (edits_test.go has the rest).
			if got.State != atsgate.StatePublished || got.PublicLink != pub.PublicLink || got.Description != pub.Description ||
				!got.PendingEdit || !got.PublishedAt.Equal(pub.PublishedAt) {
				t.Errorf("UpdateJob = %+v, want published with link %q, the approved description and a pending edit", got, pub.PublicLink)
			}
		})

		t.Run("ended jobs conflict", func(t *testing.T) {
			closed := f.create(t, "UPD-CLOSED")
			if _, err := f.st.CloseJob(ctx, f.p, closed.ExternalID); err != nil {
				t.Fatalf("CloseJob: %v", err)
			}
			disapproved := f.create(t, "UPD-DIS")
			if _, err := f.st.Disapprove(ctx, disapproved.ID, "admin:bob", "spam"); err != nil {
				t.Fatalf("Disapprove: %v", err)
			}
			expired := f.create(t, "UPD-EXP")
			exec(t, f.st, `UPDATE jobs SET state = $1 WHERE id = $2`, string(atsgate.StateExpired), expired.ID)
			for _, j := range []*atsgate.Job{closed, disapproved, expired} {
				t.Run(j.ExternalID, func(t *testing.T) {
					before, err := f.st.Job(ctx, f.employer.ID, j.ExternalID)
					if err != nil {
						t.Fatalf("Job: %v", err)
					}
					_, err = f.st.UpdateJob(ctx, f.p, atsgate.JobInput{ExternalID: j.ExternalID, Title: ptr("Revived")})
					wantCode(t, err, atsgate.ECONFLICT)
					after, err := f.st.Job(ctx, f.employer.ID, j.ExternalID)
					if err != nil {
						t.Fatalf("Job: %v", err)
					}
					if diff := cmp.Diff(before, after, jobCmp); diff != "" {
						t.Errorf("a refused update changed the job (-before +after):\n%s", diff)
					}
				})
			}
		})

		t.Run("unknown", func(t *testing.T) {
			_, err := f.st.UpdateJob(ctx, f.p, atsgate.JobInput{ExternalID: "NOPE", Title: ptr("x")})
			wantCode(t, err, atsgate.ENOTFOUND)
		})
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestCloseJob(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		clock := newTestClock(now)
		f := setup(t, d, fixtureOpts{balance: "1000"}, store.WithClock(clock.Now))
		tests := []struct {
			name    string
			prepare func(t *testing.T, j *atsgate.Job)
			from    atsgate.JobState
		}{
			{"pending", func(*testing.T, *atsgate.Job) {}, atsgate.StatePending},
			{"published", func(t *testing.T, j *atsgate.Job) {
				if _, err := f.st.Approve(ctx, j.ID, "admin:alice"); err != nil {
					t.Fatalf("Approve: %v", err)
				}
			}, atsgate.StatePublished},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				j := f.create(t, "CLOSE-"+tt.name)
				tt.prepare(t, j)
				clock.Add(time.Minute)
				closedAt := clock.Now()
				got, err := f.st.CloseJob(ctx, f.p, j.ExternalID)
				if err != nil {
					t.Fatalf("CloseJob: %v", err)
				}
				if got.State != atsgate.StateClosed || !got.ClosedAt.Equal(closedAt) || !got.UpdatedAt.Equal(closedAt) {
					t.Errorf("CloseJob = state %s closed %v updated %v, want closed at %v", got.State, got.ClosedAt, got.UpdatedAt, closedAt)
				}
				if got.PublicLink == "" && tt.from == atsgate.StatePublished {
					t.Errorf("a closed published job lost its public link (the site answers 410 there)")
				}
				clock.Add(time.Minute)
				again, err := f.st.CloseJob(ctx, f.p, j.ExternalID)
				if err != nil {
					t.Fatalf("CloseJob again: %v", err)
				}
				if diff := cmp.Diff(got, again, jobCmp); diff != "" {
					t.Errorf("closing again changed the job (-first +second):\n%s", diff)
				}
				events, err := f.st.JobEvents(ctx, j.ID)
				if err != nil {
					t.Fatalf("JobEvents: %v", err)
				}
				last := events[len(events)-1]
				want := atsgate.JobEvent{ID: last.ID, JobID: j.ID, From: tt.from, To: atsgate.StateClosed, Actor: f.p.Actor(), CreatedAt: closedAt}
				if diff := cmp.Diff(want, last); diff != "" {
					t.Errorf("close event (-want +got):\n%s", diff)
				}
				if n := count(t, f.st, `SELECT COUNT(*) FROM job_events WHERE job_id = $1 AND to_state = 'closed'`, j.ID); n != 1 {
					t.Errorf("%d close events, want 1", n)
				}
			})
		}

		t.Run("disapproved stays disapproved", func(t *testing.T) {
			j := f.create(t, "CLOSE-DIS")
			if _, err := f.st.Disapprove(ctx, j.ID, "admin:bob", "duplicate"); err != nil {
				t.Fatalf("Disapprove: %v", err)
			}
			got, err := f.st.CloseJob(ctx, f.p, j.ExternalID)
			if err != nil {
				t.Fatalf("CloseJob: %v", err)
			}
			if got.State != atsgate.StateDisapproved {
				t.Errorf("CloseJob of a disapproved job: state = %s", got.State)
			}
		})
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestListJobs(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{balance: "100000"})
		other := newEmployer(t, f.st, f.country, fixtureOpts{balance: "1000"})
		other.create(t, "OTHER-1")
		const n = 23
		var ids []int64
		for i := 0; i < n; i++ {
			ids = append(ids, f.create(t, fmt.Sprintf("LIST-%02d", i)).ID)
		}
		// Newest first.
		var want []int64
		for i := n - 1; i >= 0; i-- {
			want = append(want, ids[i])
		}
		walk := func(t *testing.T, filter atsgate.JobFilter, between func(page int)) []int64 {
			t.Helper()
			var got []int64
			for page := 0; ; page++ {
				p, err := f.st.ListJobs(ctx, f.employer.ID, filter)
				if err != nil {
					t.Fatalf("ListJobs page %d: %v", page, err)
				}
				if filter.Limit > 0 && len(p.Jobs) > filter.Limit {
					t.Fatalf("page %d has %d jobs, limit %d", page, len(p.Jobs), filter.Limit)
				}
				for _, j := range p.Jobs {
					if j.EmployerID != f.employer.ID {
						t.Fatalf("ListJobs returned job %d of employer %d", j.ID, j.EmployerID)
					}
					got = append(got, j.ID)
				}
				if p.NextCursor == "" {
					return got
				}
				if page > n {
					t.Fatalf("ListJobs does not end")
				}
				if between != nil {
					between(page)
				}
				filter.Cursor = p.NextCursor
			}
		}

		t.Run("pages", func(t *testing.T) {
			for _, limit := range []int{1, 5, 22, 23, 24, 200} {
				t.Run(fmt.Sprint(limit), func(t *testing.T) {
					got := walk(t, atsgate.JobFilter{Limit: limit}, nil)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("ids (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("exact last page has no cursor", func(t *testing.T) {
			p, err := f.st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{Limit: n})
			if err != nil {
				t.Fatalf("ListJobs: %v", err)
			}
			if len(p.Jobs) != n || p.NextCursor != "" {
				t.Errorf("ListJobs(limit %d) = %d jobs, cursor %q; want %d and no cursor", n, len(p.Jobs), p.NextCursor, n)
			}
		})

		t.Run("default limit", func(t *testing.T) {
			p, err := f.st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{})
			if err != nil {
				t.Fatalf("ListJobs: %v", err)
			}
			if len(p.Jobs) != n || p.NextCursor != "" {
				t.Errorf("ListJobs(limit 0) = %d jobs, cursor %q; want all %d (default 50)", len(p.Jobs), p.NextCursor, n)
			}
		})

		t.Run("refused", func(t *testing.T) {
			tamper := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
			tests := []struct {
				name   string
				filter atsgate.JobFilter
				field  string
			}{
				{"limit 201", atsgate.JobFilter{Limit: 201}, "limit"},
				{"negative limit", atsgate.JobFilter{Limit: -1}, "limit"},
				{"bad state", atsgate.JobFilter{State: "deleted"}, "state"},
				{"garbage cursor", atsgate.JobFilter{Cursor: "!!!"}, "cursor"},
				{"other version", atsgate.JobFilter{Cursor: tamper("v2:10")}, "cursor"},
				{"not a number", atsgate.JobFilter{Cursor: tamper("v1:ten")}, "cursor"},
				{"zero id", atsgate.JobFilter{Cursor: tamper("v1:0")}, "cursor"},
				{"negative id", atsgate.JobFilter{Cursor: tamper("v1:-5")}, "cursor"},
				{"sql", atsgate.JobFilter{Cursor: tamper("v1:1 OR 1=1")}, "cursor"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := f.st.ListJobs(ctx, f.employer.ID, tt.filter)
					wantCode(t, err, atsgate.EINVALID)
					if diff := cmp.Diff(map[string]bool{tt.field: true}, fieldsOf(err)); diff != "" {
						t.Errorf("fields (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("state filter", func(t *testing.T) {
			var published []int64
			for _, i := range []int{20, 11, 3} {
				if _, err := f.st.Approve(ctx, ids[i], "admin:alice"); err != nil {
					t.Fatalf("Approve: %v", err)
				}
				published = append(published, ids[i])
			}
			got := walk(t, atsgate.JobFilter{State: atsgate.StatePublished, Limit: 2}, nil)
			if diff := cmp.Diff(published, got); diff != "" {
				t.Errorf("published ids (-want +got):\n%s", diff)
			}
			p, err := f.st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{State: atsgate.StatePublished})
			if err != nil {
				t.Fatalf("ListJobs: %v", err)
			}
			for _, j := range p.Jobs {
				if j.State != atsgate.StatePublished || !strings.HasPrefix(j.PublicLink, f.country.PublicURL+"/jobs/") {
					t.Errorf("listed job %d: state %s link %q", j.ID, j.State, j.PublicLink)
				}
			}
			pending := walk(t, atsgate.JobFilter{State: atsgate.StatePending, Limit: 7}, nil)
			if len(pending) != n-3 {
				t.Errorf("pending jobs = %d, want %d", len(pending), n-3)
			}
			closed := walk(t, atsgate.JobFilter{State: atsgate.StateClosed}, nil)
			if len(closed) != 0 {
				t.Errorf("closed jobs = %v, want none", closed)
			}
		})

		t.Run("inserts between pages", func(t *testing.T) {
			// Jobs created while a client walks its pages are newer than the
			// cursor: they never shift the pages, so nothing is skipped or
			// repeated.
			var added []int64
			got := walk(t, atsgate.JobFilter{Limit: 4}, func(page int) {
				for i := 0; i < 3; i++ {
					added = append(added, f.create(t, fmt.Sprintf("LIST-NEW-%d-%d", page, i)).ID)
				}
			})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ids while inserting (-want +got):\n%s", diff)
			}
			all := walk(t, atsgate.JobFilter{Limit: 200}, nil)
			if len(all) != n+len(added) {
				t.Errorf("after the walk: %d jobs, want %d", len(all), n+len(added))
			}
			seen := map[int64]bool{}
			for i, id := range all {
				if seen[id] {
					t.Errorf("job %d listed twice", id)
				}
				seen[id] = true
				if i > 0 && all[i-1] <= id {
					t.Errorf("not newest first at %d: %d then %d", i, all[i-1], id)
				}
			}
		})

		t.Run("empty", func(t *testing.T) {
			e := newEmployer(t, f.st, f.country, fixtureOpts{})
			p, err := f.st.ListJobs(ctx, e.employer.ID, atsgate.JobFilter{Limit: 10})
			if err != nil {
				t.Fatalf("ListJobs: %v", err)
			}
			if len(p.Jobs) != 0 || p.NextCursor != "" {
				t.Errorf("ListJobs of an employer without jobs = %+v", p)
			}
		})
	})
}

// TestReplayIsTheJobAsItIsNow: a replay answers the job as it is now, with
// nothing charged, whether the instance answering it saw the job stored
// (and reads it like a get) or not (and goes through the create); a
// create refused for funds is not remembered, so its retry is a create.
func TestReplayIsTheJobAsItIsNow(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		url := dbtest.URL(t, d)
		open := func() *store.Store {
			st, err := store.Open(ctx, url, store.WithTimeout(testTimeout))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return st
		}
		a := open()
		f := newEmployer(t, a, mustCountry(t, a, "gh", ""), fixtureOpts{balance: "100"})
		b := open()
		f.create(t, "SEEN")
		if _, err := a.CloseJob(ctx, f.p, "SEEN"); err != nil {
			t.Fatal(err)
		}
		for i, st := range []*store.Store{a, b, b} {
			j, created, err := st.CreateJob(ctx, f.p, jobInput("SEEN"))
			if err != nil {
				t.Fatalf("replay %d: %v", i, err)
			}
			if created || j.State != atsgate.StateClosed || j.ExternalID != "SEEN" {
				t.Errorf("replay %d: created %v, state %s, want a replay of the closed job", i, created, j.State)
			}
		}
		f.create(t, "SECOND")
		for i := 0; i < 2; i++ {
			if _, _, err := a.CreateJob(ctx, f.p, jobInput("UNPAID")); atsgate.ErrorCode(err) != atsgate.EFUNDS {
				t.Fatalf("create %d with an empty wallet: %v, want %s", i, err, atsgate.EFUNDS)
			}
		}
		if _, _, err := a.TopUp(ctx, f.employer.ID, dec("50"), "test", "top-up", ""); err != nil {
			t.Fatal(err)
		}
		if _, created, err := a.CreateJob(ctx, f.p, jobInput("UNPAID")); err != nil || !created {
			t.Fatalf("create after the top-up: created %v, %v", created, err)
		}
		if got := f.balance(t); !got.IsZero() {
			t.Errorf("balance %s, want 0 after three charges of 50", got)
		}
	})
}
