package ratelimit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atsgate/atsgate/internal/dbtest"
)

// slowBound is the most a request may take when Redis has just failed.
// By design it is a few ms (connection refused) and at most ~50ms (a
// timeout); the rest is headroom for a loaded test machine.
const slowBound = 150 * time.Millisecond

// fastBound is the most the median request may take once degraded: no
// Redis at all, only the in-process map.
const fastBound = 5 * time.Millisecond

// commandCounter is a go-redis hook counting the commands and dials a
// client makes, except the Fallback probe's, so a test can see whether
// the request path touched Redis.
type commandCounter struct {
	commands atomic.Int64
	dials    atomic.Int64
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.dials.Add(1)
		return next(ctx, network, addr)
	}
}

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		probe := false
		for _, a := range cmd.Args() {
			if s, ok := a.(string); ok && strings.Contains(s, "\x00probe") {
				probe = true
			}
		}
		if !probe {
			c.commands.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.commands.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// proxy is a TCP proxy to Redis that a test can stop (closing every
// connection, as a dead Redis would) and start again on the same address.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	// lateOnce, when set, holds the next reply from Redis back this long,
	// once: a reply that comes late but does come.
	lateOnce atomic.Int64
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.start()
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after stop
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c)
			}()
		}
	}()
}

func (p *proxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // stopped meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, lateReader{up, p}); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// lateReader delays one read when its proxy asks for a late reply.
type lateReader struct {
	r io.Reader
	p *proxy
}

func (l lateReader) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	if d := l.p.lateOnce.Swap(0); d > 0 {
		time.Sleep(time.Duration(d))
	}
	return n, err
}

// stop closes the listener and every proxied connection.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// runFallback starts f.Run and stops it, checking that it returns, at
// cleanup.
func runFallback(t *testing.T, f *Fallback) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// timedAllow calls f.Allow n times on key and returns the durations,
// failing on any error.
func timedAllow(t *testing.T, f *Fallback, key string, n int) []time.Duration {
	t.Helper()
	var ds []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		_, err := f.Allow(context.Background(), key, specLimit, specWindow)
		ds = append(ds, time.Since(start))
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
	}
	return ds
}

