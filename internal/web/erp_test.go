package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/web"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// memLog keeps the integration log entries the HTTP layer hands over, in
// memory: what Record recorded, without the batch writer's delay.
type memLog struct {
	mu      sync.Mutex
	entries []atsgate.LogEntry
}

func (m *memLog) Record(e atsgate.LogEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
}

func (m *memLog) all() []atsgate.LogEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]atsgate.LogEntry(nil), m.entries...)
}

// erpEnv is an env whose public handler serves the ERP dialect too, with
// deps changed by edits.
type erpEnv struct {
	*env
	log *memLog
}

func newERPEnv(t testing.TB, dialect string, edits ...func(*web.Deps)) *erpEnv {
	t.Helper()
	base := newEnvOn(t, dialect)
	log := &memLog{}
	e := base.withDeps(t, func(d *web.Deps) {
		d.Site = base.st
		d.ERPSources = base.st
		d.ERPJobs = base.st
		d.IntegrationLog = log
		d.PingDatabase = base.st.Ping
		for _, edit := range edits {
			edit(d)
		}
	})
	return &erpEnv{env: e, log: log}
}

// erpSource is a provisioned source with its credentials in clear.
type erpSource struct {
	atsgate.ERPSource
	Key, Secret, Host string
}

// source adds a source named name to emp.
func (e *erpEnv) source(t testing.TB, emp employer, name string, edit ...func(*atsgate.ERPSourceInput)) erpSource {
	t.Helper()
	in := atsgate.ERPSourceInput{EmployerID: emp.ID, Name: name}
	for _, f := range edit {
		f(&in)
	}
	src, key, secret, err := e.st.CreateERPSource(context.Background(), in)
	if err != nil {
		t.Fatalf("create source %s: %v", name, err)
	}
	return erpSource{ERPSource: *src, Key: key, Secret: secret, Host: emp.Host}
}

// erpResponse is the ERP envelope as a test reads it.
type erpResponse struct {
	Status         *string           `json:"status"`
	Message        string            `json:"message"`
	ErrorCode      string            `json:"error_code"`
	Errors         map[string]string `json:"errors"`
	Data           json.RawMessage   `json:"data"`
	ProcessingTime *float64          `json:"processing_time"`
}

type erpJobData struct {
	JobID         string `json:"job_id"`
	Title         string `json:"title"`
	Status        string `json:"status"`
	State         string `json:"state"`
	CreatedAt     string `json:"created_at"`
	UpdatedAt     string `json:"updated_at"`
	PublicLink    string `json:"public_link"`
	AmountCharged string `json:"amount_charged"`
	PendingEdit   bool   `json:"pending_edit"`
	Balance       string `json:"balance"`
	Price         string `json:"price"`
}

