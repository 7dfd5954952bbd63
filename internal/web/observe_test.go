package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/intlog"
	"github.com/atsgate/atsgate/internal/metrics"
	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/web"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// obsEnv is a PostgreSQL database with one funded employer of gh, and both
// listeners wired with the integration log, metrics and a captured JSON log.
type obsEnv struct {
	st      *store.Store
	rec     *intlog.Recorder
	metrics *metrics.Metrics
	logs    *syncBuffer
	handler http.Handler // the public listener's
	public  *httptest.Server
	admin   *httptest.Server
	gh      *atsgate.Country
	empID   int64
	key     string
}

func newObsEnv(t testing.TB, tweak func(*web.Deps)) *obsEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbtest.PostgresURL(t))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	gh, err := st.CreateCountry(ctx, atsgate.Country{Code: "gh", Name: "Ghana", Hosts: []string{"gh.localhost"},
		Currency: "GHS", TimeZone: "Africa/Accra", Price: decimal.NewFromInt(50), PublicURL: "https://gh.example.test"})
	if err != nil {
		t.Fatalf("create country: %v", err)
	}
	emp, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: gh.ID, Name: "Observed Ltd"})
	if err != nil {
		t.Fatalf("create employer: %v", err)
	}
	if _, _, err := st.TopUp(ctx, emp.ID, decimal.NewFromInt(1000000), "test", "top-up", ""); err != nil {
		t.Fatalf("top up: %v", err)
	}
	key, _, err := st.IssueKey(ctx, emp.ID, false)
	if err != nil {
		t.Fatalf("issue key: %v", err)
	}
	logs := &syncBuffer{}
	m := metrics.New(prometheus.NewRegistry())
	m.WatchDB(st.DB())
	// The writer is not started: tests call Flush, so nothing races them.
	rec := intlog.New(st, intlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	m.WatchIntegrationLog(rec)
	d := web.Deps{
		Directory: st, Jobs: st, Taxonomy: config.Taxonomy, Now: time.Now,
		Logger:         slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		IntegrationLog: rec,
		Metrics:        m,
	}
	if tweak != nil {
		tweak(&d)
	}
	h := web.NewPublic(d)
	pub := httptest.NewServer(contract(t, "public", h))
	t.Cleanup(pub.Close)
	adm := httptest.NewServer(contract(t, "admin", web.NewAdmin(d)))
	t.Cleanup(adm.Close)
	return &obsEnv{st: st, rec: rec, metrics: m, logs: logs, handler: h, public: pub, admin: adm, gh: gh, empID: emp.ID, key: key}
}

