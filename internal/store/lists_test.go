package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

// TestListsReadWhatTheyShow: the jobs list carries the job record's fields
// and not the description, extras or taxonomy it does not show; the review
// queue carries a preview of each description, cut by characters alike on
// both databases, and says whether it was cut.
func TestListsReadWhatTheyShow(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC))
		f := setup(t, d, fixtureOpts{balance: "1000"}, store.WithClock(clk.Now))
		// Two bytes a character, and a tag across the cut.
		long := "<p>" + strings.Repeat("é", atsgate.PreviewChars-10) + `<a href="https://example.com">` + strings.Repeat("ü", 4000) + "</a></p>"
		in := jobInput("BIG")
		in.Description = &long
		in.ApplyURL = ptr("https://example.com/apply")
		in.States = &[]int64{1, 2}
		in.Extras = map[string]string{"company_about": strings.Repeat("About. ", 500)}
		big, _, err := f.st.CreateJob(ctx, f.p, in)
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Minute)
		small := f.create(t, "SMALL")
		if _, err := f.st.Approve(ctx, small.ID, "admin:rita"); err != nil {
			t.Fatal(err)
		}
		small, err = f.st.JobByID(ctx, small.ID)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("jobs list", func(t *testing.T) {
			page, err := f.st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Jobs) != 2 {
				t.Fatalf("%d jobs", len(page.Jobs))
			}
			for i, full := range []*atsgate.Job{small, big} {
				// What a job record shows, and nothing it does not.
				want := atsgate.Job{ID: full.ID, EmployerID: full.EmployerID, CountryID: full.CountryID,
					ExternalID: full.ExternalID, Dialect: full.Dialect, State: full.State, Title: full.Title,
					Deadline: full.Deadline, AmountCharged: full.AmountCharged, ReceivedAt: full.ReceivedAt,
					UpdatedAt: full.UpdatedAt, PublishedAt: full.PublishedAt, ClosedAt: full.ClosedAt,
					DisapprovedAt: full.DisapprovedAt, DisapprovalReason: full.DisapprovalReason, PublicLink: full.PublicLink}
				if diff := cmp.Diff(want, page.Jobs[i], jobCmp); diff != "" {
					t.Errorf("list item %s (-want +got):\n%s", full.ExternalID, diff)
				}
			}
			if small.PublicLink == "" {
				t.Errorf("the published job has no public link to compare")
			}
		})

		t.Run("review queue", func(t *testing.T) {
			q, err := f.st.ReviewQueue(ctx, atsgate.ReviewFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(q) != 1 || q[0].ID != big.ID {
				t.Fatalf("queue = %+v", q)
			}
			got := q[0]
			wantPreview := "<p>" + strings.Repeat("é", atsgate.PreviewChars-10)
			if got.Description != wantPreview || !got.DescriptionCut {
				t.Errorf("preview = %d characters ending %q, cut %v; want the %d before the open tag, cut",
					len([]rune(got.Description)), got.Description[max(0, len(got.Description)-20):], got.DescriptionCut, len([]rune(wantPreview)))
			}
			if got.Extras != nil || got.States != nil || got.ApplyURL != "https://example.com/apply" || got.Title != big.Title ||
				got.ExternalID != "BIG" || !got.AmountCharged.Equal(big.AmountCharged) || !got.ReceivedAt.Equal(big.ReceivedAt) {
				t.Errorf("queue item = %+v", got)
			}
			whole, err := f.st.JobByID(ctx, big.ID)
			if err != nil || whole.Description != long || whole.DescriptionCut {
				t.Errorf("JobByID has %d bytes of description, cut %v (%v); want all %d", len(whole.Description), whole.DescriptionCut, err, len(long))
			}
			short := f.create(t, "SHORT")
			q, err = f.st.ReviewQueue(ctx, atsgate.ReviewFilter{AfterID: big.ID})
			if err != nil || len(q) != 1 || q[0].Description != *jobInput("").Description || q[0].DescriptionCut || q[0].ID != short.ID {
				t.Errorf("short description in the queue: %+v, %v", q, err)
			}
		})
	})
}

// TestEmployerPageLimits: a page of the largest size is that size, with
// the cursor of the next, however the store finds out there is one; a size
// beyond it is refused, not quietly shrunk.
func TestEmployerPageLimits(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		gh := mustCountry(t, st, "gh", "")
		const n = atsgate.MaxEmployerPage + 3
		for i := 0; i < n; i++ {
			if _, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: gh.ID, Name: "Paged " + strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		page, next, err := st.EmployerPage(ctx, 0, 0, atsgate.MaxEmployerPage)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != atsgate.MaxEmployerPage || next != page[len(page)-1].ID {
			t.Fatalf("a page of %d: %d employers, next %d", atsgate.MaxEmployerPage, len(page), next)
		}
		rest, last, err := st.EmployerPage(ctx, gh.ID, next, atsgate.MaxEmployerPage)
		if err != nil || len(rest) != 3 || last != 0 || rest[0].ID <= next {
			t.Fatalf("the rest: %d employers, next %d, %v", len(rest), last, err)
		}
		exact, last, err := st.EmployerPage(ctx, 0, page[len(page)-4].ID, 6)
		if err != nil || len(exact) != 6 || last != 0 {
			t.Fatalf("a page that ends with the list: %d employers, next %d, %v", len(exact), last, err)
		}
		for _, limit := range []int{0, -1, atsgate.MaxEmployerPage + 1} {
			_, _, err := st.EmployerPage(ctx, 0, 0, limit)
			wantCode(t, err, atsgate.EINVALID)
		}
	})
}
