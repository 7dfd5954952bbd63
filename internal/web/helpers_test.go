package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/web"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// t0 is the instant every test starts at: 09:14:32 in Accra (UTC+0) and
// 10:14:32 in Lagos (UTC+1).
var t0 = time.Date(2026, 6, 18, 9, 14, 32, 0, time.UTC)

// clock is a settable time source shared by the store and the HTTP layer, so
// dates in responses are deterministic.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one fresh database with the countries gh and ng, and the public
// handler served over real HTTP.
type env struct {
	st      *store.Store
	clock   *clock
	handler http.Handler
	srv     *httptest.Server
	client  *http.Client
	gh, ng  *atsgate.Country
}

// newEnv sets up a fresh PostgreSQL database.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOn(t, "postgres")
}

func newEnvOn(t testing.TB, dialect string) *env {
	t.Helper()
	return newEnvAt(t, dbtest.URL(t, dialect))
}

// newEnvAt is newEnvOn on the database at url, which may hold a previous
// run's countries (a benchmark's kept database): gh and ng are created
// when missing and reused otherwise.
func newEnvAt(t testing.TB, url string) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{now: t0}
	// A minute, not the production bound: the storms check what is
	// stored, and a hundred requests queued on one wallet on a loaded
	// machine under the race detector can outlast a few seconds.
	st, err := store.Open(ctx, url, store.WithClock(clk.Now), store.WithTimeout(time.Minute))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	country := func(c atsgate.Country) *atsgate.Country {
		if got, err := st.Country(ctx, c.Code); err == nil {
			return got
		}
		got, err := st.CreateCountry(ctx, c)
		if err != nil {
			t.Fatalf("create country %s: %v", c.Code, err)
		}
		return got
	}
	gh := country(atsgate.Country{Code: "gh", Name: "Ghana", Hosts: []string{"gh.localhost"},
		Currency: "GHS", TimeZone: "Africa/Accra", Price: decimal.NewFromInt(50), PublicURL: "https://gh.example.test"})
	ng := country(atsgate.Country{Code: "ng", Name: "Nigeria", Hosts: []string{"ng.localhost"},
		Currency: "NGN", TimeZone: "Africa/Lagos", Price: decimal.NewFromInt(5000)})
	h := web.NewPublic(web.Deps{
		Directory: st,
		Jobs:      st,
		Site:      st,
		Taxonomy:  config.Taxonomy,
		Now:       clk.Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	// Every request and response is checked against the OpenAPI document.
	srv := httptest.NewServer(contract(t, "public", h))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 512
	t.Cleanup(tr.CloseIdleConnections)
	return &env{st: st, clock: clk, handler: h, srv: srv, client: &http.Client{Transport: tr}, gh: gh, ng: ng}
}

// employer is a provisioned employer and its current API key.
type employer struct {
	ID  int64
	Key string
	// Host is its country's host.
	Host string
}

type employerOpt func(*atsgate.EmployerInput)

func autoPublish(in *atsgate.EmployerInput) { in.AutoPublish = true }

func price(p string) employerOpt { return func(in *atsgate.EmployerInput) { in.Price = p } }

// employer creates an employer of the country with code cc, tops its wallet
// up with topup (skipped when "0") and issues its key.
func (e *env) employer(t testing.TB, cc, name, topup string, opts ...employerOpt) employer {
	t.Helper()
	ctx := context.Background()
	c := e.gh
	if cc == "ng" {
		c = e.ng
	}
	in := atsgate.EmployerInput{CountryID: c.ID, Name: name}
	for _, o := range opts {
		o(&in)
	}
	emp, err := e.st.CreateEmployer(ctx, in)
	if err != nil {
		t.Fatalf("create employer %s: %v", name, err)
	}
	if topup != "0" {
		e.topUp(t, emp.ID, topup)
	}
	key, _, err := e.st.IssueKey(ctx, emp.ID, false)
	if err != nil {
		t.Fatalf("issue key: %v", err)
	}
	return employer{ID: emp.ID, Key: key, Host: c.Hosts[0]}
}

func (e *env) topUp(t testing.TB, employerID int64, amount string) {
	t.Helper()
	if _, _, err := e.st.TopUp(context.Background(), employerID, decimal.RequireFromString(amount), "test", "top-up", ""); err != nil {
		t.Fatalf("top up: %v", err)
	}
}

// ledgerView is a statement with its entries, which the store streams
// rather than returns: a test's ledgers are small.
type ledgerView struct {
	*atsgate.Statement
	Entries []atsgate.LedgerEntry
}

// statement is the employer's whole ledger.
func (e *env) statement(t testing.TB, employerID int64) *ledgerView {
	t.Helper()
	ctx := context.Background()
	s, err := e.st.Statement(ctx, employerID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("statement: %v", err)
	}
	v := &ledgerView{Statement: s}
	if err := e.st.EachStatementEntry(ctx, employerID, time.Time{}, time.Time{}, s.LastID, func(le *atsgate.LedgerEntry) error {
		v.Entries = append(v.Entries, *le)
		return nil
	}); err != nil {
		t.Fatalf("statement entries: %v", err)
	}
	return v
}

// storedJob is the job as the store holds it, or nil when there is none.
func (e *env) storedJob(t testing.TB, employerID int64, externalID string) *atsgate.Job {
	t.Helper()
	j, err := e.st.Job(context.Background(), employerID, externalID)
	if atsgate.ErrorCode(err) == atsgate.ENOTFOUND {
		return nil
	}
	if err != nil {
		t.Fatalf("job %q: %v", externalID, err)
	}
	return j
}

// response is a fully read HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// request builds a request to the test server; key "" sends no
// Authorization header.
func (e *env) request(t testing.TB, method, target, host, key string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Host = host
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func (e *env) send(t testing.TB, req *http.Request) response {
	t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// call sends a request as emp to its own host. body may be a string (sent
// as is), []byte, or anything else (sent as JSON); nil sends no body.
func (e *env) call(t testing.TB, emp employer, method, target string, body any) response {
	t.Helper()
	return e.send(t, e.request(t, method, target, emp.Host, emp.Key, bodyOf(t, body)))
}

func bodyOf(t testing.TB, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	case []byte:
		return bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		return bytes.NewReader(j)
	}
}

// create posts a job and fails the test unless it is created.
func (e *env) create(t testing.TB, emp employer, body map[string]any) record {
	t.Helper()
	res := e.call(t, emp, http.MethodPost, "/api/ats/jobs", body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create %v: status %d, body %s", body["external_id"], res.Status, res.Body)
	}
	return res.record(t)
}

// job is a valid create body.
func job(externalID string, extra ...any) map[string]any {
	m := map[string]any{
		"external_id": externalID,
		"title":       "Software Engineer",
		"description": "We are looking for a software engineer to join our team.",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

// record is the wire form of a job.
type record struct {
	ExternalID        string `json:"external_id"`
	State             string `json:"state"`
	ReceivedDate      string `json:"received_date"`
	PublishedDate     string `json:"published_date"`
	PublicLink        string `json:"public_link"`
	AmountCharged     string `json:"amount_charged"`
	Title             string `json:"title"`
	Deadline          string `json:"deadline"`
	UpdatedDate       string `json:"updated_date"`
	ClosedDate        string `json:"closed_date"`
	DisapprovalReason string `json:"disapproval_reason"`
}

type listBody struct {
	Jobs       []record `json:"jobs"`
	NextCursor string   `json:"next_cursor"`
}

// apiError is the wire form of every error.
type apiError struct {
	Error struct {
		Code     string            `json:"code"`
		Message  string            `json:"message"`
		Fields   map[string]string `json:"fields"`
		Balance  string            `json:"balance"`
		Price    string            `json:"price"`
		Currency string            `json:"currency"`
	} `json:"error"`
}

func (r response) record(t testing.TB) record {
	t.Helper()
	var rec record
	r.decode(t, &rec)
	return rec
}

func (r response) list(t testing.TB) listBody {
	t.Helper()
	var l listBody
	r.decode(t, &l)
	return l
}

func (r response) err(t testing.TB) apiError {
	t.Helper()
	var e apiError
	r.decode(t, &e)
	if e.Error.Code == "" {
		t.Fatalf("status %d: body has no error.code: %s", r.Status, r.Body)
	}
	return e
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	// Unknown fields are allowed: the contract says more may be added.
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("status %d: decode %T: %v; body %s", r.Status, v, err, r.Body)
	}
}

// wantError checks the status and error code of a refusal.
func (r response) wantError(t testing.TB, status int, code string) apiError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	e := r.err(t)
	if e.Error.Code != code {
		t.Errorf("error.code = %q, want %q; body %s", e.Error.Code, code, r.Body)
	}
	if e.Error.Message == "" {
		t.Errorf("error.message is empty; body %s", r.Body)
	}
	if status != http.StatusUnprocessableEntity && len(e.Error.Fields) > 0 {
		t.Errorf("a %d carries fields (only 422 does): %s", status, r.Body)
	}
	return e
}

// wantStatus fails the test unless the status is want.
func (r response) wantStatus(t testing.TB, want int) response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status = %d, want %d; body %s", r.Status, want, r.Body)
	}
	return r
}

// golden compares got (indented) with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("indent %s: %v", got, err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
