package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// editRecord is the ATS record with the field this feature adds.
type editRecord struct {
	record
	PendingEdit *bool `json:"pending_edit"`
}

// partial is an update body with only the given fields (job() fills in a
// title and a description).
func partial(externalID string, kv ...any) map[string]any {
	m := map[string]any{"external_id": externalID}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func (r response) editRecord(t testing.TB) editRecord {
	t.Helper()
	var rec editRecord
	r.decode(t, &rec)
	if rec.PendingEdit == nil {
		t.Fatalf("record has no pending_edit: %s", r.Body)
	}
	return rec
}

// editQueue is the admin API's queue, edits half.
type editQueue struct {
	Jobs []struct {
		ID int64 `json:"id"`
	} `json:"jobs"`
	Edits []struct {
		Job struct {
			ID          int64  `json:"id"`
			Title       string `json:"title"`
			PendingEdit bool   `json:"pending_edit"`
		} `json:"job"`
		Edit struct {
			ID      int64                              `json:"id"`
			JobID   int64                              `json:"job_id"`
			Actor   string                             `json:"actor"`
			Changes []struct{ Field, Old, New string } `json:"changes"`
		} `json:"edit"`
	} `json:"edits"`
}

type editDetail struct {
	Job struct {
		Title       string `json:"title"`
		State       string `json:"state"`
		PendingEdit bool   `json:"pending_edit"`
	} `json:"job"`
	Events []struct {
		To     string   `json:"to"`
		Actor  string   `json:"actor"`
		Reason string   `json:"reason"`
		Edit   string   `json:"edit"`
		Fields []string `json:"fields"`
	} `json:"events"`
	PendingEdit *struct {
		Changes []struct{ Field, Old, New string } `json:"changes"`
	} `json:"pending_edit"`
}

// TestReviewedEditsHTTP follows an edit of a published job through the
// ATS API and the admin API: held with the live values shown, queued with
// its diff, approved, held again and refused, held again and discarded by
// closing.
func TestReviewedEditsHTTP(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	rev := atsgate.RoleReviewer
	id := a.pending(t, "ED-1", "title", "Baker")
	path := "/admin/api/jobs/" + itoa(id)
	a.api(t, rev, "POST", path+"/approve", nil).wantStatus(t, 200)
	live := a.call(t, a.acme, http.MethodGet, "/api/ats/jobs?external_id=ED-1", nil).editRecord(t)
	if *live.PendingEdit || live.State != "published" {
		t.Fatalf("published job = %+v", live)
	}

	// The update is held: the record shows the live values.
	up := a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", job("ED-1", "title", "Head baker",
		"description", `<p>Bread <b>daily</b></p><script>alert(1)</script>`)).wantStatus(t, 200).editRecord(t)
	if !*up.PendingEdit || up.Title != "Baker" || up.PublicLink != live.PublicLink {
		t.Errorf("update = %+v, want the live job with pending_edit", up)
	}
	got := a.call(t, a.acme, http.MethodGet, "/api/ats/jobs?external_id=ED-1", nil).editRecord(t)
	if !*got.PendingEdit || got.Title != "Baker" {
		t.Errorf("get = %+v, want the live job with pending_edit", got)
	}
	if l := a.call(t, a.acme, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, 200); !strings.Contains(string(l.Body), `"pending_edit":true`) {
		t.Errorf("list does not show the pending edit: %s", l.Body)
	}

	var q editQueue
	a.api(t, rev, "GET", "/admin/api/reviews?country=gh", nil).wantStatus(t, 200).decode(t, &q)
	if len(q.Jobs) != 0 || len(q.Edits) != 1 || q.Edits[0].Job.ID != id || q.Edits[0].Job.Title != "Baker" || !q.Edits[0].Job.PendingEdit {
		t.Fatalf("queue = %+v, want one edit of job %d beside no pending job", q, id)
	}
	changes := q.Edits[0].Edit.Changes
	if len(changes) != 2 || changes[0].Field != "title" || changes[0].Old != "Baker" || changes[0].New != "Head baker" ||
		changes[1].Field != "description" || changes[1].New != "<p>Bread <b>daily</b></p>" {
		t.Errorf("changes = %+v, want title and the sanitised description", changes)
	}
	var other editQueue
	a.api(t, rev, "GET", "/admin/api/reviews?country=ng", nil).wantStatus(t, 200).decode(t, &other)
	if len(other.Edits) != 0 {
		t.Errorf("ng queue has gh's edit: %+v", other.Edits)
	}
	var d editDetail
	a.api(t, atsgate.RoleFinance, "GET", path, nil).wantStatus(t, 200).decode(t, &d)
	if d.PendingEdit == nil || len(d.PendingEdit.Changes) != 2 || !d.Job.PendingEdit || d.Job.Title != "Baker" {
		t.Errorf("detail = %+v, want the live job and its pending edit", d)
	}

	// Approving applies it; naming an edit that is no longer the
	// pending one is refused.
	a.api(t, rev, "POST", path+"/approve", map[string]any{"edit_id": q.Edits[0].Edit.ID + 1000}).wantError(t, 409, "conflict")
	a.api(t, rev, "POST", path+"/approve", map[string]any{"edit_id": q.Edits[0].Edit.ID}).wantStatus(t, 200)
	got = a.call(t, a.acme, http.MethodGet, "/api/ats/jobs?external_id=ED-1", nil).editRecord(t)
	if *got.PendingEdit || got.Title != "Head baker" || got.State != "published" || !strings.HasSuffix(got.PublicLink, "-head-baker") {
		t.Errorf("after approval = %+v, want the edit live with a new slug", got)
	}

	// Disapproving discards the next one and refunds nothing.
	a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", partial("ED-1", "apply_url", "https://phish.example/x")).wantStatus(t, 200)
	balance := a.statement(t, a.acme.ID).Balance
	a.api(t, rev, "POST", path+"/disapprove", map[string]any{}).wantError(t, 422, "validation_failed")
	a.api(t, rev, "POST", path+"/disapprove", map[string]any{"reason": "Suspicious link"}).wantStatus(t, 200)
	a.api(t, rev, "POST", path+"/disapprove", map[string]any{"reason": "Suspicious link"}).wantError(t, 409, "conflict")
	if b := a.statement(t, a.acme.ID).Balance; !b.Equal(balance) {
		t.Errorf("disapproving an edit moved the balance from %s to %s", balance, b)
	}
	got = a.call(t, a.acme, http.MethodGet, "/api/ats/jobs?external_id=ED-1", nil).editRecord(t)
	if *got.PendingEdit || got.State != "published" || got.Title != "Head baker" {
		t.Errorf("after disapproval = %+v, want published as approved", got)
	}

	// Closing discards a pending edit.
	a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", partial("ED-1", "title", "Never")).wantStatus(t, 200)
	closed := a.call(t, a.acme, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "ED-1"}).wantStatus(t, 200).editRecord(t)
	if *closed.PendingEdit || closed.State != "closed" {
		t.Errorf("closed = %+v", closed)
	}
	a.api(t, rev, "GET", "/admin/api/reviews", nil).wantStatus(t, 200).decode(t, &q)
	if len(q.Edits) != 0 {
		t.Errorf("queue after closing = %+v", q.Edits)
	}

	d = editDetail{}
	a.api(t, atsgate.RoleFinance, "GET", path, nil).wantStatus(t, 200).decode(t, &d)
	type step struct {
		Edit, Actor, Reason string
		Fields              []string
	}
	var steps []step
	for _, ev := range d.Events {
		if ev.Edit != "" {
			steps = append(steps, step{ev.Edit, ev.Actor, ev.Reason, ev.Fields})
		}
	}
	api := "api:" + atsgate.KeyPrefix(a.acme.Key)
	want := []step{
		{"held", api, "", []string{"title", "description"}},
		{"approved", "admin:rita", "", []string{"title", "description"}},
		{"held", api, "", []string{"apply_url"}},
		{"disapproved", "admin:rita", "Suspicious link", []string{"apply_url"}},
		{"held", api, "", []string{"title"}},
		{"discarded", api, "the job was closed", []string{"title"}},
	}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("edit events (-want +got):\n%s", diff)
	}
	if d.PendingEdit != nil {
		t.Errorf("closed job's pending_edit = %+v, want null", d.PendingEdit)
	}
}