// erpCall posts (or gets, with a nil body) path under the ERP base URL,
// with the source's key in X-API-Key unless headers set it otherwise.
func (e *erpEnv) erpCall(t testing.TB, src erpSource, method, path string, body any, headers ...string) response {
	t.Helper()
	req := e.request(t, method, "/recruitment/integration/erp/"+path, src.Host, "", bodyOf(t, body))
	if src.Key != "" {
		req.Header.Set("X-API-Key", src.Key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(t, req)
}

// envelope decodes an ERP response and checks the envelope's fields.
func (r response) envelope(t testing.TB) erpResponse {
	t.Helper()
	var env erpResponse
	r.decode(t, &env)
	if env.Status == nil || env.ProcessingTime == nil || env.Message == "" {
		t.Fatalf("status %d: not an ERP envelope (status, message, processing_time): %s", r.Status, r.Body)
	}
	return env
}

// wantERP checks an ERP response's HTTP status and, for errors, its code.
func (r response) wantERP(t testing.TB, status int, code string) erpResponse {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	env := r.envelope(t)
	want := "success"
	if status >= 400 {
		want = "error"
	}
	if *env.Status != want || env.ErrorCode != code {
		t.Fatalf("status %q, error_code %q; want %q, %q; body %s", *env.Status, env.ErrorCode, want, code, r.Body)
	}
	return env
}

func (r erpResponse) job(t testing.TB) erpJobData {
	t.Helper()
	var d erpJobData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatalf("data: %v: %s", err, r.Data)
	}
	return d
}

// erpJob is a valid create body for source.
func erpJob(source, title string, extra ...any) map[string]any {
	m := map[string]any{"action": "create_job", "source_name": source, "title": title,
		"application_url": "https://careers.example.com/job/1"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func eachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range []string{"postgres", "sqlite"} {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// TestERPSeedCurlExamples sends the seed's curl requests as written
// (headers and bodies byte for byte; only the host and key are ours):
// health, create, and update with the job ID the create returned.
func TestERPSeedCurlExamples(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newERPEnv(t, dialect)
		e.clock.Set(time.Date(2025, 10, 6, 14, 30, 0, 0, time.UTC))
		emp := e.employer(t, "gh", "KAAUH", "500", autoPublish)
		src := e.source(t, emp, "Main_ERP")

		// curl -X GET https://your-ats-domain.com/recruitment/integration/erp/health/
		res := e.send(t, e.request(t, http.MethodGet, "/recruitment/integration/erp/health/", emp.Host, "", nil))
		var h struct {
			Status    string `json:"status"`
			Timestamp string `json:"timestamp"`
			Services  struct {
				ERPIntegration string `json:"erp_integration"`
				Database       string `json:"database"`
			} `json:"services"`
		}
		res.wantStatus(t, http.StatusOK).decode(t, &h)
		if h.Status != "healthy" || h.Timestamp != "2025-10-06T14:30:00Z" || h.Services.ERPIntegration != "available" || h.Services.Database != "connected" {
			t.Errorf("health = %+v", h)
		}

		create := `{
"action": "create_job",
"source_name": "Main_ERP",
"title": "Senior Software Engineer",
"department": "Information Technology",
"job_type": "full-time",
"workplace_type": "hybrid",
"location_city": "Riyadh",
"location_country": "Saudi Arabia",
"description": "We are looking for an experienced software engineer...",
"application_url": "https://careers.yourcompany.com/job/12345",
"auto_publish": true
}`
		res = e.erpCall(t, src, http.MethodPost, "create-job/", create, "Content-Type", "application/json")
		env := res.wantERP(t, http.StatusCreated, "")
		d := env.job(t)
		if env.Message != "Job created successfully" || d.JobID != "KAAUH-2025-0001" || d.Title != "Senior Software Engineer" ||
			d.Status != "PUBLISHED" || d.CreatedAt != "2025-10-06T14:30:00Z" {
			t.Errorf("create: %s", res.Body)
		}
		stored := e.storedJob(t, emp.ID, d.JobID)
		if stored == nil || stored.Dialect != atsgate.DialectERP || stored.Extras["job_type"] != "FULL_TIME" ||
			stored.Extras["workplace_type"] != "HYBRID" || stored.Extras["location_country"] != "Saudi Arabia" {
			t.Errorf("stored job = %+v", stored)
		}

		e.clock.Advance(5 * time.Minute)
		update := `{
"action": "update_job",
"source_name": "Main_ERP",
"job_id": "KAAUH-2025-0001",
"salary_range": "SAR 20,000 - 28,000",
"application_deadline": "2026-01-15"
}`
		res = e.erpCall(t, src, http.MethodPost, "update-job/", update, "Content-Type", "application/json")
		env = res.wantERP(t, http.StatusOK, "")
		d = env.job(t)
		if env.Message != "Job updated successfully" || d.JobID != "KAAUH-2025-0001" || d.Status != "PUBLISHED" ||
			d.UpdatedAt != "2025-10-06T14:35:00Z" {
			t.Errorf("update: %s", res.Body)
		}
		stored = e.storedJob(t, emp.ID, d.JobID)
		if stored.Deadline != "2026-01-15" || stored.Extras["salary_range"] != "SAR 20,000 - 28,000" {
			t.Errorf("stored after update = %+v", stored)
		}
	})
}

// TestERPErrors is every row of the seed's error table and error
// dictionary, and the contract's additions, each in the envelope with
// the seed's status; none leaves a job or a charge behind.
func TestERPErrors(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newERPEnv(t, dialect, func(d *web.Deps) {
			d.Limiter = ratelimit.NewLocal(nil)
			d.RateLimit = 1000
			d.AuthFailureLimit = 1000
		})
		emp := e.employer(t, "gh", "Acme", "50")
		src := e.source(t, emp, "Main_ERP")
		locked := e.source(t, emp, "Locked", func(in *atsgate.ERPSourceInput) { in.TrustedIPs = "10.1.2.0/24" })
		off := e.source(t, emp, "Off")
		if _, err := e.st.SetERPSourceActive(context.Background(), off.ID, false); err != nil {
			t.Fatal(err)
		}
		ngEmp := e.employer(t, "ng", "Naija", "0")
		ngSrc := e.source(t, ngEmp, "NG_ERP")

		first := e.erpCall(t, src, http.MethodPost, "create-job/", erpJob("Main_ERP", "Accountant")).wantERP(t, http.StatusCreated, "").job(t)

		tests := []struct {
			name   string
			src    erpSource
			method string
			path   string
			body   any
			status int
			code   string
			field  string
		}{
			{"missing title", src, "POST", "create-job/", map[string]any{"action": "create_job", "source_name": "Main_ERP", "application_url": "https://x.example/1"}, 400, "MISSING_FIELD", "title"},
			{"missing application_url", src, "POST", "create-job/", map[string]any{"action": "create_job", "source_name": "Main_ERP", "title": "X"}, 400, "MISSING_FIELD", "application_url"},
			{"missing action", src, "POST", "create-job/", map[string]any{"source_name": "Main_ERP", "title": "X", "application_url": "https://x.example/1"}, 400, "MISSING_FIELD", "action"},
			{"missing source_name", src, "POST", "create-job/", map[string]any{"action": "create_job", "title": "X", "application_url": "https://x.example/1"}, 400, "MISSING_FIELD", "source_name"},
			{"missing job_id", src, "POST", "update-job/", map[string]any{"action": "update_job", "source_name": "Main_ERP"}, 400, "MISSING_FIELD", "job_id"},
			{"title not a string", src, "POST", "create-job/", erpJob("Main_ERP", "X", "title", 42), 400, "INVALID_TYPE", "title"},
			{"auto_publish not a boolean", src, "POST", "create-job/", erpJob("Main_ERP", "X", "auto_publish", "maybe"), 400, "INVALID_TYPE", "auto_publish"},
			{"bad job_type", src, "POST", "create-job/", erpJob("Main_ERP", "X", "job_type", "gig"), 400, "INVALID_TYPE", "job_type"},
			{"bad deadline", src, "POST", "create-job/", erpJob("Main_ERP", "X", "application_deadline", "31/12/2026"), 400, "INVALID_TYPE", "application_deadline"},
			{"past deadline", src, "POST", "create-job/", erpJob("Main_ERP", "X", "application_deadline", "2020-01-01"), 400, "INVALID_TYPE", "application_deadline"},
			{"wrong action", src, "POST", "create-job/", erpJob("Main_ERP", "X", "action", "update_job"), 400, "INVALID_TYPE", "action"},
			{"bad status", src, "POST", "update-job/", map[string]any{"action": "update_job", "source_name": "Main_ERP", "job_id": first.JobID, "status": "LIVE"}, 400, "INVALID_TYPE", "status"},
			{"invalid url", src, "POST", "create-job/", erpJob("Main_ERP", "X", "application_url", "careers page"), 400, "INVALID_URL", "application_url"},
			{"ftp url", src, "POST", "create-job/", erpJob("Main_ERP", "X", "application_url", "ftp://x.example/1"), 400, "INVALID_URL", "application_url"},
			{"invalid json", src, "POST", "create-job/", `{"action": "create_job",`, 400, "INVALID_JSON", ""},
			{"not an object", src, "POST", "create-job/", `[1,2]`, 400, "INVALID_JSON", ""},
			{"no key", erpSource{Host: src.Host}, "POST", "create-job/", erpJob("Main_ERP", "X"), 401, "INVALID_API_KEY", ""},
			{"unknown key", erpSource{Host: src.Host, Key: "erp_gh_" + strings.Repeat("A", 43)}, "POST", "create-job/", erpJob("Main_ERP", "X"), 401, "INVALID_API_KEY", ""},
			{"ATS key", erpSource{Host: src.Host, Key: emp.Key}, "POST", "create-job/", erpJob("Main_ERP", "X"), 401, "INVALID_API_KEY", ""},
			{"other country's key", erpSource{Host: src.Host, Key: ngSrc.Key}, "POST", "create-job/", erpJob("NG_ERP", "X"), 401, "INVALID_API_KEY", ""},
			{"inactive source", off, "POST", "create-job/", erpJob("Off", "X"), 401, "SOURCE_INACTIVE", ""},
			{"ip not trusted", locked, "POST", "create-job/", erpJob("Locked", "X"), 403, "IP_NOT_ALLOWED", ""},
			{"source not found", src, "POST", "create-job/", erpJob("Other_ERP", "X"), 404, "INVALID_SOURCE", ""},
			{"another source's name", src, "POST", "create-job/", erpJob("Locked", "X"), 404, "INVALID_SOURCE", ""},
			{"job not found", src, "POST", "update-job/", map[string]any{"action": "update_job", "source_name": "Main_ERP", "job_id": "ACME-2026-9999"}, 404, "JOB_NOT_FOUND", ""},
			{"unknown endpoint", src, "POST", "delete-job/", erpJob("Main_ERP", "X"), 404, "NOT_FOUND", ""},
			{"job exists", src, "POST", "create-job/", erpJob("Main_ERP", "  accountant "), 409, "JOB_EXISTS", ""},
			{"wrong method", src, "GET", "create-job/", nil, 405, "METHOD_NOT_ALLOWED", ""},
			{"insufficient funds", src, "POST", "create-job/", erpJob("Main_ERP", "Cashier"), 402, "INSUFFICIENT_FUNDS", ""},
			{"too large", src, "POST", "create-job/", erpJob("Main_ERP", "X", "description", strings.Repeat("a", 1<<20)), 413, "PAYLOAD_TOO_LARGE", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				res := e.erpCall(t, tc.src, tc.method, tc.path, tc.body)
				env := res.wantERP(t, tc.status, tc.code)
				if tc.field != "" && env.Errors[tc.field] == "" {
					t.Errorf("errors has no %s: %s", tc.field, res.Body)
				}
				switch tc.code {
				case "JOB_EXISTS":
					if d := env.job(t); d.JobID != first.JobID {
						t.Errorf("JOB_EXISTS data.job_id = %q, want %q", d.JobID, first.JobID)
					}
				case "INSUFFICIENT_FUNDS":
					if d := env.job(t); d.Balance != "0" || d.Price != "50" {
						t.Errorf("402 data = %s", env.Data)
					}
				case "METHOD_NOT_ALLOWED":
					if res.Header.Get("Allow") != "POST" {
						t.Errorf("Allow = %q", res.Header.Get("Allow"))
					}
				}
			})
		}
		page, err := e.st.ListJobs(context.Background(), emp.ID, atsgate.JobFilter{})
		if err != nil || len(page.Jobs) != 1 {
			t.Errorf("jobs after the refusals = %d (%v), want only the first", len(page.Jobs), err)
		}
		if v := e.statement(t, emp.ID); !v.ClosingBalance.IsZero() {
			t.Errorf("balance = %s, want 0 (one job charged, nothing else)", v.ClosingBalance)
		}
	})
}

