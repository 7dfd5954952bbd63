package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/web"
)

// limiterFunc is a function that is an atsgate.RateLimiter, for a limiter
// that fails on purpose.
type limiterFunc func(ctx context.Context, key string, limit int, window time.Duration) (atsgate.RateDecision, error)

func (f limiterFunc) Allow(ctx context.Context, key string, limit int, window time.Duration) (atsgate.RateDecision, error) {
	return f(ctx, key, limit, window)
}

// countingDirectory counts key lookups, to show which requests never got
// that far.
type countingDirectory struct {
	atsgate.Directory
	lookups atomic.Int64
}

func (d *countingDirectory) Authenticate(ctx context.Context, keyHash string) (*atsgate.Principal, error) {
	d.lookups.Add(1)
	return d.Directory.Authenticate(ctx, keyHash)
}

// withDeps serves e's store through a public handler with deps changed
// by edit, replacing e's test server.
func (e *env) withDeps(t testing.TB, edit func(*web.Deps)) *env {
	t.Helper()
	d := web.Deps{
		Directory: e.st,
		Jobs:      e.st,
		Taxonomy:  config.Taxonomy,
		Now:       e.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	edit(&d)
	le := *e
	le.handler = web.NewPublic(d)
	le.srv = httptest.NewServer(contract(t, "public", le.handler))
	t.Cleanup(le.srv.Close)
	return &le
}

// rateHeaders are the rate-limit fields of a response, in the wire form.
func rateHeaders(h http.Header) string {
	return fmt.Sprintf("X-RateLimit-Limit: %s | X-RateLimit-Remaining: %s | X-RateLimit-Reset: %s | RateLimit-Policy: %s | RateLimit: %s",
		h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"),
		h.Get("RateLimit-Policy"), h.Get("RateLimit"))
}

func wantRateHeaders(t testing.TB, r response, limit, remaining, reset int) {
	t.Helper()
	want := fmt.Sprintf("X-RateLimit-Limit: %d | X-RateLimit-Remaining: %d | X-RateLimit-Reset: %d | RateLimit-Policy: %d;w=60 | RateLimit: limit=%d, remaining=%d, reset=%d",
		limit, remaining, reset, limit, limit, remaining, reset)
	if got := rateHeaders(r.Header); got != want {
		t.Errorf("status %d:\n got: %s\nwant: %s", r.Status, got, want)
	}
}

// TestRateLimitPerKey: a key's limit, the headers on every authenticated
// response (errors and 429 included), Retry-After rounded up, and keys
// that do not share an allowance.
func TestRateLimitPerKey(t *testing.T) {
	base := newEnv(t)
	clk := &clock{now: t0}
	e := base.withDeps(t, func(d *web.Deps) {
		d.Limiter = ratelimit.NewLocal(clk.Now)
		d.RateLimit = 3
		d.AuthFailureLimit = 60
	})
	acme := e.employer(t, "gh", "Acme", "1000")
	other := e.employer(t, "gh", "Other", "1000")

	e.call(t, acme, http.MethodPost, "/api/ats/jobs", job("RL-1")).wantStatus(t, http.StatusCreated)
	wantRateHeaders(t, e.call(t, acme, http.MethodPost, "/api/ats/jobs", job("RL-1")), 3, 1, 60) // replay is a request too
	clk.Advance(1500 * time.Millisecond)
	// An error response past authentication carries the fields too.
	res := e.call(t, acme, http.MethodGet, "/api/ats/jobs?external_id=missing", nil)
	res.wantError(t, http.StatusNotFound, atsgate.ENOTFOUND)
	wantRateHeaders(t, res, 3, 0, 59) // oldest leaves in 58.5 s: rounded up

	clk.Advance(500 * time.Millisecond)
	res = e.call(t, acme, http.MethodGet, "/api/ats/jobs", nil)
	res.wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	wantRateHeaders(t, res, 3, 0, 58)
	if got := res.Header.Get("Retry-After"); got != "58" {
		t.Errorf("Retry-After = %q, want 58", got)
	}
	// Refusals are not counted: the first slot frees on time.
	clk.Advance(57*time.Second + 500*time.Millisecond)
	res = e.call(t, acme, http.MethodGet, "/api/ats/jobs", nil)
	res.wantStatus(t, http.StatusTooManyRequests)
	if got := res.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After half a second before the slot frees = %q, want 1", got)
	}
	// At +60 s both requests of +0 s have left (the window is half-open).
	clk.Advance(500 * time.Millisecond)
	wantRateHeaders(t, e.call(t, acme, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK), 3, 1, 2)

	t.Run("another key has its own allowance", func(t *testing.T) {
		wantRateHeaders(t, e.call(t, other, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK), 3, 2, 60)
	})
	t.Run("a rotated key starts afresh", func(t *testing.T) {
		e.call(t, acme, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK)
		e.call(t, acme, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusTooManyRequests)
		key, _, err := e.st.IssueKey(context.Background(), acme.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		rotated := acme
		rotated.Key = key
		wantRateHeaders(t, e.call(t, rotated, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK), 3, 2, 60)
	})
	t.Run("refusals before authentication carry no rate-limit fields", func(t *testing.T) {
		res := e.send(t, e.request(t, http.MethodGet, "/api/ats/jobs", acme.Host, "mjm_gh_wrong", nil))
		res.wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
		if got := rateHeaders(res.Header); got != rateHeaders(http.Header{}) {
			t.Errorf("401 carries %s", got)
		}
	})
}

// TestRateLimitSteadyClient: a client sending 2 requests per simulated
// second for 5 simulated minutes, at a limit of 120 per 60 s, is never
// refused, though it runs at exactly the limit; one request more in the
// same window is.
func TestRateLimitSteadyClient(t *testing.T) {
	base := newEnv(t)
	clk := &clock{now: t0}
	e := base.withDeps(t, func(d *web.Deps) {
		d.Limiter = ratelimit.NewLocal(clk.Now)
		d.RateLimit = 120
	})
	emp := e.employer(t, "gh", "Steady", "0")
	minRemaining := 120
	for i := 0; i < 2*60*5; i++ {
		res := e.call(t, emp, http.MethodGet, "/api/ats/jobs?limit=1", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("request %d at +%v: status %d; %s; body %s", i, clk.Now().Sub(t0), res.Status, rateHeaders(res.Header), res.Body)
		}
		n, _ := strconv.Atoi(res.Header.Get("X-RateLimit-Remaining"))
		minRemaining = min(minRemaining, n)
		clk.Advance(500 * time.Millisecond)
	}
	if minRemaining != 0 {
		t.Errorf("lowest X-RateLimit-Remaining = %d, want 0 (the client runs at exactly the limit)", minRemaining)
	}
	// Back to the instant of the last request: the window is full.
	clk.Advance(-500 * time.Millisecond)
	e.call(t, emp, http.MethodGet, "/api/ats/jobs", nil).wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
}

// TestRateLimiterFailsOpen: a limiter that cannot decide lets requests
// through, without rate-limit fields, and says so in the log.
func TestRateLimiterFailsOpen(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t).withDeps(t, func(d *web.Deps) {
		d.Limiter = limiterFunc(func(context.Context, string, int, time.Duration) (atsgate.RateDecision, error) {
			return atsgate.RateDecision{}, errors.New("limiter store unreachable")
		})
		d.RateLimit = 1
		d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	emp := e.employer(t, "gh", "Acme", "0")
	for i := 0; i < 3; i++ {
		res := e.call(t, emp, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK)
		if res.Header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("rate-limit fields without a decision: %s", rateHeaders(res.Header))
		}
	}
	if !bytes.Contains(logs.Bytes(), []byte("limiter store unreachable")) {
		t.Errorf("the limiter's failure was not logged:\n%s", logs.Bytes())
	}
	// Failed authentications are still answered 401, never 5xx.
	e.send(t, e.request(t, http.MethodGet, "/api/ats/jobs", emp.Host, "mjm_gh_bad", nil)).wantStatus(t, http.StatusUnauthorized)
}

// TestAuthFailureLimit: a client guessing keys gets 429 instead of 401
// after AuthFailureLimit failures, but a valid key from that same address
// is served (SPEC 2: an ATS platform serves many employers from one
// address); a client at another IP is unaffected. The proxy in front (the
// loopback test client) is trusted, so X-Forwarded-For names the client.
func TestAuthFailureLimit(t *testing.T) {
	base := newEnv(t)
	dir := &countingDirectory{Directory: base.st}
	e := base.withDeps(t, func(d *web.Deps) {
		d.Directory = dir
		d.Limiter = ratelimit.NewLocal(nil)
		d.RateLimit = 120
		d.AuthFailureLimit = 5
		d.TrustedProxies = []*net.IPNet{mustCIDR(t, "127.0.0.0/8")}
	})
	emp := e.employer(t, "gh", "Acme", "0")
	from := func(ip, key string) response {
		req := e.request(t, http.MethodGet, "/api/ats/jobs", emp.Host, key, nil)
		req.Header.Set("X-Forwarded-For", ip)
		return e.send(t, req)
	}
	const guesser, honest = "203.0.113.7", "198.51.100.20"
	kinds := []string{"", "Basic abc", "mjm_gh_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "mjm_ng_x", "mjm_gh_guess"}
	for i := 0; i < 5; i++ {
		key := kinds[i]
		req := e.request(t, http.MethodGet, "/api/ats/jobs", emp.Host, "", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		req.Header.Set("X-Forwarded-For", guesser)
		e.send(t, req).wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
	}
	res := from(guesser, "mjm_gh_guess6")
	res.wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	if ra, _ := strconv.Atoi(res.Header.Get("Retry-After")); ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %q, want 1..60", res.Header.Get("Retry-After"))
	}
	from(guesser, "mjm_gh_guess7").wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	from(guesser, emp.Key).wantStatus(t, http.StatusOK)
	from(guesser, "mjm_gh_guess8").wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	// A blocked address's failures cost one key lookup each, and nothing
	// for keys that are not even key-shaped.
	before := dir.lookups.Load()
	from(guesser, "Basic abc").wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	if n := dir.lookups.Load() - before; n != 0 {
		t.Errorf("%d key lookups for a malformed key, want 0", n)
	}

	from(honest, emp.Key).wantStatus(t, http.StatusOK)
	from(honest, "mjm_gh_typo").wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
	from(honest, emp.Key).wantStatus(t, http.StatusOK)
	// Successes are not failures: many of them never block anyone.
	for i := 0; i < 10; i++ {
		from(honest, emp.Key).wantStatus(t, http.StatusOK)
	}
}

// TestTrustedProxies: X-Forwarded-For, -Host and -Proto from an untrusted
// peer change nothing; from a trusted one they are believed, and the
// client is the right-most address not itself a trusted proxy. The client
// IP is observed through the auth-failure limit (a blocked IP's failures
// get 429, not 401).
func TestTrustedProxies(t *testing.T) {
	base := newEnv(t)
	emp := base.employer(t, "gh", "Acme", "0")
	ngEmp := base.employer(t, "ng", "Naija", "0")
	serve := func(trusted ...string) *env {
		return base.withDeps(t, func(d *web.Deps) {
			d.Limiter = ratelimit.NewLocal(nil)
			d.RateLimit = 1000
			d.AuthFailureLimit = 2
			for _, c := range trusted {
				d.TrustedProxies = append(d.TrustedProxies, mustCIDR(t, c))
			}
		})
	}
	send := func(e *env, host, key string, hdr ...string) response {
		req := e.request(t, http.MethodGet, "/api/ats/jobs", host, key, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return e.send(t, req)
	}
	// block makes the client that e sees behind xff fail until blocked.
	block := func(e *env, xff string) {
		t.Helper()
		for i := 0; i < 3; i++ {
			send(e, emp.Host, "mjm_gh_bad", "X-Forwarded-For", xff)
		}
		send(e, emp.Host, "mjm_gh_bad", "X-Forwarded-For", xff).wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	}

	t.Run("untrusted peer", func(t *testing.T) {
		// The test client connects from 127.0.0.1, which is not trusted.
		e := serve("10.0.0.0/8")
		send(e, "unknown.test", emp.Key, "X-Forwarded-Host", "gh.localhost").wantError(t, http.StatusNotFound, atsgate.EUNKNOWNHOST)
		send(e, emp.Host, emp.Key, "X-Forwarded-Host", "ng.localhost").wantStatus(t, http.StatusOK)
		send(e, ngEmp.Host, emp.Key, "X-Forwarded-Host", "gh.localhost").wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
		// Spoofed X-Forwarded-For does not make a new client: every
		// failure counts against the peer, whatever the header says.
		for i := 0; i < 3; i++ {
			send(e, emp.Host, "mjm_gh_bad", "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
		}
		send(e, emp.Host, "mjm_gh_bad", "X-Forwarded-For", "192.0.2.99").wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
		send(e, emp.Host, "mjm_gh_bad").wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
		// A valid key is served all the same.
		send(e, emp.Host, emp.Key, "X-Forwarded-For", "192.0.2.99").wantStatus(t, http.StatusOK)
	})

	t.Run("trusted proxy", func(t *testing.T) {
		e := serve("127.0.0.0/8", "10.0.0.0/8")
		send(e, "unknown.test", emp.Key, "X-Forwarded-Host", "gh.localhost").wantStatus(t, http.StatusOK)
		send(e, emp.Host, emp.Key, "X-Forwarded-Host", "ng.localhost").wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
		send(e, "unknown.test", ngEmp.Key, "X-Forwarded-Host", "NG.localhost:8443").wantStatus(t, http.StatusOK)
		// A list: the right-most host is the one the trusted proxy set;
		// the client wrote what is to its left.
		send(e, "unknown.test", emp.Key, "X-Forwarded-Host", "ng.localhost, gh.localhost").wantStatus(t, http.StatusOK)
		send(e, "unknown.test", ngEmp.Key, "X-Forwarded-Host", "ng.localhost, gh.localhost", "X-Forwarded-For", "192.0.2.77").wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)

		block(e, "203.0.113.7")
		// The client is the right-most address that is not a trusted
		// proxy: what it wrote to the left is not believed, and trusted
		// hops to the right are skipped.
		for _, xff := range []string{"203.0.113.7", "192.0.2.1, 203.0.113.7", "203.0.113.7, 10.1.2.3", "192.0.2.1, 203.0.113.7, 127.0.0.5"} {
			send(e, emp.Host, "mjm_gh_bad", "X-Forwarded-For", xff).wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
			send(e, emp.Host, emp.Key, "X-Forwarded-For", xff).wantStatus(t, http.StatusOK)
		}
		for _, xff := range []string{"203.0.113.8", "203.0.113.7, 203.0.113.8", ""} {
			send(e, emp.Host, "mjm_gh_bad", "X-Forwarded-For", xff).wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
		}
	})

	t.Run("X-Forwarded-Proto from an untrusted peer", func(t *testing.T) {
		d := web.Deps{Directory: base.st, Jobs: base.st, BackOffice: base.st, Taxonomy: config.Taxonomy,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: []*net.IPNet{mustCIDR(t, "10.0.0.0/8")}}
		srv := httptest.NewServer(contract(t, "admin", web.NewAdmin(d)))
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin/login", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if len(res.Cookies()) == 0 {
			t.Fatalf("the sign-in page set no cookie (status %d)", res.StatusCode)
		}
		for _, ck := range res.Cookies() {
			if ck.Secure {
				t.Errorf("cookie %s is Secure because of a spoofed X-Forwarded-Proto", ck.Name)
			}
		}
	})
}

func mustCIDR(t testing.TB, s string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lockedBuffer is a bytes.Buffer safe for a logger and a test to share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
