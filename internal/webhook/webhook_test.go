package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/seal"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/webhook"
	"github.com/atsgate/atsgate/internal/wire"
)

// verify is what a receiver does (docs/webhooks.md), written here from
// the docs and not from the package: split the header, recompute the HMAC
// over "t.body", compare in constant time, refuse an old timestamp.
func verify(secret, header string, body []byte, now time.Time) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("malformed signature header %q", header)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("signature timestamp %s is too far from now", time.Unix(sec, 0))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errors.New("signature mismatch")
	}
	return nil
}

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// env is a migrated store with one auto-publishing employer that has
// money, and the webhook service over it.
type env struct {
	st  *store.Store
	svc *webhook.Service
	box *seal.Box
	p   *atsgate.Principal
	c   *atsgate.Country
	clk *clock
}

func newEnv(t *testing.T, dialect string, clk *clock) *env {
	t.Helper()
	ctx := context.Background()
	opts := []store.Option{store.WithTimeout(time.Minute)}
	if clk != nil {
		opts = append(opts, store.WithClock(clk.Now))
	}
	st, err := store.Open(ctx, dbtest.URL(t, dialect), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateCountry(ctx, atsgate.Country{Code: "gh", Name: "Ghana", Hosts: []string{"gh.localhost"}, Currency: "GHS",
		TimeZone: "Africa/Accra", Price: decimal.NewFromInt(50), PublicURL: "https://gh.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: c.ID, Name: "Acme", AutoPublish: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.TopUp(ctx, e.ID, decimal.NewFromInt(100000), "test", "", ""); err != nil {
		t.Fatal(err)
	}
	key, _, err := st.IssueKey(ctx, e.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Authenticate(ctx, atsgate.HashAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(seal.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	svc := &webhook.Service{Store: st, Box: box, AllowHTTP: true, AllowPrivate: true}
	return &env{st: st, svc: svc, box: box, p: p, c: c, clk: clk}
}

func (e *env) hook(t *testing.T, url string) string {
	t.Helper()
	_, secret, err := e.svc.SetWebhook(context.Background(), e.p.Employer.ID, atsgate.WebhookInput{URL: url,
		Events: []atsgate.EventType{atsgate.EventJobPublished, atsgate.EventJobClosed}})
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("SetWebhook: secret %q, %v", secret, err)
	}
	return secret
}

func (e *env) create(t *testing.T, externalID string) {
	t.Helper()
	title, desc := "Go Engineer", "<p>Build it.</p>"
	if _, _, err := e.st.CreateJob(context.Background(), e.p, atsgate.JobInput{ExternalID: externalID, Title: &title, Description: &desc}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) worker(client *http.Client) *webhook.Worker {
	w := &webhook.Worker{Outbox: e.st, Box: e.box, Client: client, Jitter: func() float64 { return 0.5 }}
	if e.clk != nil {
		w.Now = e.clk.Now
	}
	return w
}

// received is what a test receiver saw.
type received struct {
	mu     sync.Mutex
	events []wire.WebhookEvent
	errs   []error
	byID   map[string]int
}

func (r *received) handler(secret string, now func() time.Time, status func() int) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.byID == nil {
			r.byID = map[string]int{}
		}
		if err := verify(secret, req.Header.Get("Atsgate-Signature"), body, now()); err != nil {
			r.errs = append(r.errs, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var ev wire.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			r.errs = append(r.errs, err)
		}
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" ||
			req.Header.Get("Atsgate-Event-Id") != ev.ID || req.Header.Get("Atsgate-Event-Type") != ev.Type {
			r.errs = append(r.errs, fmt.Errorf("headers %v do not match the event %s %s", req.Header, ev.ID, ev.Type))
		}
		code := http.StatusNoContent
		if status != nil {
			code = status()
		}
		if code < 300 {
			r.events = append(r.events, ev)
			r.byID[ev.ID]++
		}
		w.WriteHeader(code)
	}
}

// TestDeliverySigned: a created job's job.published reaches a real
// receiver, signed with the secret SetWebhook showed, with the job record
// as the ATS API's GET shows it; the delivery and its attempt are recorded.
func TestDeliverySigned(t *testing.T) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, d, nil)
			var rec received
			var secret string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec.handler(secret, time.Now, nil)(w, r)
			}))
			defer srv.Close()
			secret = e.hook(t, srv.URL+"/hooks")
			e.create(t, "JOB-1")
			if _, err := e.st.CloseJob(ctx, e.p, "JOB-1"); err != nil {
				t.Fatal(err)
			}
			n, err := e.worker(webhook.NewClient(true)).RunOnce(ctx)
			if err != nil || n != 2 {
				t.Fatalf("RunOnce = %d, %v", n, err)
			}
			if len(rec.errs) > 0 || len(rec.events) != 2 {
				t.Fatalf("receiver: %d events, errors %v", len(rec.events), rec.errs)
			}
			types := rec.events[0].Type + " " + rec.events[1].Type
			if types != "job.published job.closed" && types != "job.closed job.published" {
				t.Fatalf("types %s", types)
			}
			job, err := e.st.Job(ctx, e.p.Employer.ID, "JOB-1")
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range rec.events {
				if ev.Type == "job.closed" && !reflect.DeepEqual(*ev.Data.Job, wire.NewJobRecord(job, e.c)) {
					t.Fatalf("job.closed record %+v, want the ATS GET's %+v", *ev.Data.Job, wire.NewJobRecord(job, e.c))
				}
			}
			ds, err := e.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{})
			if err != nil || len(ds) != 2 {
				t.Fatal(ds, err)
			}
			for _, dl := range ds {
				got, attempts, err := e.st.WebhookDelivery(ctx, dl.ID)
				if err != nil || got.Status != atsgate.DeliveryDelivered || len(attempts) != 1 || attempts[0].StatusCode != 204 ||
					attempts[0].URL != srv.URL+"/hooks" {
					t.Fatalf("delivery %+v attempts %+v, %v", got, attempts, err)
				}
			}
			// A second run finds nothing due: delivered is final.
			if n, err := e.worker(webhook.NewClient(true)).RunOnce(ctx); n != 0 || err != nil {
				t.Fatalf("second RunOnce = %d, %v", n, err)
			}
		})
	}
}