// TestERPRateLimit: a source's key shares the per-key limit and its 429
// is in the envelope with Retry-After.
func TestERPRateLimit(t *testing.T) {
	e := newERPEnv(t, "postgres", func(d *web.Deps) {
		d.Limiter = ratelimit.NewLocal(nil)
		d.RateLimit = 2
	})
	emp := e.employer(t, "gh", "Acme", "500")
	src := e.source(t, emp, "Main_ERP")
	for i := 0; i < 2; i++ {
		e.erpCall(t, src, http.MethodPost, "update-job/", map[string]any{"action": "update_job", "source_name": "Main_ERP", "job_id": "X"}).
			wantERP(t, http.StatusNotFound, "JOB_NOT_FOUND")
	}
	res := e.erpCall(t, src, http.MethodPost, "create-job/", erpJob("Main_ERP", "X"))
	res.wantERP(t, http.StatusTooManyRequests, "RATE_LIMITED")
	if res.Header.Get("Retry-After") == "" || res.Header.Get("X-RateLimit-Limit") != "2" {
		t.Errorf("429 headers: %v", res.Header)
	}
}

// TestERPHealthDatabaseDown: / and /health/ say unhealthy with 503.
func TestERPHealthDatabaseDown(t *testing.T) {
	e := newERPEnv(t, "sqlite", func(d *web.Deps) {
		d.PingDatabase = func(context.Context) error { return fmt.Errorf("connection refused") }
	})
	for _, path := range []string{"/recruitment/integration/erp/health/", "/recruitment/integration/erp/health", "/recruitment/integration/erp/", "/recruitment/integration/erp"} {
		res := e.send(t, e.request(t, http.MethodGet, path, "gh.localhost", "", nil))
		var h struct {
			Status   string `json:"status"`
			Services struct {
				Database string `json:"database"`
			} `json:"services"`
			ProcessingTime *float64 `json:"processing_time"`
		}
		res.wantStatus(t, http.StatusServiceUnavailable).decode(t, &h)
		if h.Status != "unhealthy" || h.Services.Database != "disconnected" || h.ProcessingTime == nil {
			t.Errorf("%s: %s", path, res.Body)
		}
	}
	e.send(t, e.request(t, http.MethodGet, "/recruitment/integration/erp/health/", "nowhere.localhost", "", nil)).
		wantERP(t, http.StatusNotFound, "UNKNOWN_HOST")
	for _, path := range []string{"/recruitment/integration/erp/health/", "/recruitment/integration/erp"} {
		res := e.send(t, e.request(t, http.MethodPost, path, "gh.localhost", "", strings.NewReader("{}")))
		res.wantERP(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		if res.Header.Get("Allow") != "GET" {
			t.Errorf("%s: Allow = %q", path, res.Header.Get("Allow"))
		}
	}
}

// TestERPSignatures: a source that requires signatures takes a valid one
// and refuses stale, future, tampered-body and wrong-secret requests.
func TestERPSignatures(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newERPEnv(t, dialect)
		emp := e.employer(t, "gh", "Acme", "500")
		src := e.source(t, emp, "Signed", func(in *atsgate.ERPSourceInput) { in.RequireSignature = true })
		plain := e.source(t, emp, "Plain")
		now := e.clock.Now()
		sign := func(secret string, ts time.Time, body []byte) (string, string) {
			t := strconv.FormatInt(ts.Unix(), 10)
			return t, "sha256=" + atsgate.SignERP([]byte(secret), t, body)
		}
		body, _ := json.Marshal(erpJob("Signed", "Signed job"))
		ts, sig := sign(src.Secret, now, body)
		tampered := bytes.Replace(body, []byte("Signed job"), []byte("Signed jab"), 1)
		oldTS, oldSig := sign(src.Secret, now.Add(-301*time.Second), body)
		futTS, futSig := sign(src.Secret, now.Add(301*time.Second), body)
		_, wrongSig := sign(plain.Secret, now, body)
		tests := []struct {
			name   string
			body   []byte
			ts     string
			sig    string
			status int
			code   string
		}{
			{"unsigned", body, "", "", 401, "INVALID_SIGNATURE"},
			{"stale", body, oldTS, oldSig, 401, "INVALID_SIGNATURE"},
			{"future", body, futTS, futSig, 401, "INVALID_SIGNATURE"},
			{"tampered body", tampered, ts, sig, 401, "INVALID_SIGNATURE"},
			{"wrong secret", body, ts, wrongSig, 401, "INVALID_SIGNATURE"},
			{"not hex", body, ts, "sha256=zz", 401, "INVALID_SIGNATURE"},
			{"valid", body, ts, sig, 201, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e.erpCall(t, src, http.MethodPost, "create-job/", tc.body, "X-Timestamp", tc.ts, "X-Signature", tc.sig).
					wantERP(t, tc.status, tc.code)
			})
		}
		// 299 s off is inside the window.
		body2, _ := json.Marshal(erpJob("Signed", "Second"))
		ts2, sig2 := sign(src.Secret, now.Add(-299*time.Second), body2)
		e.erpCall(t, src, http.MethodPost, "create-job/", body2, "X-Timestamp", ts2, "X-Signature", sig2).wantERP(t, 201, "")
		// A source without the requirement ignores the headers.
		e.erpCall(t, plain, http.MethodPost, "create-job/", erpJob("Plain", "Unsigned")).wantERP(t, 201, "")
		if n := len(e.statement(t, emp.ID).Entries); n != 4 {
			t.Errorf("ledger entries = %d, want top-up and 3 charges", n)
		}
	})
}

