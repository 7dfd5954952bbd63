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

// TestListPlanUsesTheEmployersIndex: an employer whose 2,000 jobs are
// older than 30,000 of another employer's gets its list pages from its
// index range on PostgreSQL, whatever the statistics say, and never
// by walking the primary key past the other employer's jobs (which the
// planner chose for an equality on the employer: 32 ms a page instead
// of 0.5). The pages are still the right ones.
func TestListPlanUsesTheEmployersIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := setup(t, store.Postgres, fixtureOpts{})
	other := newEmployer(t, old.st, old.country, fixtureOpts{})
	db := old.st.DB()
	fill := `INSERT INTO jobs (employer_id, country_id, external_id, dialect, state, title, description, received_at, updated_at)
		SELECT $1, $2, 'J' || g, 'ats', CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'published' END, 'Job ' || g, 'x', now(), now()
		FROM generate_series(1, $3) AS g`
	if _, err := db.ExecContext(ctx, fill, old.employer.ID, old.country.ID, 2000); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, fill, other.employer.ID, old.country.ID, 30000); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE jobs`); err != nil {
		t.Fatal(err)
	}
	var newest, oldestOther int64
	if err := db.QueryRowContext(ctx, `SELECT max(id) FROM jobs WHERE employer_id = $1`, old.employer.ID).Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT min(id) FROM jobs WHERE employer_id = $1`, other.employer.ID).Scan(&oldestOther); err != nil {
		t.Fatal(err)
	}
	if newest >= oldestOther {
		t.Fatalf("setup: the employer's newest job %d is not older than the other's oldest %d", newest, oldestOther)
	}
	for _, tc := range []struct {
		name   string
		state  atsgate.JobState
		before int64
	}{
		{"first page", "", 0},
		{"next page", "", newest - 100},
		{"one state", atsgate.StatePublished, 0},
		{"one state, next page", atsgate.StateClosed, newest - 100},
	} {
		query, args := store.ListSQL(old.employer.ID, tc.state, tc.before, 50)
		rows, err := db.QueryContext(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		// One of the indexes that lead with the employer (the covering
		// one, or jobs_employer_newest while the visibility map is cold),
		// read as the employer's range.
		if !strings.Contains(text, "Index Cond: ((employer_id >= e.id) AND (employer_id <= e.id)") || strings.Contains(text, "jobs_pkey") {
			t.Errorf("%s: want a range of an index on the employer, not the primary key; plan:\n%s", tc.name, text)
		}
		page, err := old.st.ListJobs(ctx, old.employer.ID, atsgate.JobFilter{State: tc.state, Limit: 50, Cursor: cursorBefore(t, old, tc.before)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(page.Jobs) != 50 {
			t.Fatalf("%s: %d jobs, want 50", tc.name, len(page.Jobs))
		}
		for _, j := range page.Jobs {
			if tc.state != "" && j.State != tc.state {
				t.Errorf("%s: job %s is %s", tc.name, j.ExternalID, j.State)
			}
			if tc.before > 0 && j.ID >= tc.before {
				t.Errorf("%s: job %d is not before %d", tc.name, j.ID, tc.before)
			}
		}
	}
}

// cursorBefore is the list cursor that continues below id ("" for 0).
func cursorBefore(t *testing.T, _ *fixture, id int64) string {
	t.Helper()
	if id == 0 {
		return ""
	}
	return store.EncodeCursor(id)
}