// do sends a request to srv with Host gh.localhost; key "" sends none.
func (e *obsEnv) do(t testing.TB, srv *httptest.Server, method, target, key, body string, header ...string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+target, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "gh.localhost"
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// entries flushes the recorder and returns every stored entry, oldest first.
func (e *obsEnv) entries(t testing.TB) []atsgate.LogEntry {
	t.Helper()
	e.rec.Flush(context.Background())
	es, err := e.st.Logs(context.Background(), atsgate.LogFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// logLines parses the captured JSON log.
func (e *obsEnv) logLines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func validJob(id string) string {
	return `{"external_id":"` + id + `","title":"Software Engineer","description":"<p>Build things.</p>"}`
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestRequestID(t *testing.T) {
	t.Parallel()
	e := newObsEnv(t, nil)
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"none", "", false},
		{"plain", "req-42_a.B", true},
		{"uuid", "3f1c2d9e-8b7a-4c6d-9e0f-1a2b3c4d5e6f", true},
		{"max length", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"space", "a b", false},
		{"quote", `a"b`, false},
		{"log injection", "a\\nlevel=ERROR", false},
		{"unicode", "ünï", false},
	}
	for _, srv := range []struct {
		name string
		s    *httptest.Server
	}{{"public", e.public}, {"admin", e.admin}} {
		for _, tc := range tests {
			t.Run(srv.name+"/"+tc.name, func(t *testing.T) {
				var h []string
				if tc.in != "" {
					h = []string{"X-Request-ID", tc.in}
				}
				res, _ := e.do(t, srv.s, http.MethodGet, "/healthz", "", "", h...)
				got := res.Header.Get("X-Request-ID")
				switch {
				case tc.keep && got != tc.in:
					t.Errorf("X-Request-ID = %q, want the incoming %q echoed", got, tc.in)
				case !tc.keep && !generatedID.MatchString(got):
					t.Errorf("X-Request-ID = %q, want a generated ID for incoming %q", got, tc.in)
				}
			})
		}
	}
	// Each request gets its own ID, and errors carry it too.
	r1, _ := e.do(t, e.public, http.MethodGet, "/nowhere", "", "")
	r2, _ := e.do(t, e.public, http.MethodGet, "/nowhere", "", "")
	if r1.StatusCode != http.StatusNotFound || r1.Header.Get("X-Request-ID") == "" ||
		r1.Header.Get("X-Request-ID") == r2.Header.Get("X-Request-ID") {
		t.Errorf("404s: status %d, IDs %q and %q; want two different IDs",
			r1.StatusCode, r1.Header.Get("X-Request-ID"), r2.Header.Get("X-Request-ID"))
	}
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	e := newObsEnv(t, nil)
	_, secret, ok := atsgate.SplitAPIKey(e.key)
	if !ok {
		t.Fatalf("key %q is not key-shaped", e.key)
	}
	prefix := atsgate.KeyPrefix(e.key)
	wrong := strings.Replace(e.key, secret[len(secret)-6:], "ZZZZZZ", 1)

	res, _ := e.do(t, e.public, http.MethodPost, "/api/ats/jobs", e.key, validJob("LOG-1"), "X-Request-ID", "trace-1")
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d", res.StatusCode)
	}
	// Every place a client could put a key or a secret.
	e.do(t, e.public, http.MethodGet, "/api/ats/jobs?external_id=LOG-1&api_key="+e.key, e.key, "")
	e.do(t, e.public, http.MethodPost, "/api/ats/jobs", e.key, `{"external_id":"LOG-2","title":"`+e.key+`"}`)
	e.do(t, e.public, http.MethodGet, "/api/ats/jobs", wrong, "")
	e.do(t, e.public, http.MethodGet, "/api/ats/jobs", "", "", "X-API-Key", e.key, "Cookie", "session="+secret)
	e.do(t, e.public, http.MethodGet, "/api/ats/jobs/"+e.key, e.key, "")
	e.do(t, e.admin, http.MethodGet, "/healthz?token="+secret, e.key, "")

	out := e.logs.String()
	for what, s := range map[string]string{"key": e.key, "secret": secret, "secret tail": secret[8:],
		"wrong key": wrong, "Authorization": "Bearer", "header name": "Authorization"} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds the %s %q:\n%s", what, s, out)
		}
	}

	lines := e.logLines(t)
	var requests []map[string]any
	for _, l := range lines {
		if l["msg"] == "request" {
			requests = append(requests, l)
		}
	}
	if len(requests) != 7 {
		t.Fatalf("%d request lines, want 7 (one per request):\n%s", len(requests), out)
	}
	first := requests[0]
	want := map[string]any{
		"level": "INFO", "method": "POST", "path": "/api/ats/jobs", "status": float64(201),
		"request_id": "trace-1", "client_ip": "127.0.0.1", "country": "gh", "employer": float64(e.empID),
		"key_prefix": prefix, "operation": "create",
	}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("create line: %s = %v, want %v", k, first[k], v)
		}
	}
	if d, ok := first["duration_ms"].(float64); !ok || d <= 0 {
		t.Errorf("create line: duration_ms = %v, want a positive number", first["duration_ms"])
	}
	if _, ok := first["error_code"]; ok {
		t.Errorf("create line has an error_code: %v", first)
	}
	if got := requests[1]["path"]; got != "/api/ats/jobs?external_id=LOG-1&api_key=REDACTED" {
		t.Errorf("get line: path = %v", got)
	}
	unauth := requests[3]
	if unauth["status"] != float64(401) || unauth["error_code"] != "unauthorized" || unauth["employer"] != nil {
		t.Errorf("401 line: %v", unauth)
	}
}