// TestDeliveryAfterOutage: the receiver is down (connection refused, then
// 503s) for a while; the attempts back off and are recorded; when it comes
// back the event is delivered once; an event older than the retry window
// is failed.
func TestDeliveryAfterOutage(t *testing.T) {
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{}
			clk.ns.Store(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC).UnixNano())
			e := newEnv(t, d, clk)
			// An address nobody listens on yet.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			secret := e.hook(t, "http://"+addr+"/in")
			e.create(t, "JOB-1")
			w := e.worker(webhook.NewClient(true))

			// Down: connection refused, three times, each later than the last.
			var waits []time.Duration
			for range 3 {
				if n, err := w.RunOnce(ctx); n != 1 || err != nil {
					t.Fatalf("RunOnce = %d, %v", n, err)
				}
				ds, _ := e.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{})
				if ds[0].Status != atsgate.DeliveryPending || !strings.Contains(ds[0].LastError, "refused") {
					t.Fatalf("after a refused connection: %+v", ds[0])
				}
				wait := ds[0].NextAt.Sub(clk.Now())
				waits = append(waits, wait)
				if n, _ := w.RunOnce(ctx); n != 0 {
					t.Fatal("claimed before its retry time")
				}
				clk.Add(wait)
			}
			if !(waits[0] < waits[1] && waits[1] < waits[2]) || waits[0] != 10*time.Second {
				t.Fatalf("backoff waits %v, want growing from 10 s", waits)
			}

			// Back up, but answering 503 once first.
			var rec received
			var calls atomic.Int32
			ln, err = net.Listen("tcp", addr)
			if err != nil {
				t.Skipf("the port was taken meanwhile: %v", err)
			}
			srv := &http.Server{Handler: rec.handler(secret, clk.Now, func() int {
				if calls.Add(1) == 1 {
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			})}
			go srv.Serve(ln)
			defer srv.Close()
			for range 2 {
				if n, err := w.RunOnce(ctx); n != 1 || err != nil {
					t.Fatalf("RunOnce = %d, %v", n, err)
				}
				ds, _ := e.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{})
				clk.Add(ds[0].NextAt.Sub(clk.Now()))
			}
			if len(rec.errs) > 0 || len(rec.events) != 1 {
				t.Fatalf("receiver: %d events, errors %v", len(rec.events), rec.errs)
			}
			ds, _ := e.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{})
			got, attempts, _ := e.st.WebhookDelivery(ctx, ds[0].ID)
			if got.Status != atsgate.DeliveryDelivered || got.Attempts != 5 || len(attempts) != 5 ||
				attempts[3].StatusCode != 503 || attempts[4].StatusCode != 200 {
				t.Fatalf("delivery %+v, attempts %+v", got, attempts)
			}

			// A receiver gone for good: retried for 24 hours, then failed.
			srv.Close()
			e.create(t, "JOB-2")
			for i := 0; ; i++ {
				if i > 100 {
					t.Fatal("never gave up")
				}
				if _, err := w.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
				ds, _ = e.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{})
				if ds[0].Status != atsgate.DeliveryPending {
					break
				}
				clk.Add(ds[0].NextAt.Sub(clk.Now()))
			}
			if ds[0].Status != atsgate.DeliveryFailed || clk.Now().Sub(ds[0].CreatedAt) > 24*time.Hour ||
				clk.Now().Sub(ds[0].CreatedAt) < 22*time.Hour {
				t.Fatalf("gave up %v after the event: %+v", clk.Now().Sub(ds[0].CreatedAt), ds[0])
			}
		})
	}
}

