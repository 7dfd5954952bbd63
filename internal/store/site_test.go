package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

// siteFixture publishes jobs straight away (an auto-publishing employer)
// one second apart, so newest first is a known order.
type siteFixture struct {
	*fixture
	clock *testClock
}

func newSiteFixture(t *testing.T, d string, opts ...store.Option) *siteFixture {
	t.Helper()
	clk := newTestClock(time.Date(2026, 6, 18, 9, 0, 0, 0, time.UTC))
	opts = append(opts, store.WithClock(clk.Now))
	return &siteFixture{fixture: setup(t, d, fixtureOpts{balance: "10000", autoPublish: true}, opts...), clock: clk}
}

func (f *siteFixture) publish(t *testing.T, id, title, description string, edit func(*atsgate.JobInput)) *atsgate.Job {
	t.Helper()
	f.clock.Add(time.Second)
	in := atsgate.JobInput{ExternalID: id, Title: ptr(title), Description: ptr(description)}
	if edit != nil {
		edit(&in)
	}
	j, _, err := f.st.CreateJob(context.Background(), f.p, in)
	if err != nil {
		t.Fatalf("CreateJob(%s): %v", id, err)
	}
	return j
}

func titles(p *atsgate.SitePage) []string {
	var out []string
	for _, x := range p.Postings {
		out = append(out, x.Title)
	}
	return out
}

func (f *siteFixture) list(t *testing.T, q atsgate.SiteQuery) []string {
	t.Helper()
	page, err := f.st.Postings(context.Background(), f.country, q)
	if err != nil {
		t.Fatalf("Postings(%+v): %v", q, err)
	}
	return titles(page)
}

