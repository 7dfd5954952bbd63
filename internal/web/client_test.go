package web_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/web"
	"github.com/atsgate/atsgate/pkg/atsgateclient"
)

// The Go client of pkg/atsgateclient against the real router and a real
// database.

func (e *env) goClient(t testing.TB, emp employer, base string, opts ...atsgateclient.Option) *atsgateclient.Client {
	t.Helper()
	if base == "" {
		base = e.srv.URL
	}
	opts = append([]atsgateclient.Option{atsgateclient.WithHost(emp.Host), atsgateclient.WithHTTPClient(e.client),
		atsgateclient.WithBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)
	c, err := atsgateclient.New(base, emp.Key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantAPIError(t testing.TB, err error, status int, code string) *atsgateclient.APIError {
	t.Helper()
	var ae *atsgateclient.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want an *APIError %d %s", err, err, status, code)
	}
	if ae.Status != status || ae.Code != code || ae.Message == "" {
		t.Fatalf("APIError = %+v, want %d %s with a message", ae, status, code)
	}
	return ae
}

func TestClientJobLifecycle(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	c := e.goClient(t, emp, "")
	ctx := context.Background()

	in := atsgateclient.JobInput{ExternalID: "C-1", Title: "Welder", Description: "Welds.", Deadline: "2026-09-30",
		MinExperience: atsgateclient.Ptr(2), States: []int{7}}
	j, err := c.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if j.ExternalID != "C-1" || j.State != atsgateclient.StatePendingReview || j.AmountCharged != "50" || j.Replayed {
		t.Errorf("created %+v", j)
	}
	again, err := c.Create(ctx, in)
	if err != nil || !again.Replayed || again.ReceivedDate != j.ReceivedDate {
		t.Errorf("second create = %+v, %v; want the stored job, replayed", again, err)
	}
	got, err := c.Get(ctx, "C-1")
	if err != nil || got.Title != "Welder" || got.Deadline != "2026-09-30" {
		t.Errorf("get = %+v, %v", got, err)
	}
	up, err := c.Update(ctx, atsgateclient.JobUpdate{ExternalID: "C-1", Title: atsgateclient.Ptr("Senior Welder")})
	if err != nil || up.Title != "Senior Welder" {
		t.Errorf("update = %+v, %v", up, err)
	}
	closed, err := c.Close(ctx, "C-1")
	if err != nil || closed.State != atsgateclient.StateClosed || closed.ClosedDate == "" {
		t.Errorf("close = %+v, %v", closed, err)
	}
	_, err = c.Update(ctx, atsgateclient.JobUpdate{ExternalID: "C-1", Title: atsgateclient.Ptr("Again")})
	wantAPIError(t, err, http.StatusConflict, atsgateclient.CodeConflict)
	_, err = c.Get(ctx, "nope")
	wantAPIError(t, err, http.StatusNotFound, atsgateclient.CodeNotFound)

	if got := e.statement(t, emp.ID).Balance.String(); got != "950" {
		t.Errorf("balance = %s, want 950 (one charge)", got)
	}
}

func TestClientErrorsAreTyped(t *testing.T) {
	e := newEnv(t)
	poor := e.employer(t, "gh", "Poor", "10")
	c := e.goClient(t, poor, "")
	ctx := context.Background()

	_, err := c.Create(ctx, atsgateclient.JobInput{ExternalID: "P-1", Title: "Welder", Description: "Welds."})
	ae := wantAPIError(t, err, http.StatusPaymentRequired, atsgateclient.CodeInsufficientFunds)
	if ae.Balance != "10" || ae.Price != "50" || ae.Currency != "GHS" {
		t.Errorf("402 carries balance %q price %q currency %q, want 10, 50, GHS", ae.Balance, ae.Price, ae.Currency)
	}
	_, err = c.Create(ctx, atsgateclient.JobInput{ExternalID: "P-2"})
	ae = wantAPIError(t, err, http.StatusUnprocessableEntity, atsgateclient.CodeValidationFailed)
	if ae.Fields["title"] == "" || ae.Fields["description"] == "" {
		t.Errorf("422 fields = %v, want title and description", ae.Fields)
	}
	bad := e.goClient(t, employer{Key: "mjm_gh_nosuchkey", Host: poor.Host}, "")
	_, err = bad.Get(ctx, "P-1")
	wantAPIError(t, err, http.StatusUnauthorized, atsgateclient.CodeUnauthorized)
	if e.storedJob(t, poor.ID, "P-1") != nil {
		t.Error("a refused create stored a job")
	}
}

func TestClientListIterates(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	c := e.goClient(t, emp, "")
	ctx := context.Background()
	for _, id := range []string{"L-1", "L-2", "L-3"} {
		e.create(t, emp, job(id))
	}
	var ids []string
	for j, err := range c.List(ctx, atsgateclient.ListOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ExternalID)
	}
	if got := len(ids); got != 3 || ids[0] != "L-3" || ids[2] != "L-1" {
		t.Errorf("listed %v, want L-3 L-2 L-1", ids)
	}
	// Stopping early stops fetching; a bad filter is one error.
	for range c.List(ctx, atsgateclient.ListOptions{Limit: 1}) {
		break
	}
	n := 0
	for j, err := range c.List(ctx, atsgateclient.ListOptions{State: "bogus"}) {
		n++
		if j != nil {
			t.Errorf("yielded a job with the error")
		}
		wantAPIError(t, err, http.StatusUnprocessableEntity, atsgateclient.CodeValidationFailed)
	}
	if n != 1 {
		t.Errorf("a failing list yielded %d times, want 1", n)
	}
}

func TestClientRateLimitState(t *testing.T) {
	e := newEnv(t).withDeps(t, func(d *web.Deps) {
		d.Limiter = ratelimit.NewLocal(time.Now)
		d.RateLimit = 2
	})
	emp := e.employer(t, "gh", "Acme", "1000")
	c := e.goClient(t, emp, "", atsgateclient.WithRetries(0))
	ctx := context.Background()
	if c.RateLimit().Known {
		t.Error("rate limit known before any request")
	}
	if _, err := c.ListPage(ctx, atsgateclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if rl := c.RateLimit(); !rl.Known || rl.Limit != 2 || rl.Remaining != 1 || rl.Reset <= 0 {
		t.Errorf("after one request: %+v, want limit 2, remaining 1", rl)
	}
	c.ListPage(ctx, atsgateclient.ListOptions{})
	_, err := c.ListPage(ctx, atsgateclient.ListOptions{})
	ae := wantAPIError(t, err, http.StatusTooManyRequests, atsgateclient.CodeRateLimited)
	if ae.RetryAfter < time.Second || c.RateLimit().Remaining != 0 {
		t.Errorf("429: Retry-After %v, state %+v", ae.RetryAfter, c.RateLimit())
	}
}

// TestClientRetriedCreateChargesOnce: the answers of a create are lost
// after the server committed it (the connection cut, then a 503 with
// Retry-After from a proxy); the client retries with the same external_id
// and the employer is charged once.
func TestClientRetriedCreateChargesOnce(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	var attempts atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := http.NewRequest(r.Method, e.srv.URL+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		out.Header = r.Header.Clone()
		out.Host = r.Host
		res, err := e.client.Do(out)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return
		}
		answer, _ := io.ReadAll(res.Body) // the server has answered: the create is committed
		res.Body.Close()
		switch attempts.Add(1) {
		case 1: // the answer is lost: the connection drops
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		case 2: // a gateway in the way answers 503
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":{"code":"unavailable","message":"try again"}}`))
		default:
			for k, v := range res.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(res.StatusCode)
			w.Write(answer)
		}
	}))
	defer proxy.Close()

	c := e.goClient(t, emp, proxy.URL)
	start := time.Now()
	j, err := c.Create(context.Background(), atsgateclient.JobInput{ExternalID: "R-1", Title: "Welder", Description: "Welds."})
	if err != nil {
		t.Fatalf("create through the lossy proxy: %v", err)
	}
	if n := attempts.Load(); n != 3 {
		t.Errorf("the server saw %d creates, want 3", n)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, before the 503's Retry-After of 1s", waited)
	}
	if !j.Replayed || j.ExternalID != "R-1" || j.AmountCharged != "50" {
		t.Errorf("job = %+v, want the stored job, replayed", j)
	}
	st := e.statement(t, emp.ID)
	charges := 0
	for _, le := range st.Entries {
		if le.Kind == atsgate.EntryJobCharge {
			charges++
		}
	}
	if charges != 1 || st.Balance.String() != "950" {
		t.Errorf("ledger has %d job charges and balance %s; want 1 and 950", charges, st.Balance)
	}
}