// TestUpdatesThatGoLive: what is not held keeps today's behaviour, and an
// auto-publish employer's edit is live at once but still recorded.
func TestUpdatesThatGoLive(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	t.Run("pending job", func(t *testing.T) {
		a.pending(t, "GL-1")
		rec := a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", job("GL-1", "title", "Renamed")).wantStatus(t, 200).editRecord(t)
		if *rec.PendingEdit || rec.Title != "Renamed" {
			t.Errorf("update = %+v", rec)
		}
	})
	t.Run("nothing visible changes", func(t *testing.T) {
		id := a.pending(t, "GL-2")
		a.api(t, atsgate.RoleReviewer, "POST", "/admin/api/jobs/"+itoa(id)+"/approve", nil).wantStatus(t, 200)
		rec := a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", job("GL-2")).wantStatus(t, 200).editRecord(t)
		if *rec.PendingEdit {
			t.Errorf("an unchanged update was held: %+v", rec)
		}
	})
	t.Run("auto-publish", func(t *testing.T) {
		auto := a.employer(t, "gh", "Auto Ltd", "100", autoPublish)
		a.create(t, auto, job("GL-3"))
		rec := a.call(t, auto, http.MethodPut, "/api/ats/jobs", job("GL-3", "title", "Live now", "salary", 5000)).wantStatus(t, 200).editRecord(t)
		if *rec.PendingEdit || rec.Title != "Live now" || rec.State != "published" {
			t.Errorf("update = %+v, want live", rec)
		}
		var d editDetail
		a.api(t, atsgate.RoleFinance, "GET", "/admin/api/jobs/"+itoa(a.storedJob(t, auto.ID, "GL-3").ID), nil).wantStatus(t, 200).decode(t, &d)
		last := d.Events[len(d.Events)-1]
		if last.Edit != "live" || !cmp.Equal(last.Fields, []string{"title", "salary"}) {
			t.Errorf("last event = %+v, want the live edit of title and salary", last)
		}
	})
}

