package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

// published creates a job and approves it.
func (f *fixture) published(t *testing.T, externalID string) *atsgate.Job {
	t.Helper()
	j := f.create(t, externalID)
	pub, err := f.st.Approve(context.Background(), j.ID, "admin:alice")
	if err != nil {
		t.Fatalf("Approve(%d): %v", j.ID, err)
	}
	return pub
}

func (f *fixture) update(t *testing.T, in atsgate.JobInput) *atsgate.Job {
	t.Helper()
	j, err := f.st.UpdateJob(context.Background(), f.p, in)
	if err != nil {
		t.Fatalf("UpdateJob(%s): %v", in.ExternalID, err)
	}
	return j
}

// editEvents is the job's edit steps as "step fields reason".
func editEvents(t *testing.T, st *store.Store, jobID int64) []string {
	t.Helper()
	evs, err := st.JobEvents(context.Background(), jobID)
	if err != nil {
		t.Fatalf("JobEvents: %v", err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Edit != "" {
			if ev.From != ev.To {
				t.Errorf("edit event %+v changes the state", ev)
			}
			out = append(out, fmt.Sprintf("%s %v %s", ev.Edit, ev.Fields, ev.Reason))
		}
	}
	return out
}

func pendingEdits(t *testing.T, st *store.Store, f atsgate.ReviewFilter) []atsgate.PendingEdit {
	t.Helper()
	q, err := st.PendingEdits(context.Background(), f)
	if err != nil {
		t.Fatalf("PendingEdits: %v", err)
	}
	return q
}

func TestReviewedEdits(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clock := newTestClock(time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC))
		f := setup(t, d, fixtureOpts{balance: "1000"}, store.WithClock(clock.Now))

		t.Run("held, replaced, resent, approved", func(t *testing.T) {
			pub := f.published(t, "E-1")
			balance := f.balance(t)
			clock.Add(time.Minute)
			got := f.update(t, atsgate.JobInput{ExternalID: "E-1", Title: ptr("Staff Go Engineer")})
			if !got.PendingEdit || got.Title != pub.Title || got.PublicLink != pub.PublicLink {
				t.Errorf("UpdateJob = %+v, want the live job with a pending edit", got)
			}
			stored, err := f.st.Job(ctx, f.employer.ID, "E-1")
			if err != nil || !stored.PendingEdit || stored.Title != pub.Title {
				t.Errorf("Job = %+v, %v; want the live title and a pending edit", stored, err)
			}
			page, err := f.st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{})
			if err != nil || len(page.Jobs) == 0 || page.Jobs[0].ID != pub.ID || !page.Jobs[0].PendingEdit {
				t.Errorf("ListJobs = %+v, %v; want E-1 first with a pending edit", page, err)
			}

			// A newer edit applies over the pending one and replaces it.
			f.update(t, atsgate.JobInput{ExternalID: "E-1", Description: ptr("<p>More.</p>"), Salary: ptr(int64(900))})
			q := pendingEdits(t, f.st, atsgate.ReviewFilter{})
			if len(q) != 1 || q[0].Job.ID != pub.ID {
				t.Fatalf("PendingEdits = %+v, want E-1's one edit", q)
			}
			want := []atsgate.FieldChange{
				{Field: "title", Old: "Senior Go Engineer", New: "Staff Go Engineer"},
				{Field: "description", Old: "<p>Build things.</p>", New: "<p>More.</p>"},
				{Field: "salary", Old: "", New: "900"},
			}
			if diff := cmp.Diff(want, q[0].Changes()); diff != "" {
				t.Errorf("Changes (-want +got):\n%s", diff)
			}
			one, err := f.st.PendingEdit(ctx, pub.ID)
			if err != nil || one.Edit.ID != q[0].Edit.ID {
				t.Errorf("PendingEdit = %+v, %v; want edit %d", one, err, q[0].Edit.ID)
			}

			// Resending what is pending changes nothing.
			f.update(t, atsgate.JobInput{ExternalID: "E-1", Title: ptr("Staff Go Engineer"), Salary: ptr(int64(900))})
			if q2 := pendingEdits(t, f.st, atsgate.ReviewFilter{}); len(q2) != 1 || q2[0].Edit.ID != q[0].Edit.ID {
				t.Errorf("a resent edit replaced the pending one: %+v", q2)
			}
			if n := count(t, f.st, `SELECT COUNT(*) FROM job_edits WHERE job_id = $1 AND status = 'replaced'`, pub.ID); n != 1 {
				t.Errorf("%d replaced edits, want 1", n)
			}

			clock.Add(time.Minute)
			approved, err := f.st.Approve(ctx, pub.ID, "admin:bob")
			if err != nil {
				t.Fatalf("Approve: %v", err)
			}
			if approved.PendingEdit || approved.Title != "Staff Go Engineer" || approved.Description != "<p>More.</p>" ||
				approved.Salary != 900 || approved.State != atsgate.StatePublished || !approved.PublishedAt.Equal(pub.PublishedAt) {
				t.Errorf("Approve = %+v, want the edit live", approved)
			}
			if want := fmt.Sprintf("%s/jobs/%d-staff-go-engineer", f.country.PublicURL, pub.ID); approved.PublicLink != want {
				t.Errorf("PublicLink = %q, want %q (the slug follows the title)", approved.PublicLink, want)
			}
			if q := pendingEdits(t, f.st, atsgate.ReviewFilter{}); len(q) != 0 {
				t.Errorf("PendingEdits after approval = %+v", q)
			}
			_, err = f.st.PendingEdit(ctx, pub.ID)
			wantCode(t, err, atsgate.ENOTFOUND)
			wantEvents := []string{
				"held [title] ",
				"held [title description salary] ",
				"approved [title description salary] ",
			}
			if diff := cmp.Diff(wantEvents, editEvents(t, f.st, pub.ID)); diff != "" {
				t.Errorf("edit events (-want +got):\n%s", diff)
			}
			// Approving again is the no-op it always was.
			if again, err := f.st.Approve(ctx, pub.ID, "admin:bob"); err != nil || again.Title != "Staff Go Engineer" {
				t.Errorf("second Approve = %+v, %v", again, err)
			}
			if b := f.balance(t); !b.Equal(balance) {
				t.Errorf("edits moved the balance from %s to %s", balance, b)
			}
		})

		t.Run("disapproved keeps the approved content and refunds nothing", func(t *testing.T) {
			pub := f.published(t, "E-2")
			balance := f.balance(t)
			entries := len(ledger(t, f.st, f.employer.ID))
			f.update(t, atsgate.JobInput{ExternalID: "E-2", ApplyURL: ptr("https://evil.example/apply")})
			_, err := f.st.Disapprove(ctx, pub.ID, "admin:bob", "  ")
			wantCode(t, err, atsgate.EINVALID)
			got, err := f.st.Disapprove(ctx, pub.ID, "admin:bob", "Phishing link")
			if err != nil {
				t.Fatalf("Disapprove: %v", err)
			}
			after, err := f.st.JobByID(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != atsgate.StatePublished || after.PendingEdit || after.ApplyURL != "" || after.PublicLink != pub.PublicLink {
				t.Errorf("after disapproving the edit: %+v, want published as approved", after)
			}
			if b := f.balance(t); !b.Equal(balance) || len(ledger(t, f.st, f.employer.ID)) != entries {
				t.Errorf("disapproving an edit moved money: balance %s → %s", balance, b)
			}
			if diff := cmp.Diff([]string{"held [apply_url] ", "disapproved [apply_url] Phishing link"}, editEvents(t, f.st, pub.ID)); diff != "" {
				t.Errorf("edit events (-want +got):\n%s", diff)
			}
			// Nothing is left to disapprove; the job is not disapproved.
			_, err = f.st.Disapprove(ctx, pub.ID, "admin:bob", "again")
			wantCode(t, err, atsgate.ECONFLICT)
		})

		t.Run("a decision names the edit the reviewer read", func(t *testing.T) {
			pub := f.published(t, "E-9")
			f.update(t, atsgate.JobInput{ExternalID: "E-9", Title: ptr("Seen")})
			seen := pendingEdits(t, f.st, atsgate.ReviewFilter{AfterID: 0, Limit: 200})
			var read int64
			for _, e := range seen {
				if e.Job.ID == pub.ID {
					read = e.Edit.ID
				}
			}
			f.update(t, atsgate.JobInput{ExternalID: "E-9", Title: ptr("Unseen")})
			_, err := f.st.ApproveEdit(ctx, pub.ID, read, "admin:bob")
			wantCode(t, err, atsgate.ECONFLICT)
			_, err = f.st.DisapproveEdit(ctx, pub.ID, read, "admin:bob", "no")
			wantCode(t, err, atsgate.ECONFLICT)
			current, err := f.st.PendingEdit(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.st.DisapproveEdit(ctx, pub.ID, current.Edit.ID, "admin:bob", " ")
			wantCode(t, err, atsgate.EINVALID)
			got, err := f.st.ApproveEdit(ctx, pub.ID, current.Edit.ID, "admin:bob")
			if err != nil || got.Title != "Unseen" || got.PendingEdit {
				t.Errorf("ApproveEdit = %+v, %v", got, err)
			}
			_, err = f.st.ApproveEdit(ctx, pub.ID, current.Edit.ID, "admin:bob")
			wantCode(t, err, atsgate.ECONFLICT)
		})

		t.Run("closing discards the edit", func(t *testing.T) {
			pub := f.published(t, "E-3")
			f.update(t, atsgate.JobInput{ExternalID: "E-3", Title: ptr("Closing soon")})
			closed, err := f.st.CloseJob(ctx, f.p, "E-3")
			if err != nil {
				t.Fatalf("CloseJob: %v", err)
			}
			if closed.State != atsgate.StateClosed || closed.PendingEdit || closed.Title != pub.Title {
				t.Errorf("CloseJob = %+v", closed)
			}
			if diff := cmp.Diff([]string{"held [title] ", "discarded [title] the job was closed"}, editEvents(t, f.st, pub.ID)); diff != "" {
				t.Errorf("edit events (-want +got):\n%s", diff)
			}
			_, err = f.st.Approve(ctx, pub.ID, "admin:bob")
			wantCode(t, err, atsgate.ECONFLICT)
		})

		t.Run("going back to the live content withdraws the edit", func(t *testing.T) {
			pub := f.published(t, "E-4")
			f.update(t, atsgate.JobInput{ExternalID: "E-4", Title: ptr("Other")})
			got := f.update(t, atsgate.JobInput{ExternalID: "E-4", Title: ptr(pub.Title)})
			if got.PendingEdit {
				t.Errorf("UpdateJob = %+v, want no pending edit", got)
			}
			if diff := cmp.Diff([]string{"held [title] ", "discarded [title] withdrawn by the employer"}, editEvents(t, f.st, pub.ID)); diff != "" {
				t.Errorf("edit events (-want +got):\n%s", diff)
			}
		})

		t.Run("nothing visible changes", func(t *testing.T) {
			pub := f.published(t, "E-5")
			clock.Add(time.Minute)
			got := f.update(t, atsgate.JobInput{ExternalID: "E-5", Title: ptr(pub.Title), Description: ptr(pub.Description)})
			if got.PendingEdit || !got.UpdatedAt.Equal(clock.Now()) {
				t.Errorf("UpdateJob = %+v, want it applied as before", got)
			}
			if evs := editEvents(t, f.st, pub.ID); len(evs) != 0 {
				t.Errorf("edit events = %v, want none", evs)
			}
		})

		t.Run("a pending job's update goes live unrecorded", func(t *testing.T) {
			j := f.create(t, "E-6")
			got := f.update(t, atsgate.JobInput{ExternalID: "E-6", Title: ptr("Retitled")})
			if got.PendingEdit || got.Title != "Retitled" || got.State != atsgate.StatePending {
				t.Errorf("UpdateJob = %+v", got)
			}
			if evs := editEvents(t, f.st, j.ID); len(evs) != 0 {
				t.Errorf("edit events = %v, want none", evs)
			}
		})

		t.Run("auto-publish goes live and is recorded", func(t *testing.T) {
			auto := newEmployer(t, f.st, f.country, fixtureOpts{balance: "100", autoPublish: true})
			j := auto.create(t, "E-7")
			got, err := f.st.UpdateJob(ctx, auto.p, atsgate.JobInput{ExternalID: "E-7", Title: ptr("Live at once"), States: &[]int64{1}})
			if err != nil {
				t.Fatalf("UpdateJob: %v", err)
			}
			if got.PendingEdit || got.Title != "Live at once" || got.PublicLink != fmt.Sprintf("%s/jobs/%d-live-at-once", f.country.PublicURL, j.ID) {
				t.Errorf("UpdateJob = %+v, want the change live", got)
			}
			if diff := cmp.Diff([]string{"live [title states] "}, editEvents(t, f.st, j.ID)); diff != "" {
				t.Errorf("edit events (-want +got):\n%s", diff)
			}
		})

		t.Run("expiry discards the edit", func(t *testing.T) {
			in := jobInput("E-8")
			in.Deadline = ptr("2026-10-06")
			j, _, err := f.st.CreateJob(ctx, f.p, in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.st.Approve(ctx, j.ID, "admin:alice"); err != nil {
				t.Fatal(err)
			}
			f.update(t, atsgate.JobInput{ExternalID: "E-8", Title: ptr("Never seen")})
			clock.Add(72 * time.Hour)
			if _, err := f.st.ExpireJobs(ctx); err != nil {
				t.Fatalf("ExpireJobs: %v", err)
			}
			got, err := f.st.JobByID(ctx, j.ID)
			if err != nil || got.State != atsgate.StateExpired || got.PendingEdit {
				t.Errorf("JobByID = %+v, %v; want expired without a pending edit", got, err)
			}
			if diff := cmp.Diff([]string{"held [title] ", "discarded [title] the job expired"}, editEvents(t, f.st, j.ID)); diff != "" {
				t.Errorf("edit events (-want +got):\n%s", diff)
			}
			clock.Add(-72 * time.Hour)
		})
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestPendingEditsQueue(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{balance: "1000"})
		ke := newEmployer(t, f.st, mustCountry(t, f.st, "ke", ""), fixtureOpts{balance: "1000"})
		var ids []int64
		for i, fx := range []*fixture{f, ke, f} {
			ext := fmt.Sprintf("Q-%d", i)
			ids = append(ids, fx.published(t, ext).ID)
			fx.update(t, atsgate.JobInput{ExternalID: ext, Title: ptr(fmt.Sprintf("Edited %d", i))})
		}
		f.create(t, "Q-PENDING") // a pending job is in the job queue, not here
		jobsOf := func(q []atsgate.PendingEdit) []int64 {
			out := []int64{}
			for _, e := range q {
				out = append(out, e.Job.ID)
			}
			return out
		}
		all := pendingEdits(t, f.st, atsgate.ReviewFilter{})
		if diff := cmp.Diff(ids, jobsOf(all)); diff != "" {
			t.Errorf("all (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int64{ids[0], ids[2]}, jobsOf(pendingEdits(t, f.st, atsgate.ReviewFilter{CountryID: f.country.ID}))); diff != "" {
			t.Errorf("country gh (-want +got):\n%s", diff)
		}
		next := pendingEdits(t, f.st, atsgate.ReviewFilter{AfterID: all[0].Edit.ID, Limit: 1})
		if diff := cmp.Diff([]int64{ids[1]}, jobsOf(next)); diff != "" {
			t.Errorf("after the first, limit 1 (-want +got):\n%s", diff)
		}
		if all[0].Job.PublicLink == "" || all[0].Job.Title == "Edited 0" {
			t.Errorf("queued job = %+v, want the live job with its link", all[0].Job)
		}
	})
}

func TestConcurrentEditsAndApprovals(t *testing.T) {
	// An integrator's updates racing reviewers' approvals of one published
	// job: every update is held or replaces the pending edit, every
	// approval applies one whole edit, and the job ends as one consistent
	// content — the last approved edit's — never a mix, never reverted.
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{balance: "100"})
		pub := f.published(t, "RACE")
		const n = 40
		results := race(t, n, func(ctx context.Context, i int) result {
			if i%10 == 5 {
				j, err := f.st.Approve(ctx, pub.ID, "admin:r")
				return result{job: j, err: err}
			}
			j, err := f.st.UpdateJob(ctx, f.p, atsgate.JobInput{ExternalID: "RACE",
				Title: ptr(fmt.Sprintf("T-%d", i)), Description: ptr(fmt.Sprintf("D-%d", i)), Salary: ptr(int64(i + 1))})
			return result{job: j, err: err}
		})
		for _, r := range results {
			if r.err != nil {
				t.Errorf("call %d: %v", r.i, r.err)
			}
		}
		consistent := func(j *atsgate.Job) {
			t.Helper()
			var i int
			if _, err := fmt.Sscanf(j.Title, "T-%d", &i); err != nil {
				if j.Title != pub.Title || j.Description != pub.Description || j.Salary != 0 {
					t.Errorf("job mixes contents: %q %q %d", j.Title, j.Description, j.Salary)
				}
				return
			}
			if j.Description != fmt.Sprintf("D-%d", i) || j.Salary != int64(i+1) {
				t.Errorf("job mixes contents: %q %q %d", j.Title, j.Description, j.Salary)
			}
		}
		live, err := f.st.JobByID(ctx, pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		consistent(live)
		if live.State != atsgate.StatePublished {
			t.Errorf("state = %s", live.State)
		}
		// The live content is the last approved edit's.
		var lastApproved string
		row := f.st.DB().QueryRowContext(ctx, rebind(f.st, `SELECT content FROM job_edits WHERE job_id = $1 AND status = 'approved' ORDER BY id DESC LIMIT 1`), pub.ID)
		if err := row.Scan(&lastApproved); err == nil {
			var c atsgate.Content
			if err := json.Unmarshal([]byte(lastApproved), &c); err != nil {
				t.Fatal(err)
			}
			if c.Title != live.Title || c.Description != live.Description || c.Salary != live.Salary {
				t.Errorf("live %q, last approved edit %q: an approved value was lost", live.Title, c.Title)
			}
		}
		pending := count(t, f.st, `SELECT COUNT(*) FROM job_edits WHERE job_id = $1 AND status = 'pending'`, pub.ID)
		if pending > 1 || (pending == 1) != live.PendingEdit {
			t.Errorf("%d pending edits, job says pending_edit=%v", pending, live.PendingEdit)
		}
		approvedEvents := count(t, f.st, `SELECT COUNT(*) FROM job_events WHERE job_id = $1 AND edit = 'approved'`, pub.ID)
		approvedEdits := count(t, f.st, `SELECT COUNT(*) FROM job_edits WHERE job_id = $1 AND status = 'approved'`, pub.ID)
		if approvedEvents != approvedEdits {
			t.Errorf("%d approval events for %d approved edits", approvedEvents, approvedEdits)
		}
		// Whatever is pending at the end is one whole update, and approving
		// it makes it live.
		if live.PendingEdit {
			e, err := f.st.PendingEdit(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			after, err := f.st.Approve(ctx, pub.ID, "admin:r")
			if err != nil {
				t.Fatal(err)
			}
			consistent(after)
			if after.Title != e.Edit.Content.Title || after.PendingEdit {
				t.Errorf("final approval: %q, want %q", after.Title, e.Edit.Content.Title)
			}
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}