// TestERPTrustedIPs: CIDRs and single addresses, IPv4 and IPv6, behind a
// trusted proxy; a forged X-Forwarded-For from an untrusted peer changes
// nothing.
func TestERPTrustedIPs(t *testing.T) {
	e := newERPEnv(t, "postgres", func(d *web.Deps) {
		d.TrustedProxies = []*net.IPNet{mustCIDR(t, "127.0.0.0/8")}
	})
	emp := e.employer(t, "gh", "Acme", "5000")
	src := e.source(t, emp, "Main_ERP", func(in *atsgate.ERPSourceInput) {
		in.TrustedIPs = "192.168.1.100, 10.0.0.0/8, 2001:db8::/32"
	})
	n := 0
	tests := []struct {
		xff    string
		status int
	}{
		{"192.168.1.100", 201},
		{"10.20.30.40", 201},
		{"2001:db8::1", 201},
		{"::ffff:10.1.1.1", 201},
		{"192.168.1.101", 403},
		{"2001:db9::1", 403},
		{"", 403},                      // 127.0.0.1 itself is not trusted by the source
		{"10.0.0.1, 203.0.113.9", 403}, // the proxy saw 203.0.113.9
	}
	for _, tc := range tests {
		t.Run(tc.xff, func(t *testing.T) {
			n++
			res := e.erpCall(t, src, http.MethodPost, "create-job/", erpJob("Main_ERP", fmt.Sprintf("Job %d", n)), "X-Forwarded-For", tc.xff)
			code := ""
			if tc.status == 403 {
				code = "IP_NOT_ALLOWED"
			}
			res.wantERP(t, tc.status, code)
		})
	}

	// Without trusted proxies, a peer's X-Forwarded-For is not believed.
	direct := newERPEnv(t, "sqlite")
	emp2 := direct.employer(t, "gh", "Acme", "500")
	src2 := direct.source(t, emp2, "Main_ERP", func(in *atsgate.ERPSourceInput) { in.TrustedIPs = "192.168.1.100" })
	direct.erpCall(t, src2, http.MethodPost, "create-job/", erpJob("Main_ERP", "Spoofed"), "X-Forwarded-For", "192.168.1.100").
		wantERP(t, http.StatusForbidden, "IP_NOT_ALLOWED")
	src3 := direct.source(t, emp2, "Loopback", func(in *atsgate.ERPSourceInput) { in.TrustedIPs = "127.0.0.1,::1" })
	direct.erpCall(t, src3, http.MethodPost, "create-job/", erpJob("Loopback", "Direct"), "X-Forwarded-For", "192.168.1.100").
		wantERP(t, http.StatusCreated, "")
}