// TestSitePostings is the listing's contract: the country's public jobs
// only, newest first, keyset pages, search over title, description and
// the shown company, and each filter.
func TestSitePostings(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := newSiteFixture(t, d)
		f.publish(t, "A", "Accountant", "<p>Ledgers and <b>audits</b></p>", func(in *atsgate.JobInput) {
			in.States = ptr([]int64{3, 7})
			in.Extras = map[string]string{"job_type": "FULL_TIME", "company_name": "Zenith Books"}
		})
		f.publish(t, "B", "Nurse", "Night shifts at the clinic", func(in *atsgate.JobInput) {
			in.Qualifications = ptr([]int64{4})
			in.Specialization = ptr(int64(12))
			in.Extras = map[string]string{"workplace_type": "REMOTE", "job_type": "PART_TIME"}
		})
		f.publish(t, "C", "Driver", "Deliveries across Accra", func(in *atsgate.JobInput) {
			in.ShowCompanyName = ptr(false)
			in.Extras = map[string]string{"company_name": "Secretcorp"}
			in.States = ptr([]int64{7})
		})
		f.publish(t, "D", "Café manager", "Coffee and people", nil)
		f.publish(t, "E", "Pending one", "never shown", nil)
		// Another country's job never shows here.
		other := newEmployer(t, f.st, mustCountry(t, f.st, "ng", ""), fixtureOpts{balance: "1000", autoPublish: true})
		if _, _, err := f.st.CreateJob(ctx, other.p, jobInput("NG-1")); err != nil {
			t.Fatal(err)
		}
		// A closed job and a job past its deadline are not public.
		if _, err := f.st.CloseJob(ctx, f.p, "E"); err != nil {
			t.Fatal(err)
		}
		f.publish(t, "F", "Late", "deadline passed", func(in *atsgate.JobInput) { in.Deadline = ptr("2026-06-17") })

		all := []string{"Café manager", "Driver", "Nurse", "Accountant"}
		if diff := cmp.Diff(all, f.list(t, atsgate.SiteQuery{})); diff != "" {
			t.Errorf("listing (-want +got):\n%s", diff)
		}

		// Keyset pages of one cover everything once, in order.
		var paged []string
		q := atsgate.SiteQuery{Limit: 1}
		for i := 0; i < 10; i++ {
			page, err := f.st.Postings(ctx, f.country, q)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, titles(page)...)
			if page.Next == nil {
				break
			}
			// Through the link's encoding, as a visitor's next click does.
			c, ok := atsgate.ParseSiteCursor(page.Next.String())
			if !ok {
				t.Fatalf("cursor %q does not parse", page.Next.String())
			}
			q.After = &c
		}
		if diff := cmp.Diff(all, paged); diff != "" {
			t.Errorf("paged listing (-want +got):\n%s", diff)
		}

		employerWord := atsgate.SearchTerms(f.employer.Name)[0] // "employer"
		for _, tc := range []struct {
			name string
			q    atsgate.SiteQuery
			want []string
		}{
			{"title word", atsgate.SiteQuery{Terms: []string{"nurse"}}, []string{"Nurse"}},
			{"description word", atsgate.SiteQuery{Terms: []string{"audits"}}, []string{"Accountant"}},
			{"company extra", atsgate.SiteQuery{Terms: []string{"zenith"}}, []string{"Accountant"}},
			{"hidden company is not searchable", atsgate.SiteQuery{Terms: []string{"secretcorp"}}, nil},
			{"employer name for jobs without a company", atsgate.SiteQuery{Terms: []string{employerWord}}, []string{"Café manager", "Nurse"}},
			{"all terms must match", atsgate.SiteQuery{Terms: []string{"night", "clinic"}}, []string{"Nurse"}},
			{"terms across fields", atsgate.SiteQuery{Terms: []string{"ledgers", "zenith"}}, []string{"Accountant"}},
			{"no match", atsgate.SiteQuery{Terms: []string{"astronaut"}}, nil},
			{"accented", atsgate.SiteQuery{Terms: []string{"café"}}, []string{"Café manager"}},
			{"closed jobs are not found", atsgate.SiteQuery{Terms: []string{"pending"}}, nil},
			{"state", atsgate.SiteQuery{State: 7}, []string{"Driver", "Accountant"}},
			{"state and search", atsgate.SiteQuery{State: 7, Terms: []string{"accra"}}, []string{"Driver"}},
			{"qualification", atsgate.SiteQuery{Qualification: 4}, []string{"Nurse"}},
			{"specialization", atsgate.SiteQuery{Specialization: 12}, []string{"Nurse"}},
			{"job type", atsgate.SiteQuery{JobType: "FULL_TIME"}, []string{"Accountant"}},
			{"workplace type", atsgate.SiteQuery{WorkplaceType: "REMOTE"}, []string{"Nurse"}},
			{"two filters", atsgate.SiteQuery{JobType: "PART_TIME", WorkplaceType: "REMOTE"}, []string{"Nurse"}},
			{"filters that exclude each other", atsgate.SiteQuery{JobType: "FULL_TIME", WorkplaceType: "REMOTE"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if diff := cmp.Diff(tc.want, f.list(t, tc.q)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}

		// The company is hidden in what the store returns, not only on the page.
		page, err := f.st.Postings(ctx, f.country, atsgate.SiteQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Postings {
			want := map[string]string{"Accountant": "Zenith Books", "Driver": "", "Nurse": f.employer.Name, "Café manager": f.employer.Name}[p.Title]
			if p.Company != want {
				t.Errorf("%s: Company = %q, want %q", p.Title, p.Company, want)
			}
		}
	})
}

// TestSiteSearchFollowsChanges: the search index is in step with updates
// and closing, with no rebuild.
func TestSiteSearchFollowsChanges(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := newSiteFixture(t, d)
		f.publish(t, "A", "Welder", "Metal work", nil)
		before, err := f.st.SiteChanged(ctx, f.country)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Minute)
		if _, err := f.st.UpdateJob(ctx, f.p, atsgate.JobInput{ExternalID: "A", Title: ptr("Plumber")}); err != nil {
			t.Fatal(err)
		}
		if got := f.list(t, atsgate.SiteQuery{Terms: []string{"welder"}}); got != nil {
			t.Errorf("old title still found: %v", got)
		}
		if got := f.list(t, atsgate.SiteQuery{Terms: []string{"plumber"}}); len(got) != 1 {
			t.Errorf("new title not found: %v", got)
		}
		after, err := f.st.SiteChanged(ctx, f.country)
		if err != nil || !after.After(before) {
			t.Errorf("SiteChanged = %v (err %v), want after %v", after, err, before)
		}
		if _, err := f.st.CloseJob(ctx, f.p, "A"); err != nil {
			t.Fatal(err)
		}
		if got := f.list(t, atsgate.SiteQuery{Terms: []string{"plumber"}}); got != nil {
			t.Errorf("closed job still found: %v", got)
		}
	})
}

