package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// fakeClock is a settable clock for Local.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	specLimit  = 120
	specWindow = time.Minute
)

func mustAllow(t *testing.T, l atsgate.RateLimiter, key string, limit int, window time.Duration) atsgate.RateDecision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, limit, window)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return d
}

func TestLocalBurst(t *testing.T) {
	clk := newFakeClock()
	l := NewLocal(clk.Now)
	for i := 0; i < specLimit; i++ {
		d := mustAllow(t, l, "k", specLimit, specWindow)
		want := atsgate.RateDecision{Allowed: true, Limit: specLimit, Remaining: specLimit - 1 - i, Reset: specWindow}
		if d != want {
			t.Fatalf("request %d: got %+v, want %+v", i+1, d, want)
		}
	}
	d := mustAllow(t, l, "k", specLimit, specWindow)
	want := atsgate.RateDecision{Allowed: false, Limit: specLimit, Remaining: 0, Reset: specWindow, RetryAfter: specWindow}
	if d != want {
		t.Fatalf("request 121: got %+v, want %+v", d, want)
	}

	clk.Advance(45 * time.Second)
	d = mustAllow(t, l, "k", specLimit, specWindow)
	want = atsgate.RateDecision{Allowed: false, Limit: specLimit, Reset: 15 * time.Second, RetryAfter: 15 * time.Second}
	if d != want {
		t.Fatalf("45s later: got %+v, want %+v", d, want)
	}

	// The whole burst leaves together; a full burst is available again.
	clk.Advance(15 * time.Second)
	for i := 0; i < specLimit; i++ {
		if d := mustAllow(t, l, "k", specLimit, specWindow); !d.Allowed {
			t.Fatalf("second burst, request %d refused: %+v", i+1, d)
		}
	}
	if d := mustAllow(t, l, "other", specLimit, specWindow); !d.Allowed || d.Remaining != specLimit-1 {
		t.Fatalf("another key is affected: %+v", d)
	}
}

func TestLocalRetryAfterSpread(t *testing.T) {
	// 60 requests at 0s, 60 at 10s; refused at 20s until the first 60
	// leave at 60s, then room for exactly 60 more until 70s.
	clk := newFakeClock()
	l := NewLocal(clk.Now)
	for i := 0; i < 60; i++ {
		mustAllow(t, l, "k", specLimit, specWindow)
	}
	clk.Advance(10 * time.Second)
	for i := 0; i < 60; i++ {
		mustAllow(t, l, "k", specLimit, specWindow)
	}
	clk.Advance(10 * time.Second)
	d := mustAllow(t, l, "k", specLimit, specWindow)
	if d.Allowed || d.RetryAfter != 40*time.Second || d.Reset != 40*time.Second {
		t.Fatalf("at 20s: got %+v, want refused with RetryAfter 40s, Reset 40s", d)
	}
	clk.Advance(d.RetryAfter)
	for i := 0; i < 60; i++ {
		d := mustAllow(t, l, "k", specLimit, specWindow)
		if !d.Allowed || d.Reset != 10*time.Second {
			t.Fatalf("at 60s, request %d: got %+v, want allowed with Reset 10s", i+1, d)
		}
	}
	d = mustAllow(t, l, "k", specLimit, specWindow)
	if d.Allowed || d.RetryAfter != 10*time.Second {
		t.Fatalf("at 60s after refill: got %+v, want refused with RetryAfter 10s", d)
	}
}

// TestLocalBoundary pins the window to (now-window, now]: a request
// exactly one window after another no longer sees it.
func TestLocalBoundary(t *testing.T) {
	clk := newFakeClock()
	l := NewLocal(clk.Now)
	if d := mustAllow(t, l, "k", 1, specWindow); !d.Allowed {
		t.Fatalf("first request refused: %+v", d)
	}
	clk.Advance(specWindow - time.Nanosecond)
	if d := mustAllow(t, l, "k", 1, specWindow); d.Allowed || d.RetryAfter != time.Nanosecond {
		t.Fatalf("at t+window-1ns: got %+v, want refused with RetryAfter 1ns", d)
	}
	clk.Advance(time.Nanosecond)
	if d := mustAllow(t, l, "k", 1, specWindow); !d.Allowed || d.Reset != specWindow {
		t.Fatalf("at t+window: got %+v, want allowed", d)
	}
}

