package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web"
)

// TestERPAdminSources: operators add, read, rotate, disable and enable
// sources through the admin API (the key and secret answered once, and
// working at once); other roles may read or nothing; the page per source
// shows its sync status.
func TestERPAdminSources(t *testing.T) {
	a := newAdminEnv(t)
	pub := a.env.withDeps(t, func(d *web.Deps) { d.ERPSources, d.ERPJobs = a.st, a.st })
	e := &erpEnv{env: pub}

	body := map[string]any{"employer_id": a.acme.ID, "name": "Main_ERP", "trusted_ips": []string{"127.0.0.1", "::1"}, "require_signature": false}
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources", map[string]any{"employer_id": a.acme.ID, "name": "X", "trusted_ips": 7}).
		wantError(t, 422, atsgate.EINVALID)
	a.api(t, atsgate.RoleReviewer, "POST", "/admin/api/erp/sources", body).wantError(t, 403, atsgate.EFORBIDDEN)
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources", map[string]any{"employer_id": a.acme.ID, "name": "bad name"}).
		wantError(t, 422, atsgate.EINVALID)
	res := a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources", body).wantStatus(t, http.StatusCreated)
	var creds struct {
		Source struct {
			ID         int64    `json:"id"`
			Name       string   `json:"name"`
			TrustedIPs []string `json:"trusted_ips"`
			SyncStatus string   `json:"sync_status"`
		} `json:"source"`
		APIKey    string `json:"api_key"`
		APISecret string `json:"api_secret"`
	}
	res.decode(t, &creds)
	if creds.Source.Name != "Main_ERP" || creds.APIKey == "" || creds.APISecret == "" || creds.Source.SyncStatus != "IDLE" ||
		strings.Join(creds.Source.TrustedIPs, ",") != "127.0.0.1/32,::1/128" {
		t.Fatalf("created: %s", res.Body)
	}
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources", body).wantError(t, 409, atsgate.ECONFLICT)
	src := erpSource{ERPSource: atsgate.ERPSource{ID: creds.Source.ID, Name: "Main_ERP"}, Key: creds.APIKey, Host: a.acme.Host}
	e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "Welder")).wantERP(t, 201, "")

	id := itoa(creds.Source.ID)
	for _, role := range []atsgate.Role{atsgate.RoleOperator, atsgate.RoleReviewer, atsgate.RoleFinance} {
		got := a.api(t, role, "GET", "/admin/api/erp/sources/"+id, nil)
		if role == atsgate.RoleReviewer {
			got.wantError(t, 403, atsgate.EFORBIDDEN)
			continue
		}
		var s struct {
			SyncStatus    string `json:"sync_status"`
			LastSuccessAt string `json:"last_success_at"`
			KeyPrefix     string `json:"key_prefix"`
		}
		got.wantStatus(t, 200).decode(t, &s)
		if s.SyncStatus != "ACTIVE" || s.LastSuccessAt == "" || strings.Contains(string(got.Body), creds.APISecret) {
			t.Errorf("%s reads %s", role, got.Body)
		}
	}
	var list struct {
		Sources []json.RawMessage `json:"sources"`
	}
	a.api(t, atsgate.RoleOperator, "GET", "/admin/api/erp/sources?employer="+itoa(a.acme.ID), nil).wantStatus(t, 200).decode(t, &list)
	if len(list.Sources) != 1 {
		t.Errorf("list: %d sources", len(list.Sources))
	}
	a.api(t, atsgate.RoleOperator, "GET", "/admin/api/erp/sources?employer="+itoa(a.lagos.ID), nil).wantStatus(t, 200).decode(t, &list)
	if len(list.Sources) != 0 {
		t.Errorf("another employer's list: %d sources", len(list.Sources))
	}

	res = a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources/"+id+"/rotate", nil).wantStatus(t, 200)
	var rotated struct {
		APIKey string `json:"api_key"`
	}
	res.decode(t, &rotated)
	e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "Fitter")).wantERP(t, 401, "INVALID_API_KEY")
	src.Key = rotated.APIKey
	e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "Fitter")).wantERP(t, 201, "")
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources/"+id+"/disable", nil).wantStatus(t, 200)
	e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "Rigger")).wantERP(t, 401, "SOURCE_INACTIVE")
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources/"+id+"/enable", nil).wantStatus(t, 200)
	e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "Rigger")).wantERP(t, 201, "")
	a.api(t, atsgate.RoleOperator, "POST", "/admin/api/erp/sources/9999/rotate", nil).wantError(t, 404, atsgate.ENOTFOUND)

	// Both IDs find the ERP job in the back office: its number and its
	// ERP job ID (also its external_id).
	job := a.storedJob(t, a.acme.ID, "ACME-2026-0001")
	if job == nil {
		t.Fatal("no job ACME-2026-0001")
	}
	for _, path := range []string{itoa(job.ID), "ACME-2026-0001"} {
		var d struct {
			Job struct {
				ID         int64  `json:"id"`
				ExternalID string `json:"external_id"`
			} `json:"job"`
		}
		a.api(t, atsgate.RoleReviewer, "GET", "/admin/api/jobs/"+path, nil).wantStatus(t, 200).decode(t, &d)
		if d.Job.ID != job.ID || d.Job.ExternalID != "ACME-2026-0001" {
			t.Errorf("/admin/api/jobs/%s = %+v", path, d)
		}
	}
	a.api(t, atsgate.RoleReviewer, "GET", "/admin/api/jobs/ACME-2026-0999", nil).wantError(t, 404, atsgate.ENOTFOUND)

	// The pages: the list, adding one (credentials shown once), the page
	// per source with its sync status.
	b := a.browser(t)
	csrf := b.signIn(a.tokens[atsgate.RoleOperator])
	if code, html := b.page("/admin/erp/sources"); code != 200 || !strings.Contains(html, "Main_ERP") || !strings.Contains(html, "ACTIVE") {
		t.Errorf("sources page: %d\n%s", code, html)
	}
	resp := b.do("POST", "/admin/erp/sources", url.Values{"csrf": {csrf}, "employer": {itoa(a.acme.ID)}, "name": {"Backup_ERP"}})
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<code class="secret">(erp_gh_[0-9A-Za-z]+)</code>`).FindStringSubmatch(string(html))
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("add source page: %d\n%s", resp.StatusCode, html)
	}
	resp = b.do("POST", "/admin/erp/sources", url.Values{"csrf": {csrf}, "employer": {itoa(a.acme.ID)}, "name": {"Backup_ERP"}})
	resp.Body.Close()
	if resp.StatusCode != 422 {
		t.Errorf("a duplicate name: %d", resp.StatusCode)
	}
	if code, html := b.page("/admin/erp/sources/" + id); code != 200 || !strings.Contains(html, "Sync status") || !strings.Contains(html, "ACTIVE") {
		t.Errorf("source page: %d\n%s", code, html)
	}
	if resp := b.post("/admin/erp/sources/"+id+"/disable", url.Values{"csrf": {csrf}}); resp.StatusCode != 303 {
		t.Errorf("disable page: %d", resp.StatusCode)
	}
	if code, html := b.page("/admin/jobs/ACME-2026-0001"); code != 200 || !strings.Contains(html, "Welder") {
		t.Errorf("job page by ERP job ID: %d", code)
	}
}

// TestERPLogFilters: GET /admin/api/logs and the log page filter by
// dialect, source, action, status and date range.
func TestERPLogFilters(t *testing.T) {
	a := newAdminEnv(t)
	ctx := context.Background()
	entries := []atsgate.LogEntry{
		{Time: t0.Add(-48 * time.Hour), Dialect: atsgate.DialectERP, Source: "Main_ERP", Operation: "create_job", Status: 201, EmployerID: a.acme.ID},
		{Time: t0.Add(-time.Hour), Dialect: atsgate.DialectERP, Source: "Main_ERP", Operation: "create_job", Status: 409, ErrorCode: "JOB_EXISTS", EmployerID: a.acme.ID},
		{Time: t0.Add(-time.Hour), Dialect: atsgate.DialectERP, Source: "Other", Operation: "update_job", Status: 200, EmployerID: a.acme.ID},
		{Time: t0, Dialect: atsgate.DialectATS, Operation: "create", Status: 201, EmployerID: a.acme.ID},
	}
	if err := a.st.AppendLogs(ctx, entries); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		t.Helper()
		var l struct {
			Logs []struct {
				Source string `json:"source"`
				Action string `json:"action"`
			} `json:"logs"`
		}
		a.api(t, atsgate.RoleFinance, "GET", "/admin/api/logs?"+q, nil).wantStatus(t, 200).decode(t, &l)
		return len(l.Logs)
	}
	for q, want := range map[string]int{
		"":                                4,
		"dialect=erp":                     3,
		"dialect=ats":                     1,
		"source=Main_ERP":                 2,
		"action=ERROR":                    1,
		"action=RESPONSE":                 3,
		"action=REQUEST":                  4,
		"source=Main_ERP&action=RESPONSE": 1,
		"status=409":                      1,
		"dialect=erp&from=2026-06-18":     2,
		"dialect=erp&to=2026-06-16":       1,
		"dialect=erp&from=2026-06-16&to=2026-06-17": 1,
	} {
		if got := count(q); got != want {
			t.Errorf("logs?%s: %d entries, want %d", q, got, want)
		}
	}
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/logs?action=SENT", nil).wantError(t, 422, atsgate.EINVALID)
	a.api(t, atsgate.RoleFinance, "GET", "/admin/api/logs?dialect=soap", nil).wantError(t, 422, atsgate.EINVALID)
	b := a.browser(t)
	b.signIn(a.tokens[atsgate.RoleFinance])
	code, html := b.page("/admin/logs?dialect=erp&source=Main_ERP&action=ERROR")
	if code != 200 || !strings.Contains(html, "JOB_EXISTS") || strings.Contains(html, "source=Other") || !strings.Contains(html, `value="Main_ERP"`) {
		t.Errorf("log page: %d\n%s", code, html)
	}
}