// TestSitePostingAndSitemap: one job by ID in any state, never another
// country's; the sitemap lists the public jobs only.
func TestSitePostingAndSitemap(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := newSiteFixture(t, d)
		a := f.publish(t, "A", "Welder", "Metal work", nil)
		b := f.publish(t, "B", "Cook", "Food", nil)
		f.publish(t, "C", "Cleaner", "Floors", nil)
		if _, err := f.st.CloseJob(ctx, f.p, "C"); err != nil {
			t.Fatal(err)
		}
		p, err := f.st.Posting(ctx, f.country, a.ID)
		if err != nil || p.Title != "Welder" || p.Company != f.employer.Name || p.PublicLink != a.PublicLink {
			t.Errorf("Posting = %+v, %v", p, err)
		}
		ng := mustCountry(t, f.st, "ng", "")
		_, err = f.st.Posting(ctx, ng, a.ID)
		wantCode(t, err, atsgate.ENOTFOUND)
		_, err = f.st.Posting(ctx, f.country, 1<<40)
		wantCode(t, err, atsgate.ENOTFOUND)

		entries, total, err := f.st.Sitemap(ctx, f.country, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(entries) != 2 || entries[0].ID != a.ID || entries[1].ID != b.ID ||
			f.country.PublicURL+entries[1].Path != b.PublicLink || entries[0].LastMod.IsZero() {
			t.Errorf("Sitemap = %+v, total %d", entries, total)
		}
		entries, total, err = f.st.Sitemap(ctx, f.country, 1, 10)
		if err != nil || total != 2 || len(entries) != 1 || entries[0].ID != b.ID {
			t.Errorf("Sitemap(offset 1) = %+v, %d, %v", entries, total, err)
		}
	})
}

// TestLoadPublished: bulk-loaded jobs are public, searchable and linked
// like any other, and the IDs the database gives next follow them.
func TestLoadPublished(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		// Searches matching 10 jobs or more take the plan for common words.
		f := newSiteFixture(t, d, store.WithRareMatches(10))
		f.publish(t, "FIRST", "Before the load", "x", nil)
		n := 60
		var jobs []atsgate.Job
		for i := 0; i < n; i++ {
			jobs = append(jobs, atsgate.Job{ExternalID: fmt.Sprintf("L%d", i), Title: fmt.Sprintf("Loaded job %d", i),
				Description: "bulk", ShowCompanyName: true, States: []int64{int64(i%3 + 1)},
				Extras:      map[string]string{"job_type": "FULL_TIME"},
				PublishedAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)})
		}
		jobs[34].Description = "a rare zygomorphic word"
		ids, err := f.st.LoadPublished(ctx, f.employer.ID, jobs)
		if err != nil || len(ids) != n {
			t.Fatalf("LoadPublished = %d IDs, %v", len(ids), err)
		}
		if got := f.list(t, atsgate.SiteQuery{Terms: []string{"zygomorphic"}}); len(got) != 1 || got[0] != "Loaded job 34" {
			t.Errorf("search after the load = %v", got)
		}
		// A word in every job: the plan that walks the newest jobs.
		newest := func(k int) string { return fmt.Sprintf("Loaded job %d", n-1-k) }
		if diff := cmp.Diff([]string{newest(0), newest(1), newest(2)},
			f.list(t, atsgate.SiteQuery{Terms: []string{"bulk"}, Limit: 3})); diff != "" {
			t.Errorf("common word (-want +got):\n%s", diff)
		}
		p, err := f.st.Posting(ctx, f.country, ids[7])
		if err != nil || p.PublicLink != f.country.PublicURL+atsgate.PublicPath(ids[7], "Loaded job 7") || p.Company != f.employer.Name {
			t.Errorf("Posting = %+v, %v", p, err)
		}
		_, total, err := f.st.Sitemap(ctx, f.country, 0, 1)
		if err != nil || total != int64(n)+1 {
			t.Errorf("sitemap total %d, %v", total, err)
		}
		after := f.publish(t, "AFTER", "After the load", "x", nil)
		if after.ID <= ids[len(ids)-1] {
			t.Errorf("next ID %d is not after the loaded %d", after.ID, ids[len(ids)-1])
		}
	})
}

// TestSiteFiltersAreIndexed: the filters are lexemes of the search index
// (migration 10), so they follow updates like the text does, and job text
// that spells a filter's lexeme does not put a job under that filter. Run
// with the default threshold (matches fetched and sorted) and with one of
// 1 (the newest jobs walked), so both plans give the same answers.
func TestSiteFiltersAreIndexed(t *testing.T) {
	t.Parallel()
	for _, rare := range []int{store.RareMatches, 1} {
		t.Run(fmt.Sprintf("rare=%d", rare), func(t *testing.T) { testSiteFilters(t, rare) })
	}
}