// simulate sends requests at the given offsets on a fake clock and
// returns which were allowed.
func simulate(t *testing.T, offsets []time.Duration, limit int, window time.Duration) []bool {
	t.Helper()
	clk := newFakeClock()
	start := clk.Now()
	l := NewLocal(clk.Now)
	got := make([]bool, len(offsets))
	for i, off := range offsets {
		clk.Advance(start.Add(off).Sub(clk.Now()))
		d := mustAllow(t, l, "k", limit, window)
		got[i] = d.Allowed
		if d.Allowed != (d.RetryAfter == 0) || d.Remaining < 0 || d.Remaining > limit {
			t.Fatalf("request %d at %v: inconsistent %+v", i, off, d)
		}
	}
	return got
}

// checkExact verifies, by brute force over the accepted timestamps, that
// no window (t-window, t] holds more than limit accepted requests, and
// that every refusal happened with exactly limit accepted in the window.
func checkExact(t *testing.T, offsets []time.Duration, allowed []bool, limit int, window time.Duration) {
	t.Helper()
	var acc []time.Duration
	for i, off := range offsets {
		inWindow := 0
		for _, a := range acc {
			if a > off-window {
				inWindow++
			}
		}
		if allowed[i] != (inWindow < limit) {
			t.Fatalf("request %d at %v: allowed=%v with %d accepted in the window before it (limit %d)", i, off, allowed[i], inWindow, limit)
		}
		if allowed[i] {
			acc = append(acc, off)
		}
	}
	// Slide a window ending at every accepted timestamp: that covers every
	// maximal span.
	lo := 0
	for hi, end := range acc {
		for acc[lo] <= end-window {
			lo++
		}
		if n := hi - lo + 1; n > limit {
			t.Fatalf("%d accepted in the window ending at %v, limit %d", n, end, limit)
		}
	}
}

func TestLocalSteadyAtLimitRate(t *testing.T) {
	// 2 per second for 10 simulated minutes against 120 per minute.
	var offsets []time.Duration
	for off := time.Duration(0); off < 10*time.Minute; off += 500 * time.Millisecond {
		offsets = append(offsets, off)
	}
	allowed := simulate(t, offsets, specLimit, specWindow)
	for i, ok := range allowed {
		if !ok {
			t.Fatalf("request %d at %v refused", i, offsets[i])
		}
	}
	checkExact(t, offsets, allowed, specLimit, specWindow)
}

func TestLocalOverLimitRate(t *testing.T) {
	// 3 per second for 10 simulated minutes: some refused, never more
	// than 120 in any minute, and exactly 120 per minute after the first.
	var offsets []time.Duration
	for off := time.Duration(0); off < 10*time.Minute; off += time.Second / 3 {
		offsets = append(offsets, off)
	}
	allowed := simulate(t, offsets, specLimit, specWindow)
	n := 0
	for _, ok := range allowed {
		if ok {
			n++
		}
	}
	if n == len(offsets) {
		t.Fatalf("all %d requests allowed at 3/s", n)
	}
	if n != 10*specLimit {
		t.Errorf("allowed %d in 10 minutes, want %d", n, 10*specLimit)
	}
	checkExact(t, offsets, allowed, specLimit, specWindow)
}

func TestLocalRandomTraffic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 20; run++ {
		limit := 1 + rng.IntN(20)
		window := time.Duration(1+rng.IntN(10)) * time.Second
		var offsets []time.Duration
		var off time.Duration
		for i := 0; i < 2000; i++ {
			// Bursts of same-instant requests, quiet spells, and hits on
			// the exact window boundary.
			switch rng.IntN(4) {
			case 0:
			case 1:
				off += window
			default:
				off += time.Duration(rng.Int64N(int64(window) / int64(limit) * 2))
			}
			offsets = append(offsets, off)
		}
		t.Run(fmt.Sprintf("%02d_limit%d_window%v", run, limit, window), func(t *testing.T) {
			checkExact(t, offsets, simulate(t, offsets, limit, window), limit, window)
		})
	}
}