func TestFallbackDeadRedis(t *testing.T) {
	c, err := NewRedisClient("redis://127.0.0.1:1/0") // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var counter commandCounter
	c.AddHook(&counter)
	f := NewFallback(NewRedis(c, "x:"), NewLocal(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if f.Mode() != ModeRedis {
		t.Fatalf("Mode %q before any request, want %q", f.Mode(), ModeRedis)
	}

	start := time.Now()
	d, err := f.Allow(context.Background(), "k", 3, specWindow)
	el := time.Since(start)
	t.Logf("first request, Redis dead: %v", el)
	if err != nil {
		t.Fatalf("Allow returned the Redis error: %v", err)
	}
	if !d.Allowed || d.Remaining != 2 {
		t.Fatalf("first request: %+v, want allowed by Local", d)
	}
	if el > slowBound {
		t.Fatalf("first request took %v, want well under %v", el, slowBound)
	}
	if f.Mode() != ModeDegraded || !f.Degraded() || f.LastError() == nil {
		t.Fatalf("Mode %q, Degraded %v, LastError %v; want degraded with an error", f.Mode(), f.Degraded(), f.LastError())
	}

	// Commands, not dials: the client's pool keeps MinIdleConns by dialing
	// in the background on its own schedule, which no request causes (a
	// request's command would be counted before any dial it made).
	before := counter.commands.Load()
	ds := timedAllow(t, f, "k2", 200)
	if got := counter.commands.Load(); got != before {
		t.Fatalf("degraded requests sent Redis %d commands, want none", got-before)
	}
	t.Logf("degraded requests: median %v, max %v", median(ds), slices.Max(ds))
	if m := median(ds); m > fastBound {
		t.Fatalf("degraded requests take %v (median), want well under %v", m, fastBound)
	}
	// Local counted the first request: two more fit, then none.
	for i, want := range []bool{true, true, false} {
		if d, _ := f.Allow(context.Background(), "k", 3, specWindow); d.Allowed != want {
			t.Fatalf("request %d on k: %+v, want Allowed %v", i+2, d, want)
		}
	}
}

func TestFallbackOutageAndRecovery(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	prefix := testPrefix(t, redisURL)
	direct := newTestClient(t, redisURL)
	p := startProxy(t, direct.Options().Addr)
	// Generous timeouts: a stopped proxy fails at once (reset, refused),
	// so this test does not depend on them, and a loaded machine cannot
	// make it flap.
	c := newTestClient(t, "redis://"+p.addr+"/"+strconv.Itoa(direct.Options().DB))
	var counter commandCounter
	c.AddHook(&counter)
	f := NewFallback(NewRedis(c, prefix), NewLocal(nil), nil)
	runFallback(t, f)
	ctx := context.Background()

	// Redis works: decisions are shared, and stored in Redis.
	for i := 0; i < 5; i++ {
		d, err := f.Allow(ctx, "burst", 5, specWindow)
		if err != nil || !d.Allowed {
			t.Fatalf("request %d: %+v, %v", i+1, d, err)
		}
	}
	if n := direct.ZCard(ctx, prefix+"burst").Val(); n != 5 || f.Mode() != ModeRedis {
		t.Fatalf("Redis holds %d entries, Mode %q; want 5 and %q", n, f.Mode(), ModeRedis)
	}

	// Redis goes away: no error, fast, degraded, and this process still
	// remembers the burst it let through.
	p.stop()
	start := time.Now()
	d, err := f.Allow(ctx, "burst", 5, specWindow)
	el := time.Since(start)
	t.Logf("first request after Redis went away: %v", el)
	if err != nil {
		t.Fatalf("Allow returned the Redis error: %v", err)
	}
	if el > slowBound {
		t.Fatalf("first request after the outage took %v, want well under %v", el, slowBound)
	}
	if f.Mode() != ModeDegraded {
		t.Fatalf("Mode %q after a Redis failure, want %q", f.Mode(), ModeDegraded)
	}
	if d.Allowed {
		t.Fatalf("burst key got a fresh burst from Local: %+v", d)
	}
	before := counter.commands.Load()
	ds := timedAllow(t, f, "during", 100)
	if got := counter.commands.Load(); got != before {
		t.Fatalf("degraded requests sent %d commands to Redis", got-before)
	}
	if m := median(ds); m > fastBound {
		t.Fatalf("degraded requests take %v (median), want well under %v", m, fastBound)
	}

	// Redis comes back: the probe switches back within a few seconds.
	p.start()
	start = time.Now()
	for f.Mode() != ModeRedis {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("still %q 5s after Redis came back (last error %v)", f.Mode(), f.LastError())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("back to Redis after %v", time.Since(start))
	if d, err := f.Allow(ctx, "after", 5, specWindow); err != nil || !d.Allowed {
		t.Fatalf("after recovery: %+v, %v", d, err)
	}
	if n := direct.ZCard(ctx, prefix+"after").Val(); n != 1 {
		t.Fatalf("after recovery Redis holds %d entries for the new key, want 1", n)
	}

	// The probe also notices an outage when no request does.
	p.stop()
	start = time.Now()
	for f.Mode() != ModeDegraded {
		if time.Since(start) > 5*time.Second {
			t.Fatal("probe did not notice Redis going away within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("probe noticed the outage after %v", time.Since(start))
}

func TestFallbackCanceledContext(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	f := NewFallback(NewRedis(newTestClient(t, redisURL), testPrefix(t, redisURL)), NewLocal(nil), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Allow(ctx, "k", 1, time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Allow with a canceled context: %v, want context.Canceled", err)
	}
	if f.Mode() != ModeRedis {
		t.Fatalf("a canceled request made the limiter %q", f.Mode())
	}
}

func TestFallbackLocalOnly(t *testing.T) {
	f := NewFallback(nil, NewLocal(nil), nil)
	if f.Mode() != ModeLocal || f.Degraded() || f.LastError() != nil {
		t.Fatalf("Mode %q, Degraded %v, LastError %v", f.Mode(), f.Degraded(), f.LastError())
	}
	done := make(chan struct{})
	go func() { f.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run without Redis did not return")
	}
	for i := 0; i < 2; i++ {
		if d, err := f.Allow(context.Background(), "k", 2, time.Minute); err != nil || !d.Allowed {
			t.Fatalf("request %d: %+v, %v", i+1, d, err)
		}
	}
	if d, _ := f.Allow(context.Background(), "k", 2, time.Minute); d.Allowed {
		t.Fatalf("third request allowed: %+v", d)
	}
}

// TestFallbackStalledRedis: a Redis that accepts connections and never
// answers (hung, or a black-holing network) costs the first request one
// read timeout, and no request after it anything.
func TestFallbackStalledRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	c, err := NewRedisClient("redis://" + ln.Addr().String() + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := NewFallback(NewRedis(c, "x:"), NewLocal(nil), nil)

	start := time.Now()
	d, err := f.Allow(context.Background(), "k", 3, specWindow)
	el := time.Since(start)
	t.Logf("first request, Redis stalled: %v (%v)", el, f.LastError())
	if err != nil || !d.Allowed {
		t.Fatalf("first request: %+v, %v", d, err)
	}
	if el > slowBound {
		t.Fatalf("first request took %v, want about the 50ms read timeout", el)
	}
	// A timeout is confirmed by two pings before the process degrades.
	deadline := time.Now().Add(time.Second)
	for f.Mode() != ModeDegraded {
		if time.Now().After(deadline) {
			t.Fatalf("Mode %q a second after a stalled request, want %q", f.Mode(), ModeDegraded)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if m := median(timedAllow(t, f, "k2", 100)); m > fastBound {
		t.Fatalf("degraded requests take %v (median), want well under %v", m, fastBound)
	}
}

// TestFallbackPoolTimeoutIsNotAnOutage: when every pooled connection is
// busy (a burst on a loaded host), the request is answered locally but the
// process keeps using Redis; only a failure of Redis itself degrades it.
func TestFallbackPoolTimeoutIsNotAnOutage(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	prefix := testPrefix(t, redisURL)
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_size", "1")
	q.Set("min_idle_conns", "1")
	q.Set("pool_timeout", "20ms")
	q.Set("read_timeout", "2s")
	u.RawQuery = q.Encode()
	c, err := NewRedisClient(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := NewFallback(NewRedis(c, prefix), NewLocal(nil), nil)
	ctx := context.Background()

	// Hold the only connection for 300ms with a blocking pop.
	busy := make(chan struct{})
	go func() {
		defer close(busy)
		c.BLPop(ctx, 300*time.Millisecond, prefix+"nothing")
	}()
	time.Sleep(50 * time.Millisecond)
	d, err := f.Allow(ctx, "k", 5, specWindow)
	if err != nil || !d.Allowed {
		t.Fatalf("Allow while the pool is busy: %+v, %v", d, err)
	}
	if f.Mode() != ModeRedis || f.PoolTimeouts() != 1 {
		t.Fatalf("Mode %q with %d pool timeouts, want %q and 1", f.Mode(), f.PoolTimeouts(), ModeRedis)
	}
	<-busy
	if _, err := f.Allow(ctx, "k", 5, specWindow); err != nil {
		t.Fatal(err)
	}
	direct := newTestClient(t, redisURL)
	if n := direct.ZCard(ctx, prefix+"k").Val(); n != 1 {
		t.Fatalf("Redis holds %d entries for k, want 1 (the request after the pool freed)", n)
	}
}

// TestFallbackLateReplyIsNotAnOutage: one reply that comes after the read
// timeout (a busy host, a GC pause) is answered locally, but Redis passes
// the check that follows and the process keeps the shared limiter. A
// single slow moment must not drop every instance to per-process limits.
func TestFallbackLateReplyIsNotAnOutage(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	prefix := testPrefix(t, redisURL)
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	c, err := NewRedisClient("redis://" + p.addr + u.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := NewFallback(NewRedis(c, prefix), NewLocal(nil), nil)
	ctx := context.Background()
	if _, err := f.Allow(ctx, "k", 5, specWindow); err != nil {
		t.Fatal(err)
	}
	p.lateOnce.Store(int64(80 * time.Millisecond))
	if d, err := f.Allow(ctx, "k", 5, specWindow); err != nil || !d.Allowed {
		t.Fatalf("Allow with a late reply: %+v, %v", d, err)
	}
	if f.Timeouts() != 1 {
		t.Fatalf("%d timeouts counted, want 1", f.Timeouts())
	}
	time.Sleep(300 * time.Millisecond) // the check has run
	if f.Mode() != ModeRedis {
		t.Fatalf("Mode %q after one late reply, want %q (last error %v)", f.Mode(), ModeRedis, f.LastError())
	}
}