func testSiteFilters(t *testing.T, rare int) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := newSiteFixture(t, d, store.WithRareMatches(rare))
		f.publish(t, "A", "Welder", "Metal work in Tema", func(in *atsgate.JobInput) {
			in.States = ptr([]int64{3})
			in.Qualifications = ptr([]int64{2, 5})
			in.Specialization = ptr(int64(8))
			in.Extras = map[string]string{"job_type": "FULL_TIME", "workplace_type": "ON_SITE"}
		})
		f.publish(t, "B", "Spoofer zst3", "zst3 zqu2 zsp8 zjtfulltime zwtonsite facets : zst3", func(in *atsgate.JobInput) {
			in.States = ptr([]int64{9})
			in.Extras = map[string]string{"job_type": "CONTRACT"}
		})
		for _, tc := range []struct {
			name string
			q    atsgate.SiteQuery
			want []string
		}{
			{"state", atsgate.SiteQuery{State: 3}, []string{"Welder"}},
			{"every filter", atsgate.SiteQuery{State: 3, Qualification: 5, Specialization: 8, JobType: "FULL_TIME", WorkplaceType: "ON_SITE"}, []string{"Welder"}},
			{"filters and a word", atsgate.SiteQuery{State: 3, JobType: "FULL_TIME", Terms: []string{"tema"}}, []string{"Welder"}},
			{"the spoofer's own region", atsgate.SiteQuery{State: 9, JobType: "CONTRACT"}, []string{"Spoofer zst3"}},
			{"a word that spells a lexeme is only a word", atsgate.SiteQuery{Terms: []string{"zjtfulltime"}}, []string{"Spoofer zst3"}},
		} {
			if diff := cmp.Diff(tc.want, f.list(t, tc.q)); diff != "" {
				t.Errorf("rare=%d %s (-want +got):\n%s", rare, tc.name, diff)
			}
		}
		// An update moves the job between filters at once.
		if _, err := f.st.UpdateJob(ctx, f.p, atsgate.JobInput{ExternalID: "A", States: ptr([]int64{4}),
			Extras: map[string]string{"job_type": "PART_TIME"}}); err != nil {
			t.Fatal(err)
		}
		if got := f.list(t, atsgate.SiteQuery{State: 3}); got != nil {
			t.Errorf("rare=%d: the old region still lists the job: %v", rare, got)
		}
		if got := f.list(t, atsgate.SiteQuery{State: 4, JobType: "PART_TIME"}); len(got) != 1 {
			t.Errorf("rare=%d: the new region and type do not: %v", rare, got)
		}
	})
}

// TestSiteSearchIndexPendingListIsSmall: PostgreSQL's search index keeps
// a pending list of at most 256 kB (migration 11), not the default 4 MB
// that every search scans, and a job published a moment ago, still in
// that list, is found.
func TestSiteSearchIndexPendingListIsSmall(t *testing.T) {
	t.Parallel()
	f := newSiteFixture(t, store.Postgres)
	var opts string
	if err := f.st.DB().QueryRow(`SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'jobs_site_doc'`).Scan(&opts); err != nil {
		t.Fatal(err)
	}
	if opts != "fastupdate=on,gin_pending_list_limit=256" {
		t.Fatalf("jobs_site_doc options = %q, want fastupdate=on,gin_pending_list_limit=256", opts)
	}
	f.publish(t, "A", "Welder", "Metal work in Tema", nil)
	if got := f.list(t, atsgate.SiteQuery{Terms: []string{"tema"}}); len(got) != 1 {
		t.Fatalf("search for a job just published: %v", got)
	}
}

// TestSiteSearchAfterItsMatchesGrow: a search first answered from the text
// index while it matched few jobs (and remembered as such on PostgreSQL)
// still gives the newest matches, page after page, once many more jobs
// match it, and again once it is counted as common.
func TestSiteSearchAfterItsMatchesGrow(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := newSiteFixture(t, d, store.WithRareMatches(3))
		f.publish(t, "Z1", "Zebra keeper 1", "Stripes", nil)
		for i := 0; i < 5; i++ {
			f.publish(t, fmt.Sprintf("O%d", i), fmt.Sprintf("Other %d", i), "Nothing to see", nil)
		}
		q := atsgate.SiteQuery{Terms: []string{"zebra"}, Limit: 2}
		if diff := cmp.Diff([]string{"Zebra keeper 1"}, f.list(t, q)); diff != "" {
			t.Fatalf("one match (-want +got):\n%s", diff)
		}
		for i := 2; i <= 6; i++ {
			f.publish(t, fmt.Sprintf("Z%d", i), fmt.Sprintf("Zebra keeper %d", i), "Stripes", nil)
		}
		want := []string{"Zebra keeper 6", "Zebra keeper 5", "Zebra keeper 4", "Zebra keeper 3", "Zebra keeper 2", "Zebra keeper 1"}
		for round := 0; round < 2; round++ {
			var got []string
			q := q
			for {
				page, err := f.st.Postings(ctx, f.country, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, titles(page)...)
				if page.Next == nil {
					break
				}
				q.After = page.Next
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round %d, six matches in pages of two (-want +got):\n%s", round, diff)
			}
		}
	})
}