// TestERPRotateAndDisable: the old key stops on the very next request.
func TestERPRotateAndDisable(t *testing.T) {
	e := newERPEnv(t, "postgres")
	emp := e.employer(t, "gh", "Acme", "500")
	src := e.source(t, emp, "Main_ERP")
	ok := map[string]any{"action": "update_job", "source_name": "Main_ERP", "job_id": "NONE"}
	e.erpCall(t, src, http.MethodPost, "update-job/", ok).wantERP(t, 404, "JOB_NOT_FOUND")
	_, key, _, err := e.st.RotateERPSource(context.Background(), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.erpCall(t, src, http.MethodPost, "update-job/", ok).wantERP(t, 401, "INVALID_API_KEY")
	rotated := src
	rotated.Key = key
	e.erpCall(t, rotated, http.MethodPost, "update-job/", ok).wantERP(t, 404, "JOB_NOT_FOUND")
	if _, err := e.st.SetERPSourceActive(context.Background(), src.ID, false); err != nil {
		t.Fatal(err)
	}
	e.erpCall(t, rotated, http.MethodPost, "update-job/", ok).wantERP(t, 401, "SOURCE_INACTIVE")
	if _, err := e.st.SetERPSourceActive(context.Background(), src.ID, true); err != nil {
		t.Fatal(err)
	}
	e.erpCall(t, rotated, http.MethodPost, "update-job/", ok).wantERP(t, 404, "JOB_NOT_FOUND")
	// The query parameter works as well as the header.
	res := e.send(t, e.request(t, http.MethodPost, "/recruitment/integration/erp/update-job?api_key="+key, emp.Host, "", bodyOf(t, ok)))
	res.wantERP(t, 404, "JOB_NOT_FOUND")
	for _, le := range e.log.all() {
		if strings.Contains(le.Path, key) || strings.Contains(le.Path, key[7:]) {
			t.Errorf("the key is in the logged path %q", le.Path)
		}
	}
}

// TestERPUpdateStatuses: CLOSED and ARCHIVED close, PUBLISHED never
// bypasses review, DRAFT on a published job is refused, and an edit of a
// published job of a reviewed employer waits for review.
func TestERPUpdateStatuses(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newERPEnv(t, dialect)
		emp := e.employer(t, "gh", "Acme", "500")
		src := e.source(t, emp, "Main_ERP")
		upd := func(jobID string, kv ...any) map[string]any {
			m := map[string]any{"action": "update_job", "source_name": "Main_ERP", "job_id": jobID}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		env := e.erpCall(t, src, http.MethodPost, "create-job/", erpJob("Main_ERP", "Driver", "auto_publish", true)).wantERP(t, 201, "")
		d := env.job(t)
		if d.Status != "DRAFT" || !strings.Contains(env.Message, "review") {
			t.Errorf("auto_publish without the employer's right: %+v %q", d, env.Message)
		}
		d = e.erpCall(t, src, http.MethodPost, "update-job/", upd(d.JobID, "status", "PUBLISHED")).wantERP(t, 200, "").job(t)
		if d.Status != "DRAFT" {
			t.Errorf("PUBLISHED bypassed review: %+v", d)
		}
		job := e.storedJob(t, emp.ID, d.JobID)
		if _, err := e.st.Approve(context.Background(), job.ID, "admin:test"); err != nil {
			t.Fatal(err)
		}
		e.erpCall(t, src, http.MethodPost, "update-job/", upd(d.JobID, "status", "DRAFT")).wantERP(t, 409, "INVALID_STATUS")
		d = e.erpCall(t, src, http.MethodPost, "update-job/", upd(d.JobID, "title", "Senior Driver")).wantERP(t, 200, "").job(t)
		if !d.PendingEdit || d.Title != "Driver" || d.Status != "PUBLISHED" {
			t.Errorf("edit of a published job: %+v", d)
		}
		d = e.erpCall(t, src, http.MethodPost, "update-job/", upd(d.JobID, "status", "CLOSED")).wantERP(t, 200, "").job(t)
		if d.Status != "CLOSED" || d.State != "closed" {
			t.Errorf("CLOSED: %+v", d)
		}
		e.erpCall(t, src, http.MethodPost, "update-job/", upd(d.JobID, "status", "PUBLISHED")).wantERP(t, 409, "INVALID_STATUS")
		// A closed title no longer blocks a new job with it.
		d2 := e.erpCall(t, src, http.MethodPost, "create-job/", erpJob("Main_ERP", "driver")).wantERP(t, 201, "").job(t)
		d2 = e.erpCall(t, src, http.MethodPost, "update-job/", upd(d2.JobID, "status", "ARCHIVED")).wantERP(t, 200, "").job(t)
		if d2.Status != "ARCHIVED" || d2.State != "closed" {
			t.Errorf("ARCHIVED: %+v", d2)
		}
		page, err := e.st.ListJobs(context.Background(), emp.ID, atsgate.JobFilter{})
		if err != nil || len(page.Jobs) != 1 || page.Jobs[0].ExternalID != d.JobID {
			t.Errorf("list after archiving = %+v, %v; want only the closed job", page, err)
		}
	})
}