func TestIntegrationLogCapture(t *testing.T) {
	t.Parallel()
	e := newObsEnv(t, nil)
	prefix := atsgate.KeyPrefix(e.key)
	type call struct {
		method, target, key, body string
		header                    []string
		status                    int
	}
	other, _, _, _ := atsgate.NewAPIKey("gh") // key-shaped, unknown
	calls := []call{
		{"POST", "/api/ats/jobs", e.key, validJob("CAP-1"), []string{"X-Request-ID", "cap-create"}, 201},
		{"POST", "/api/ats/jobs.php", e.key, validJob("CAP-1"), nil, 200},
		{"POST", "/api/ats/jobs", e.key, `{"external_id":"CAP-2","title":""}`, nil, 422},
		{"POST", "/api/ats/jobs", e.key, `{not json`, nil, 400},
		{"PUT", "/api/ats/jobs", e.key, `{"external_id":"CAP-1","title":"Senior Engineer"}`, nil, 200},
		{"GET", "/api/ats/jobs?external_id=CAP-1", e.key, "", nil, 200},
		{"GET", "/api/ats/jobs?external_id=NOPE", e.key, "", nil, 404},
		{"GET", "/api/ats/jobs?limit=1", e.key, "", nil, 200},
		{"POST", "/api/ats/jobs?action=close", e.key, `{"external_id":"CAP-1"}`, nil, 200},
		{"DELETE", "/api/ats/jobs", e.key, "", nil, 405},
		{"GET", "/api/ats/jobs", "", "", nil, 401},
		{"POST", "/api/ats/jobs", other, validJob("CAP-3"), nil, 401},
		{"GET", "/api/ats/jobs", e.key, "", []string{"Host", "nowhere.example"}, 404},
		{"GET", "/api/ats/nosuch", e.key, "", nil, 404},
		// Not API requests: not in the integration log.
		{"GET", "/api/ats/taxonomy", "", "", nil, 200},
		{"GET", "/healthz", "", "", nil, 200},
		{"GET", "/readyz", "", "", nil, 200},
	}
	var responses []string
	var ids []string
	for _, c := range calls {
		res, body := e.do(t, e.public, c.method, c.target, c.key, c.body, c.header...)
		if res.StatusCode != c.status {
			t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.target, res.StatusCode, c.status, body)
		}
		responses = append(responses, body)
		ids = append(ids, res.Header.Get("X-Request-ID"))
	}
	got := e.entries(t)
	type row struct {
		Op, ExternalID, ErrorCode, KeyPrefix string
		Status                               int
		Employer, Country                    bool
	}
	want := []row{
		{"create", "CAP-1", "", prefix, 201, true, true},
		{"create", "CAP-1", "", prefix, 200, true, true},
		{"create", "CAP-2", "validation_failed", prefix, 422, true, true},
		{"create", "", "invalid_json", prefix, 400, true, true},
		{"update", "CAP-1", "", prefix, 200, true, true},
		{"get", "CAP-1", "", prefix, 200, true, true},
		{"get", "NOPE", "not_found", prefix, 404, true, true},
		{"list", "", "", prefix, 200, true, true},
		{"close", "CAP-1", "", prefix, 200, true, true},
		{"invalid", "", "method_not_allowed", prefix, 405, true, true},
		{"list", "", "unauthorized", "", 401, false, true},
		{"create", "", "unauthorized", atsgate.KeyPrefix(other), 401, false, true},
		{"list", "", "unknown_host", prefix, 404, false, false},
		// No such endpoint: the jobs group's catch-all authenticates first.
		{"unknown", "", "not_found", prefix, 404, true, true},
	}
	if len(got) != len(want) {
		for _, g := range got {
			t.Logf("%+v", g)
		}
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		gr := row{g.Operation, g.ExternalID, g.ErrorCode, g.KeyPrefix, g.Status, g.EmployerID == e.empID, g.CountryID == e.gh.ID}
		if gr != w {
			t.Errorf("entry %d (%s %s):\n got %+v\nwant %+v", i, calls[i].method, calls[i].target, gr, w)
		}
		if g.Dialect != atsgate.DialectATS || g.Method != calls[i].method || g.ClientIP != "127.0.0.1" ||
			g.RequestID != ids[i] || g.Duration <= 0 || g.Time.IsZero() {
			t.Errorf("entry %d: dialect %q method %q ip %q request id %q (want %q) duration %v time %v",
				i, g.Dialect, g.Method, g.ClientIP, g.RequestID, ids[i], g.Duration, g.Time)
		}
		if g.RequestBody != calls[i].body && calls[i].key == e.key && g.CountryID != 0 && g.EmployerID != 0 {
			t.Errorf("entry %d: request body %q, want %q", i, g.RequestBody, calls[i].body)
		}
		if g.ResponseBody != responses[i] {
			t.Errorf("entry %d: response body %q, want %q", i, g.ResponseBody, responses[i])
		}
		if !strings.HasPrefix(g.Path, strings.SplitN(calls[i].target, "?", 2)[0]) {
			t.Errorf("entry %d: path %q, want %q", i, g.Path, calls[i].target)
		}
	}
	if got[0].RequestID != "cap-create" {
		t.Errorf("first entry's request ID = %q, want the client's cap-create", got[0].RequestID)
	}
}