func TestLocalConcurrent(t *testing.T) {
	l := NewLocal(newFakeClock().Now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				d, err := l.Allow(context.Background(), "k", specLimit, specWindow)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != specLimit {
		t.Fatalf("allowed %d of 500 concurrent requests, want %d", got, specLimit)
	}
}

func TestLocalEviction(t *testing.T) {
	clk := newFakeClock()
	l := NewLocal(clk.Now)
	const keys = 10000
	for i := 0; i < keys; i++ {
		mustAllow(t, l, fmt.Sprintf("a%d", i), specLimit, specWindow)
	}
	if n := l.size(); n != keys {
		t.Fatalf("holding %d keys, want %d (all active)", n, keys)
	}
	// A window later every one of them is idle; new traffic sweeps them
	// (shard by shard: 1000 keys reach every shard).
	clk.Advance(specWindow)
	for i := 0; i < 1000; i++ {
		mustAllow(t, l, fmt.Sprintf("b%d", i), specLimit, specWindow)
	}
	if n := l.size(); n != 1000 {
		t.Fatalf("holding %d keys after the old ones went idle, want the 1000 active", n)
	}

	// Churn: a new key every 10ms for 10 simulated minutes, each active
	// for one request. Only ~6000 are active in any window; the map must
	// not grow with the 60000 seen.
	peak := 0
	for i := 0; i < 60000; i++ {
		clk.Advance(10 * time.Millisecond)
		mustAllow(t, l, fmt.Sprintf("c%d", i), specLimit, specWindow)
		peak = max(peak, l.sizeUnlocked())
	}
	if active := int(specWindow / (10 * time.Millisecond)); peak > 2*active+localShards*minSweepKeys {
		t.Fatalf("peak of %d keys with %d active, want about twice that at most", peak, active)
	}
}

// sizeUnlocked counts keys without locking, for single-goroutine tests.
func (l *Local) sizeUnlocked() int {
	n := 0
	for i := range l.shards {
		n += len(l.shards[i].logs)
	}
	return n
}

func TestLocalMemoryPerKey(t *testing.T) {
	clk := newFakeClock()
	l := NewLocal(clk.Now)
	for i := 0; i < 1000; i++ {
		clk.Advance(time.Millisecond)
		mustAllow(t, l, "k", 5, specWindow)
	}
	lg := l.shards[0].logs["k"]
	for i := range l.shards {
		if g := l.shards[i].logs["k"]; g != nil {
			lg = g
		}
	}
	if lg == nil || lg.n != 5 || len(lg.buf) != 5 {
		t.Fatalf("key log %+v, want 5 entries in a buffer of 5", lg)
	}
	// A lower limit on the same key is honoured at once.
	if d := mustAllow(t, l, "k", 3, specWindow); d.Allowed || d.Remaining != 0 {
		t.Fatalf("limit lowered to 3 with 5 counted: %+v", d)
	}
}

func TestLocalClockBackwards(t *testing.T) {
	clk := newFakeClock()
	l := NewLocal(clk.Now)
	mustAllow(t, l, "k", 2, specWindow)
	clk.Advance(-time.Hour)
	mustAllow(t, l, "k", 2, specWindow)
	if d := mustAllow(t, l, "k", 2, specWindow); d.Allowed {
		t.Fatalf("third request allowed after clock stepped back: %+v", d)
	}
}

func TestInvalidArguments(t *testing.T) {
	l := NewLocal(nil)
	f := NewFallback(nil, l, nil)
	for _, tc := range []struct {
		name   string
		limit  int
		window time.Duration
	}{
		{"zero limit", 0, time.Minute},
		{"negative limit", -1, time.Minute},
		{"zero window", 1, 0},
		{"sub-microsecond window", 1, time.Nanosecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, lim := range []atsgate.RateLimiter{l, f} {
				if _, err := lim.Allow(context.Background(), "k", tc.limit, tc.window); err == nil {
					t.Errorf("%T: no error", lim)
				}
			}
		})
	}
}

func BenchmarkLocalAllow(b *testing.B) {
	ctx := context.Background()
	b.Run("one key", func(b *testing.B) {
		l := NewLocal(nil)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = l.Allow(ctx, "k", specLimit, specWindow)
		}
	})
	b.Run("1000 keys parallel", func(b *testing.B) {
		l := NewLocal(nil)
		keys := make([]string, 1000)
		for i := range keys {
			keys[i] = fmt.Sprintf("key-%d", i)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(keys))
			for pb.Next() {
				_, _ = l.Allow(ctx, keys[i%len(keys)], specLimit, specWindow)
				i++
			}
		})
	})
}