// TestERPBatch: mixed outcomes in order, each create charged on its own,
// a wallet that runs out part-way, and the 100-operation limit.
func TestERPBatch(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newERPEnv(t, dialect)
		emp := e.employer(t, "gh", "Acme", "100", autoPublish) // two jobs' worth
		src := e.source(t, emp, "Main_ERP")
		ops := []any{
			erpJob("", "One"),
			erpJob("", "One"), // JOB_EXISTS
			map[string]any{"action": "create_job", "title": "No URL"},
			erpJob("", "Two"),
			map[string]any{"action": "update_job", "job_id": "ACME-2026-0001", "salary_range": "GHS 3,000"},
			erpJob("", "Three"), // the wallet is empty by now
			map[string]any{"action": "delete_job"},
		}
		for _, op := range ops {
			delete(op.(map[string]any), "source_name")
		}
		res := e.erpCall(t, src, http.MethodPost, "batch/", map[string]any{"action": "batch", "source_name": "Main_ERP", "operations": ops})
		env := res.wantERP(t, http.StatusOK, "")
		var data struct {
			Results []struct {
				Index      int    `json:"index"`
				HTTPStatus int    `json:"http_status"`
				Status     string `json:"status"`
				ErrorCode  string `json:"error_code"`
				Data       struct {
					JobID string `json:"job_id"`
				} `json:"data"`
				ProcessingTime *float64 `json:"processing_time"`
			} `json:"results"`
			Succeeded, Failed int
		}
		if err := json.Unmarshal(env.Data, &data); err != nil {
			t.Fatal(err)
		}
		want := []struct {
			status int
			code   string
			jobID  string
		}{{201, "", "ACME-2026-0001"}, {409, "JOB_EXISTS", "ACME-2026-0001"}, {400, "MISSING_FIELD", ""},
			{201, "", "ACME-2026-0002"}, {200, "", "ACME-2026-0001"}, {402, "INSUFFICIENT_FUNDS", ""}, {400, "INVALID_TYPE", ""}}
		if len(data.Results) != len(want) {
			t.Fatalf("results = %d, want %d: %s", len(data.Results), len(want), res.Body)
		}
		for i, w := range want {
			r := data.Results[i]
			if r.Index != i || r.HTTPStatus != w.status || r.ErrorCode != w.code || r.Data.JobID != w.jobID || r.ProcessingTime == nil {
				t.Errorf("result %d = %+v, want %+v", i, r, w)
			}
		}
		if data.Succeeded != 3 || data.Failed != 4 {
			t.Errorf("succeeded %d, failed %d", data.Succeeded, data.Failed)
		}
		v := e.statement(t, emp.ID)
		if len(v.Entries) != 3 || !v.ClosingBalance.IsZero() {
			t.Errorf("ledger: %d entries, closing %s; want top-up and two charges, 0", len(v.Entries), v.ClosingBalance)
		}

		many := make([]any, atsgate.MaxBatchOperations+1)
		for i := range many {
			many[i] = erpJob("Main_ERP", fmt.Sprint("Job ", i))
		}
		env = e.erpCall(t, src, http.MethodPost, "batch", map[string]any{"action": "batch", "source_name": "Main_ERP", "operations": many}).
			wantERP(t, http.StatusBadRequest, "BATCH_TOO_LARGE")
		if !strings.Contains(env.Message, "100") {
			t.Errorf("message does not name the limit: %q", env.Message)
		}
		e.erpCall(t, src, http.MethodPost, "batch/", map[string]any{"action": "batch", "source_name": "Other", "operations": ops}).
			wantERP(t, http.StatusNotFound, "INVALID_SOURCE")
	})
}