// TestConcurrentWorkers: two workers (two serve instances) over one
// PostgreSQL outbox deliver every event exactly once.
func TestConcurrentWorkers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "postgres", nil)
	var rec received
	var secret string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond) // let the workers overlap
		rec.handler(secret, time.Now, nil)(w, r)
	}))
	defer srv.Close()
	secret = e.hook(t, srv.URL)
	const events = 60
	for i := range events {
		e.create(t, fmt.Sprintf("JOB-%d", i))
	}
	// A second store, as another instance has its own pool.
	other, err := store.Open(ctx, dbURL(t, e), store.WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, st := range []*store.Store{e.st, other} {
		for range 2 {
			w := &webhook.Worker{Outbox: st, Box: e.box, Client: webhook.NewClient(true), Poll: 10 * time.Millisecond, Batch: 3}
			wg.Add(1)
			go func() { defer wg.Done(); w.Run(runCtx) }()
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.byID)
		rec.mu.Unlock()
		if n == events || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	stop()
	wg.Wait()
	if len(rec.errs) > 0 {
		t.Fatal(rec.errs)
	}
	if len(rec.byID) != events {
		t.Fatalf("%d events delivered, want %d", len(rec.byID), events)
	}
	for id, n := range rec.byID {
		if n != 1 {
			t.Fatalf("event %s delivered %d times", id, n)
		}
	}
	if n, _, err := e.st.WebhookBacklog(ctx); err != nil || n != 0 {
		t.Fatalf("backlog %d, %v", n, err)
	}
}

// TestSSRF: without ATSGATE_WEBHOOK_ALLOW_PRIVATE, endpoints on private,
// loopback and link-local addresses are refused when set (literal or by
// name), and a connection to one is refused when made, even to an
// endpoint stored while the flag was on; https is required in prod.
func TestSSRF(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "sqlite", nil)
	strict := &webhook.Service{Store: e.st, Box: e.box, AllowHTTP: false, AllowPrivate: false}
	for _, u := range []string{"https://127.0.0.1/h", "https://localhost/h", "https://10.1.2.3/h", "https://192.168.0.1/h",
		"https://169.254.169.254/latest/meta-data", "https://[::1]/h", "https://[fe80::1]/h", "https://0.0.0.0/h",
		"https://[::ffff:127.0.0.1]/h", "https://100.64.0.1/h", "http://example.com/h", "ftp://example.com/h",
		"https://user:pw@example.com/h", "not a url"} {
		_, _, err := strict.SetWebhook(ctx, e.p.Employer.ID, atsgate.WebhookInput{URL: u})
		if atsgate.ErrorCode(err) != atsgate.EINVALID {
			t.Errorf("SetWebhook(%s) = %v, want validation_failed", u, err)
		}
	}
	if _, err := e.st.Webhook(ctx, e.p.Employer.ID); atsgate.ErrorCode(err) != atsgate.ENOTFOUND {
		t.Fatalf("a refused endpoint was stored: %v", err)
	}
	if err := webhook.CheckURL(ctx, nil, "https://93.184.215.14/h", false); err != nil {
		t.Fatalf("a public address was refused: %v", err)
	}

	// Stored while private addresses were allowed; delivered by a worker
	// whose client refuses them: no request reaches the receiver.
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	e.hook(t, "http://localhost:"+port+"/h") // a name that resolves to 127.0.0.1
	e.create(t, "JOB-1")
	if n, err := e.worker(webhook.NewClient(false)).RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	ds, _ := e.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{})
	_, attempts, _ := e.st.WebhookDelivery(ctx, ds[0].ID)
	if hits.Load() != 0 || len(attempts) != 1 || !strings.Contains(attempts[0].Error, "refused address") || attempts[0].StatusCode != 0 {
		t.Fatalf("hits %d, attempts %+v", hits.Load(), attempts)
	}
}

// dbURL is the URL e's store was opened with; the test opens a second
// pool on the same database.
func dbURL(t *testing.T, e *env) string {
	t.Helper()
	var name string
	if err := e.st.DB().QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbtest.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestSign(t *testing.T) {
	at := time.Unix(1700000000, 0)
	h := webhook.Sign([]byte("whsec_x"), at, []byte(`{"id":"evt_1"}`))
	if err := verify("whsec_x", h, []byte(`{"id":"evt_1"}`), at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := verify("whsec_x", h, []byte(`{"id":"evt_2"}`), at); err == nil {
		t.Fatal("a changed body verified")
	}
	if err := verify("whsec_x", h, []byte(`{"id":"evt_1"}`), at.Add(time.Hour)); err == nil {
		t.Fatal("an old signature verified")
	}
}