// TestClientGivesUpWithTheContext: a retry never outlives the caller's
// context.
func TestClientGivesUpWithTheContext(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	c := e.goClient(t, emp, down.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "X")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v; want the context's deadline, promptly", err, time.Since(start))
	}
}

// TestClientConcurrentRetriedCreatesChargeOnce: eight integrations send
// the same job at once through a proxy that loses every other answer
// after the server has committed; each retries until it hears back, and
// the employer pays for one job.
func TestClientConcurrentRetriedCreatesChargeOnce(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	var n atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, _ := http.NewRequest(r.Method, e.srv.URL+r.URL.RequestURI(), bytes.NewReader(body))
		out.Header = r.Header.Clone()
		out.Host = r.Host
		res, err := e.client.Do(out)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if n.Add(1)%2 == 1 {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		w.Write(answer)
	}))
	defer proxy.Close()

	const clients = 8
	jobs := make(chan *atsgateclient.Job, clients)
	errs := make(chan error, clients)
	for range clients {
		go func() {
			c := e.goClient(t, emp, proxy.URL, atsgateclient.WithRetries(10))
			j, err := c.Create(context.Background(), atsgateclient.JobInput{ExternalID: "SAME-1", Title: "Welder", Description: "Welds."})
			jobs <- j
			errs <- err
		}()
	}
	created := 0
	for range clients {
		if err := <-errs; err != nil {
			t.Fatalf("create: %v", err)
		}
		if j := <-jobs; !j.Replayed {
			created++
		}
	}
	if created > 1 {
		t.Errorf("%d clients were told they created the job", created)
	}
	st := e.statement(t, emp.ID)
	charges := 0
	for _, le := range st.Entries {
		if le.Kind == atsgate.EntryJobCharge {
			charges++
		}
	}
	if charges != 1 || st.Balance.String() != "950" {
		t.Errorf("ledger has %d job charges and balance %s after %d requests; want 1 and 950", charges, st.Balance, n.Load())
	}
}

// TestClientTypesMatchTheDocument: the client's job record and create
// body have exactly the fields of the OpenAPI document's Job and
// JobCreate, so the two cannot drift apart unnoticed.
func TestClientTypesMatchTheDocument(t *testing.T) {
	doc := loadOpenAPI(t, web.OpenAPISource())
	for _, c := range []struct {
		schema string
		v      any
	}{{"Job", atsgateclient.Job{}}, {"JobCreate", atsgateclient.JobInput{}}, {"JobUpdate", atsgateclient.JobUpdate{}}} {
		var want []string
		for name := range doc.Components.Schemas[c.schema].Value.Properties {
			want = append(want, name)
		}
		var got []string
		rt := reflect.TypeOf(c.v)
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				got = append(got, name)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%T fields %v\n  the document's %s: %v", c.v, got, c.schema, want)
		}
	}
}