// TestERPPublicSite: a published ERP job is on the country's site, and
// both of its IDs (ERP job ID, ATS external_id) name it.
func TestERPPublicSite(t *testing.T) {
	e := newERPEnv(t, "postgres")
	emp := e.employer(t, "gh", "Acme", "500", autoPublish)
	src := e.source(t, emp, "Main_ERP")
	d := e.erpCall(t, src, http.MethodPost, "create-job/", erpJob("Main_ERP", "Harbour Pilot", "auto_publish", true, "description", "<p>Steer ships.</p>")).
		wantERP(t, 201, "").job(t)
	if d.Status != "PUBLISHED" || d.PublicLink == "" {
		t.Fatalf("create: %+v", d)
	}
	listing := e.send(t, e.request(t, http.MethodGet, "/", emp.Host, "", nil)).wantStatus(t, http.StatusOK)
	if !strings.Contains(string(listing.Body), "Harbour Pilot") {
		t.Errorf("the listing does not show the ERP job")
	}
	path := strings.TrimPrefix(d.PublicLink, "https://gh.example.test")
	page := e.send(t, e.request(t, http.MethodGet, path, emp.Host, "", nil)).wantStatus(t, http.StatusOK)
	if !strings.Contains(string(page.Body), "Steer ships.") {
		t.Errorf("the job page does not show the description")
	}
	// The ATS dialect finds it by the same ID.
	rec := e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id="+d.JobID, nil).wantStatus(t, http.StatusOK).record(t)
	if rec.Title != "Harbour Pilot" || rec.State != "published" {
		t.Errorf("ATS get = %+v", rec)
	}
}