var editIDRE = regexp.MustCompile(`name="edit" value="(\d+)"`)

// TestAdminPagesEdits: the queue page and the job page show an edit's diff
// with sanitised HTML, and their forms approve and refuse it.
func TestAdminPagesEdits(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	id := a.pending(t, "PE-1", "title", "Porter")
	a.api(t, atsgate.RoleReviewer, "POST", "/admin/api/jobs/"+itoa(id)+"/approve", nil).wantStatus(t, 200)
	a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", job("PE-1", "title", "Porter <i>x</i>",
		"description", `<p>Carry</p><img src=x onerror=steal()><a href="javascript:evil()">y</a>`)).wantStatus(t, 200)
	b := a.browser(t)
	csrf := b.signIn(a.tokens[atsgate.RoleReviewer])

	for _, page := range []string{"/admin/reviews", "/admin/jobs/" + itoa(id)} {
		_, html := b.page(page)
		for _, bad := range []string{"onerror", "steal()", "javascript:", "<i>x</i>"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s contains %q", page, bad)
			}
		}
		for _, want := range []string{`<table class="diff">`, "<p>Carry</p>", "Porter &lt;i&gt;x&lt;/i&gt;", "Approve"} {
			if !strings.Contains(html, want) {
				t.Errorf("%s lacks %q", page, want)
			}
		}
	}

	_, html := b.page("/admin/reviews")
	first := editIDRE.FindStringSubmatch(html)
	if first == nil {
		t.Fatalf("no edit form on the queue:\n%s", html)
	}
	res := b.post("/admin/jobs/"+itoa(id)+"/disapprove", url.Values{"csrf": {csrf}, "edit": {first[1]}, "reason": {"Broken markup"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=edit_disapproved") {
		t.Fatalf("disapprove form: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, html = b.page(res.Header.Get("Location"))
	if !strings.Contains(html, "was refused; the job stays as approved") || !strings.Contains(html, "No edit is waiting") {
		t.Errorf("queue after refusing lacks the message or still lists the edit:\n%s", html)
	}
	a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", partial("PE-1", "title", "Night porter")).wantStatus(t, 200)
	_, html = b.page("/admin/jobs/" + itoa(id))
	second := editIDRE.FindStringSubmatch(html)
	if second == nil {
		t.Fatalf("no edit form on the job page:\n%s", html)
	}
	// The employer replaces the edit after the reviewer read it: the form
	// of the edit read is refused, and nothing goes live.
	a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", partial("PE-1", "title", "Night porter!")).wantStatus(t, 200)
	if res := b.post("/admin/jobs/"+itoa(id)+"/approve", url.Values{"csrf": {csrf}, "edit": {second[1]}, "from": {"job"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("approving a replaced edit: %d, want 409", res.StatusCode)
	}
	if j := a.storedJob(t, a.acme.ID, "PE-1"); j.Title != "Porter" || !j.PendingEdit {
		t.Errorf("after refusing a stale approval: %+v", j)
	}
	a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", partial("PE-1", "title", "Night porter")).wantStatus(t, 200)
	_, html = b.page("/admin/jobs/" + itoa(id))
	second = editIDRE.FindStringSubmatch(html)
	res = b.post("/admin/jobs/"+itoa(id)+"/approve", url.Values{"csrf": {csrf}, "edit": {second[1]}, "from": {"job"}})
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/admin/jobs/"+itoa(id)+"?done=edit_approved") {
		t.Fatalf("approve form: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if j := a.storedJob(t, a.acme.ID, "PE-1"); j.Title != "Night porter" || j.PendingEdit {
		t.Errorf("after approving from the job page: %+v", j)
	}
}
