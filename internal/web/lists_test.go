package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// TestReviewQueuePreview: the queue carries a sanitised preview of a long
// description and says it is cut; the job itself carries all of it; the
// queue page links to it.
func TestReviewQueuePreview(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	long := "<p onclick=\"x()\">" + strings.Repeat("word ", 300) + "<script>alert(1)</script>" + strings.Repeat("more ", 2000) + "</p>"
	id := a.pending(t, "LONG-1", "description", long)
	short := a.pending(t, "SHORT-1")

	type job struct {
		ID                   int64  `json:"id"`
		Description          string `json:"description"`
		DescriptionTruncated bool   `json:"description_truncated"`
	}
	var q struct {
		Jobs []job `json:"jobs"`
	}
	a.api(t, atsgate.RoleReviewer, "GET", "/admin/api/reviews", nil).wantStatus(t, 200).decode(t, &q)
	if len(q.Jobs) != 2 || q.Jobs[0].ID != id || q.Jobs[1].ID != short {
		t.Fatalf("queue = %+v", q.Jobs)
	}
	p := q.Jobs[0]
	if !p.DescriptionTruncated || len(p.Description) > 2*atsgate.PreviewChars || !strings.HasPrefix(p.Description, "<p>word word") ||
		strings.Contains(p.Description, "onclick") || strings.Contains(p.Description, "more") {
		t.Errorf("preview (%d bytes, truncated %v): %.120q…", len(p.Description), p.DescriptionTruncated, p.Description)
	}
	if q.Jobs[1].DescriptionTruncated || q.Jobs[1].Description == "" {
		t.Errorf("a short description: %+v", q.Jobs[1])
	}
	var d struct {
		Job job `json:"job"`
	}
	a.api(t, atsgate.RoleReviewer, "GET", "/admin/api/jobs/"+itoa(id), nil).wantStatus(t, 200).decode(t, &d)
	if d.Job.DescriptionTruncated || !strings.Contains(d.Job.Description, "more more") || strings.Contains(d.Job.Description, "<script") {
		t.Errorf("the job's own description (%d bytes, truncated %v)", len(d.Job.Description), d.Job.DescriptionTruncated)
	}

	b := a.browser(t)
	b.signIn(a.tokens[atsgate.RoleReviewer])
	_, html := b.page("/admin/reviews")
	if !strings.Contains(html, `<a href="/admin/jobs/`+itoa(id)+`">… read the whole description</a>`) ||
		strings.Count(html, "read the whole description") != 1 || strings.Contains(html, "more more") {
		t.Errorf("the queue page does not link the cut description to its job, or shows all of it")
	}
}

// TestListRecordsMatchGet: a list, which reads only the record's columns,
// prints each job byte for byte as getting that job alone does, in every
// state a record can show.
func TestListRecordsMatchGet(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	emp := a.employer(t, "ng", "Records Ltd", "100000")
	big := strings.Repeat("<p>Long.</p>", 20000)
	for _, id := range []string{"R-PENDING", "R-PUBLISHED", "R-CLOSED", "R-DISAPPROVED"} {
		a.clock.Advance(time.Minute)
		a.create(t, emp, job(id, "description", big, "deadline", "2030-01-31", "company_about", "About us",
			"apply_url", "https://example.com/apply", "states", []int{1}))
	}
	ctx := context.Background()
	for _, id := range []string{"R-PUBLISHED", "R-CLOSED"} {
		if _, err := a.st.Approve(ctx, a.storedJob(t, emp.ID, id).ID, "admin:rita"); err != nil {
			t.Fatal(err)
		}
	}
	a.clock.Advance(time.Hour)
	a.call(t, emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "R-CLOSED"}).wantStatus(t, http.StatusOK)
	if _, err := a.st.Disapprove(ctx, a.storedJob(t, emp.ID, "R-DISAPPROVED").ID, "admin:rita", "Duplicate"); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Jobs []json.RawMessage `json:"jobs"`
	}
	a.call(t, emp, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Jobs) != 4 {
		t.Fatalf("%d jobs listed", len(list.Jobs))
	}
	for _, item := range list.Jobs {
		var r record
		if err := json.Unmarshal(item, &r); err != nil {
			t.Fatal(err)
		}
		one := a.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id="+r.ExternalID, nil).wantStatus(t, http.StatusOK)
		if got, want := string(item), strings.TrimSpace(string(one.Body)); got != want {
			t.Errorf("%s listed:\n%s\nalone:\n%s", r.ExternalID, got, want)
		}
	}
}

// TestAdminAPIEmployersLargestPage: ?limit=200, the largest page, answers
// 200 employers and the cursor of the next page, and the next page the
// rest.
func TestAdminAPIEmployersLargestPage(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t) // Acme and Lagos Ltd
	ctx := context.Background()
	for i := 0; i < 201; i++ {
		if _, err := a.st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: a.gh.ID, Name: fmt.Sprintf("Paged %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Employers []struct {
			ID int64 `json:"id"`
		} `json:"employers"`
		NextAfter int64 `json:"next_after"`
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers?limit=200", nil).wantStatus(t, 200).decode(t, &page)
	if len(page.Employers) != 200 || page.NextAfter != page.Employers[199].ID {
		t.Fatalf("limit=200: %d employers, next_after %d", len(page.Employers), page.NextAfter)
	}
	after := page.NextAfter
	page.Employers, page.NextAfter = nil, 0
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers?limit=200&after="+itoa(after), nil).wantStatus(t, 200).decode(t, &page)
	if len(page.Employers) != 3 || page.NextAfter != 0 || page.Employers[0].ID <= after {
		t.Fatalf("the next page: %d employers, next_after %d", len(page.Employers), page.NextAfter)
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/employers?limit=201", nil).wantError(t, 422, "validation_failed")
}