// TestGzipBodies: both dialects take gzip bodies; the limit is on the
// inflated size, a bomb is refused without being inflated, and a broken
// stream is a 400 with a stable code.
func TestGzipBodies(t *testing.T) {
	e := newERPEnv(t, "sqlite")
	emp := e.employer(t, "gh", "Acme", "500")
	src := e.source(t, emp, "Main_ERP")
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	jsonOf := func(v any) []byte { b, _ := json.Marshal(v); return b }
	bomb := gz(bytes.Repeat([]byte(" "), 64<<20)) // 64 MiB of spaces in ~64 KiB
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}

	atsSend := func(body []byte, enc string) response {
		req := e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key, bytes.NewReader(body))
		req.Header.Set("Content-Encoding", enc)
		return e.send(t, req)
	}
	atsSend(gz(jsonOf(job("GZ-1"))), "gzip").wantStatus(t, http.StatusCreated)
	atsSend(bomb, "gzip").wantError(t, http.StatusRequestEntityTooLarge, atsgate.ETOOLARGE)
	atsSend([]byte("not gzip at all"), "gzip").wantError(t, http.StatusBadRequest, atsgate.EINVALIDENCODING)
	atsSend(gz(jsonOf(job("GZ-2")))[:40], "gzip").wantError(t, http.StatusBadRequest, atsgate.EINVALIDENCODING)
	atsSend(jsonOf(job("GZ-3")), "br").wantError(t, http.StatusBadRequest, atsgate.EINVALIDENCODING)

	erpSend := func(body []byte) response {
		return e.erpCall(t, src, http.MethodPost, "create-job/", body, "Content-Encoding", "gzip")
	}
	erpSend(gz(jsonOf(erpJob("Main_ERP", "Zipped")))).wantERP(t, http.StatusCreated, "")
	erpSend(bomb).wantERP(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	erpSend([]byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}).wantERP(t, http.StatusBadRequest, "INVALID_ENCODING")
	// Just under the limit inflated is fine; a byte over is not.
	under := jsonOf(erpJob("Main_ERP", "Big", "description", "x"))
	pad := (1 << 20) - len(under)
	big := append(bytes.Repeat([]byte(" "), pad), under...)
	erpSend(gz(big)).wantERP(t, http.StatusCreated, "")
	erpSend(gz(append([]byte(" "), big...))).wantERP(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
}

// TestERPIntegrationLog: ERP requests are recorded with dialect erp, the
// source's name and the seed's operation names, refusals included, and
// the health checks are not.
func TestERPIntegrationLog(t *testing.T) {
	e := newERPEnv(t, "postgres")
	emp := e.employer(t, "gh", "Acme", "500")
	src := e.source(t, emp, "Main_ERP")
	e.send(t, e.request(t, http.MethodGet, "/recruitment/integration/erp/health/", emp.Host, "", nil)).wantStatus(t, 200)
	e.erpCall(t, src, http.MethodPost, "create-job/", erpJob("Main_ERP", "Logged")).wantERP(t, 201, "")
	e.erpCall(t, erpSource{Host: emp.Host, Key: "erp_gh_" + strings.Repeat("B", 43)}, http.MethodPost, "update-job", `{}`).wantERP(t, 401, "INVALID_API_KEY")
	e.erpCall(t, src, http.MethodPost, "batch/", `{"action":"batch","source_name":"Main_ERP","operations":[]}`).wantERP(t, 400, "MISSING_FIELD")
	e.erpCall(t, src, http.MethodGet, "batch/", nil).wantERP(t, 405, "METHOD_NOT_ALLOWED")
	got := e.log.all()
	want := []struct {
		op, source string
		status     int
	}{{"create_job", "Main_ERP", 201}, {"update_job", "", 401}, {"batch", "Main_ERP", 400}, {"invalid", "Main_ERP", 405}}
	if len(got) != len(want) {
		t.Fatalf("log has %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Dialect != atsgate.DialectERP || g.Operation != w.op || g.Source != w.source || g.Status != w.status {
			t.Errorf("entry %d = %s/%s/%s/%d, want erp/%s/%s/%d", i, g.Dialect, g.Operation, g.Source, g.Status, w.op, w.source, w.status)
		}
	}
	if got[0].ExternalID != "ACME-2026-0001" || got[1].KeyPrefix != "erp_gh_BBBB" || !strings.Contains(got[0].RequestBody, "Logged") {
		t.Errorf("entry details: %+v / %+v", got[0], got[1])
	}
	// The sync status followed: the last request of the source failed.
	s, err := e.st.ERPSource(context.Background(), src.ID)
	if err != nil || s.SyncStatus != atsgate.SyncError || s.LastFailureCode != "METHOD_NOT_ALLOWED" || s.LastSuccessAt.IsZero() {
		t.Errorf("source after the requests = %+v, %v", s, err)
	}
}

var _ = io.Discard

// TestGzipBombIsNotInflated: reading a 256 MiB gzip bomb allocates about
// the 1 MiB limit, not the inflated size.
func TestGzipBombIsNotInflated(t *testing.T) {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 256; i++ {
		w.Write(zeros)
	}
	w.Close()
	bomb := buf.Bytes()
	read := func() error {
		req := httptest.NewRequest(http.MethodPost, "/api/ats/jobs", bytes.NewReader(bomb))
		req.Header.Set("Content-Encoding", "gzip")
		c := echo.New().NewContext(req, httptest.NewRecorder())
		_, err := mw.ReadBody(c)
		return err
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := read()
	runtime.ReadMemStats(&after)
	if atsgate.ErrorCode(err) != atsgate.ETOOLARGE {
		t.Fatalf("ReadBody(bomb of %d bytes) = %v, want payload_too_large", len(bomb), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("reading the bomb allocated %d MiB", alloc>>20)
	}
}
