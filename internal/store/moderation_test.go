package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

func TestApprove(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		created := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		clock := newTestClock(created)
		f := setup(t, d, fixtureOpts{balance: "1000"}, store.WithClock(clock.Now))

		j := f.create(t, "APPROVE-1")
		if j.PublicLink != "" || !j.PublishedAt.IsZero() {
			t.Errorf("pending job has link %q, published %v", j.PublicLink, j.PublishedAt)
		}
		clock.Add(time.Hour)
		approvedAt := clock.Now()
		got, err := f.st.Approve(ctx, j.ID, "admin:alice")
		if err != nil {
			t.Fatalf("Approve: %v", err)
		}
		wantLink := fmt.Sprintf("%s/jobs/%d-senior-go-engineer", f.country.PublicURL, j.ID)
		if got.State != atsgate.StatePublished || !got.PublishedAt.Equal(approvedAt) || got.PublicLink != wantLink {
			t.Errorf("Approve = %s, published %v, link %q; want published, %v, %q", got.State, got.PublishedAt, got.PublicLink, approvedAt, wantLink)
		}
		stored, err := f.st.Job(ctx, f.employer.ID, j.ExternalID)
		if err != nil {
			t.Fatalf("Job: %v", err)
		}
		if diff := cmp.Diff(got, stored, jobCmp); diff != "" {
			t.Errorf("Approve result and stored job differ (-approve +stored):\n%s", diff)
		}

		t.Run("again is a no-op", func(t *testing.T) {
			clock.Add(time.Hour)
			again, err := f.st.Approve(ctx, j.ID, "admin:carol")
			if err != nil {
				t.Fatalf("Approve again: %v", err)
			}
			if diff := cmp.Diff(got, again, jobCmp); diff != "" {
				t.Errorf("approving again changed the job (-first +second):\n%s", diff)
			}
		})

		t.Run("disapprove a published job", func(t *testing.T) {
			_, err := f.st.Disapprove(ctx, j.ID, "admin:bob", "too late")
			wantCode(t, err, atsgate.ECONFLICT)
		})

		t.Run("conflicts", func(t *testing.T) {
			dis := f.create(t, "APPROVE-DIS")
			if _, err := f.st.Disapprove(ctx, dis.ID, "admin:bob", "spam"); err != nil {
				t.Fatalf("Disapprove: %v", err)
			}
			closed := f.create(t, "APPROVE-CLOSED")
			if _, err := f.st.CloseJob(ctx, f.p, closed.ExternalID); err != nil {
				t.Fatalf("CloseJob: %v", err)
			}
			for _, c := range []*atsgate.Job{dis, closed} {
				_, err := f.st.Approve(ctx, c.ID, "admin:alice")
				wantCode(t, err, atsgate.ECONFLICT)
			}
			_, err := f.st.Approve(ctx, 999999, "admin:alice")
			wantCode(t, err, atsgate.ENOTFOUND)
		})

		t.Run("events", func(t *testing.T) {
			events, err := f.st.JobEvents(ctx, j.ID)
			if err != nil {
				t.Fatalf("JobEvents: %v", err)
			}
			want := []atsgate.JobEvent{
				{JobID: j.ID, From: "", To: atsgate.StatePending, Actor: f.p.Actor(), CreatedAt: created},
				{JobID: j.ID, From: atsgate.StatePending, To: atsgate.StatePublished, Actor: "admin:alice", CreatedAt: approvedAt},
			}
			if diff := cmp.Diff(want, events, cmpopts.IgnoreFields(atsgate.JobEvent{}, "ID")); diff != "" {
				t.Errorf("JobEvents (-want +got):\n%s", diff)
			}
		})
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestDisapprove(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		created := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		clock := newTestClock(created)
		f := setup(t, d, fixtureOpts{balance: "100", price: "33.33"}, store.WithClock(clock.Now))

		j := f.create(t, "DIS-1")
		if b := f.balance(t); !b.Equal(dec("66.67")) {
			t.Fatalf("balance after the charge = %s, want 66.67", b)
		}

		t.Run("needs a reason", func(t *testing.T) {
			for _, reason := range []string{"", "  \t"} {
				_, err := f.st.Disapprove(ctx, j.ID, "admin:bob", reason)
				wantCode(t, err, atsgate.EINVALID)
				if diff := cmp.Diff(map[string]bool{"reason": true}, fieldsOf(err)); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			}
			if got, _ := f.st.JobByID(ctx, j.ID); got.State != atsgate.StatePending {
				t.Errorf("state after refused disapprovals = %s", got.State)
			}
		})

		clock.Add(time.Hour)
		disapprovedAt := clock.Now()
		got, err := f.st.Disapprove(ctx, j.ID, "admin:bob", "  misleading salary ")
		if err != nil {
			t.Fatalf("Disapprove: %v", err)
		}
		if got.State != atsgate.StateDisapproved || got.DisapprovalReason != "misleading salary" ||
			!got.DisapprovedAt.Equal(disapprovedAt) || got.PublicLink != "" {
			t.Errorf("Disapprove = %+v", got)
		}
		if b := f.balance(t); !b.Equal(dec("100")) {
			t.Errorf("balance after the refund = %s, want 100", b)
		}
		entries := ledger(t, f.st, f.employer.ID)
		last := entries[len(entries)-1]
		if diff := cmp.Diff(entry{ID: last.ID, Kind: "job_refund", Amount: 3333, BalanceAfter: 10000, JobID: &j.ID}, last); diff != "" {
			t.Errorf("refund entry (-want +got):\n%s", diff)
		}

		t.Run("again is a no-op", func(t *testing.T) {
			clock.Add(time.Hour)
			again, err := f.st.Disapprove(ctx, j.ID, "admin:carol", "another reason")
			if err != nil {
				t.Fatalf("Disapprove again: %v", err)
			}
			if again.ID != j.ID || again.State != atsgate.StateDisapproved || again.DisapprovalReason != "misleading salary" {
				t.Errorf("Disapprove again = %+v", again)
			}
			if n := count(t, f.st, `SELECT COUNT(*) FROM ledger_entries WHERE job_id = $1 AND kind = 'job_refund'`, j.ID); n != 1 {
				t.Errorf("%d refunds, want 1", n)
			}
			if b := f.balance(t); !b.Equal(dec("100")) {
				t.Errorf("balance = %s, want 100", b)
			}
		})

		t.Run("approve a disapproved job", func(t *testing.T) {
			_, err := f.st.Approve(ctx, j.ID, "admin:alice")
			wantCode(t, err, atsgate.ECONFLICT)
		})

		t.Run("closed job", func(t *testing.T) {
			c := f.create(t, "DIS-CLOSED")
			if _, err := f.st.CloseJob(ctx, f.p, c.ExternalID); err != nil {
				t.Fatalf("CloseJob: %v", err)
			}
			_, err := f.st.Disapprove(ctx, c.ID, "admin:bob", "x")
			wantCode(t, err, atsgate.ECONFLICT)
			_, err = f.st.Disapprove(ctx, 999999, "admin:bob", "x")
			wantCode(t, err, atsgate.ENOTFOUND)
		})

		t.Run("events", func(t *testing.T) {
			events, err := f.st.JobEvents(ctx, j.ID)
			if err != nil {
				t.Fatalf("JobEvents: %v", err)
			}
			want := []atsgate.JobEvent{
				{JobID: j.ID, From: "", To: atsgate.StatePending, Actor: f.p.Actor(), CreatedAt: created},
				{JobID: j.ID, From: atsgate.StatePending, To: atsgate.StateDisapproved, Actor: "admin:bob",
					Reason: "misleading salary", CreatedAt: disapprovedAt},
			}
			if diff := cmp.Diff(want, events, cmpopts.IgnoreFields(atsgate.JobEvent{}, "ID")); diff != "" {
				t.Errorf("JobEvents (-want +got):\n%s", diff)
			}
			none, err := f.st.JobEvents(ctx, 999999)
			if err != nil || len(none) != 0 {
				t.Errorf("JobEvents(unknown) = %v, %v; want none", none, err)
			}
		})
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestDisapproveFreeJob(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{price: "0"})
		j := f.create(t, "FREE-1")
		if _, err := f.st.Disapprove(ctx, j.ID, "admin:bob", "spam"); err != nil {
			t.Fatalf("Disapprove: %v", err)
		}
		if n := count(t, f.st, `SELECT COUNT(*) FROM ledger_entries WHERE kind = 'job_refund'`); n != 0 {
			t.Errorf("a free job was refunded %d times", n)
		}
		if b := f.balance(t); !b.IsZero() {
			t.Errorf("balance = %s, want 0", b)
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestReviewQueue(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		gh := newEmployer(t, st, mustCountry(t, st, "gh", "1"), fixtureOpts{balance: "100"})
		ke := newEmployer(t, st, mustCountry(t, st, "ke", "1"), fixtureOpts{balance: "100"})
		var all, inGH []int64
		for i := 0; i < 4; i++ {
			a := gh.create(t, fmt.Sprintf("Q-%d", i))
			b := ke.create(t, fmt.Sprintf("Q-%d", i))
			all = append(all, a.ID, b.ID)
			inGH = append(inGH, a.ID)
		}
		if _, err := st.Approve(ctx, all[0], "admin:alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Disapprove(ctx, all[1], "admin:alice", "spam"); err != nil {
			t.Fatal(err)
		}
		ids := func(jobs []atsgate.Job) []int64 {
			var out []int64
			for _, j := range jobs {
				out = append(out, j.ID)
			}
			return out
		}
		tests := []struct {
			name   string
			filter atsgate.ReviewFilter
			want   []int64
		}{
			{"all, oldest first", atsgate.ReviewFilter{}, all[2:]},
			{"one country", atsgate.ReviewFilter{CountryID: gh.country.ID}, inGH[1:]},
			{"limit", atsgate.ReviewFilter{Limit: 2}, all[2:4]},
			{"after", atsgate.ReviewFilter{AfterID: all[3], Limit: 2}, all[4:6]},
			{"over the maximum", atsgate.ReviewFilter{Limit: 1000}, all[2:]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q, err := st.ReviewQueue(ctx, tt.filter)
				if err != nil {
					t.Fatalf("ReviewQueue: %v", err)
				}
				if diff := cmp.Diff(tt.want, ids(q)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
		j, err := st.Job(ctx, ke.employer.ID, "Q-2")
		if err != nil || j.EmployerID != ke.employer.ID {
			t.Errorf("Job = %+v, %v", j, err)
		}
	})
}