func TestIntegrationLogBodies(t *testing.T) {
	t.Parallel()
	e := newObsEnv(t, nil)
	// A valid create whose body is over the logged size, and whose
	// description mentions the key itself.
	desc := e.key + " " + strings.Repeat("é", 20000)
	body := `{"external_id":"BIG-1","title":"Engineer","description":"` + desc + `"}`
	res, resBody := e.do(t, e.public, http.MethodPost, "/api/ats/jobs", e.key, body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", res.StatusCode, resBody)
	}
	got := e.entries(t)
	if len(got) != 1 {
		t.Fatalf("%d entries, want 1", len(got))
	}
	g := got[0]
	// Cut to the limit at a character boundary, then the key shortened to
	// its prefix.
	shorter := len(e.key) - len(atsgate.KeyPrefix(e.key))
	if n := len(g.RequestBody); n > atsgate.MaxLoggedBody-shorter || n < atsgate.MaxLoggedBody-shorter-1 {
		t.Errorf("request body: %d bytes stored, want the first %d less %d", n, atsgate.MaxLoggedBody, shorter)
	}
	if strings.Contains(g.RequestBody, e.key) {
		t.Errorf("the stored request body holds the key")
	}
	if !strings.Contains(g.RequestBody, atsgate.KeyPrefix(e.key)+" éé") {
		t.Errorf("the stored request body does not hold the key's prefix in its place: %.120s", g.RequestBody)
	}
	if !strings.HasPrefix(g.RequestBody, `{"external_id":"BIG-1"`) {
		t.Errorf("request body starts %.40q", g.RequestBody)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	e := newObsEnv(t, nil)
	e.do(t, e.public, http.MethodPost, "/api/ats/jobs", e.key, validJob("M-1"))
	e.do(t, e.public, http.MethodGet, "/api/ats/jobs?external_id=NOPE", e.key, "")
	e.metrics.RateLimitDecision("allowed")
	e.metrics.SetLimiterMode("local")
	e.rec.Record(atsgate.LogEntry{Status: 200}) // one queued, not yet written

	res, _ := e.do(t, e.public, http.MethodGet, "/metrics", "", "")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics: status %d, want 404", res.StatusCode)
	}
	res, body := e.do(t, e.admin, http.MethodGet, "/metrics", "", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("admin /metrics: status %d", res.StatusCode)
	}
	for _, want := range []string{
		`atsgate_http_requests_total{operation="create",route="/api/ats/jobs",status="201"} 1`,
		`atsgate_http_requests_total{operation="get",route="/api/ats/jobs",status="404"} 1`,
		`atsgate_http_requests_total{operation="",route="unmatched",status="404"} 1`, // the public /metrics,
		`atsgate_http_request_duration_seconds_count{operation="create",route="/api/ats/jobs"} 1`,
		`atsgate_http_request_duration_seconds_bucket{operation="create",route="/api/ats/jobs",le="+Inf"} 1`,
		`atsgate_rate_limit_decisions_total{result="allowed"} 1`,
		`atsgate_limiter_mode{mode="local"} 1`,
		`atsgate_limiter_mode{mode="redis"} 0`,
		"atsgate_integration_log_queue_depth 3",
		"atsgate_integration_log_dropped_total 0",
		"atsgate_integration_log_written_total 0",
		"atsgate_integration_log_write_errors_total 0",
		`go_sql_max_open_connections{db_name="atsgate"} 20`, // store.DefaultMaxConns
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	e.rec.Flush(context.Background())
	_, body = e.do(t, e.admin, http.MethodGet, "/metrics", "", "")
	if !strings.Contains(body, "atsgate_integration_log_written_total 3") ||
		!strings.Contains(body, "atsgate_integration_log_queue_depth 0") {
		t.Errorf("after a flush, want 3 written and 0 queued")
	}

	// Without metrics the admin listener has no /metrics either.
	bare := httptest.NewServer(web.NewAdmin(web.Deps{Directory: e.st, Jobs: e.st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer bare.Close()
	if res, _ := e.do(t, bare, http.MethodGet, "/metrics", "", ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("admin /metrics without Metrics: status %d, want 404", res.StatusCode)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	redisURL := dbtest.RedisURL(t)
	live, err := ratelimit.NewRedisClient(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close() })
	dead, err := ratelimit.NewRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	down, err := store.Open(context.Background(), dbtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	down.Close() // a database that no longer answers

	type checks struct {
		Status string `json:"status"`
		Checks struct {
			Database struct {
				Status    string   `json:"status"`
				LatencyMS *float64 `json:"latency_ms"`
			} `json:"database"`
			Redis struct {
				Status string `json:"status"`
			} `json:"redis"`
			Limiter string `json:"limiter"`
		} `json:"checks"`
	}
	tests := []struct {
		name        string
		tweak       func(*web.Deps)
		status      int
		overall     string
		db, redis   string
		limiter     string
		maxDuration time.Duration
	}{
		{"no redis", nil, 200, "ok", "ok", "not_configured", "local", time.Second},
		{"redis up", func(d *web.Deps) {
			d.PingRedis = func(ctx context.Context) error { return live.Ping(ctx).Err() }
		}, 200, "ok", "ok", "ok", "redis", time.Second},
		{"redis down", func(d *web.Deps) {
			d.PingRedis = func(ctx context.Context) error { return dead.Ping(ctx).Err() }
		}, 200, "degraded", "ok", "down", "degraded", time.Second},
		{"limiter reports degraded", func(d *web.Deps) {
			d.PingRedis = func(ctx context.Context) error { return live.Ping(ctx).Err() }
			d.LimiterMode = func() string { return "degraded" }
		}, 200, "degraded", "ok", "ok", "degraded", time.Second},
		{"database down", func(d *web.Deps) {
			d.PingDatabase = down.Ping
			d.PingRedis = func(ctx context.Context) error { return live.Ping(ctx).Err() }
		}, 503, "unavailable", "down", "ok", "redis", 2 * time.Second},
		{"database hangs", func(d *web.Deps) {
			d.PingDatabase = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		}, 503, "unavailable", "down", "not_configured", "local", 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newObsEnv(t, tc.tweak)
			for _, srv := range []*httptest.Server{e.public, e.admin} {
				res, body := e.do(t, srv, http.MethodGet, "/healthz", "", "")
				if res.StatusCode != 200 {
					t.Errorf("/healthz: status %d: %s", res.StatusCode, body)
				}
				start := time.Now()
				res, body = e.do(t, srv, http.MethodGet, "/readyz", "", "")
				if d := time.Since(start); d > tc.maxDuration {
					t.Errorf("/readyz took %v", d)
				}
				var c checks
				if err := json.Unmarshal([]byte(body), &c); err != nil {
					t.Fatalf("/readyz body %s: %v", body, err)
				}
				if res.StatusCode != tc.status || c.Status != tc.overall || c.Checks.Database.Status != tc.db ||
					c.Checks.Redis.Status != tc.redis || c.Checks.Limiter != tc.limiter {
					t.Errorf("/readyz = %d %s; want %d, status %s, database %s, redis %s, limiter %s",
						res.StatusCode, body, tc.status, tc.overall, tc.db, tc.redis, tc.limiter)
				}
				if c.Checks.Database.LatencyMS == nil {
					t.Errorf("/readyz database check has no latency_ms: %s", body)
				}
				if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "refused") {
					t.Errorf("/readyz shows error details: %s", body)
				}
			}
		})
	}
}
