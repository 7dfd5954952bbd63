package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
)

// newTestClient returns a client on the test Redis, closed at cleanup.
// Its timeouts are seconds, not NewRedisClient's 50ms: these tests are
// about the counting, and a loaded test machine can stall a goroutine
// for longer than 50ms. The fast-failure tests use NewRedisClient as is.
func newTestClient(t testing.TB, rawURL string) *redis.Client {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for _, name := range []string{"dial_timeout", "read_timeout", "write_timeout", "pool_timeout"} {
		q.Set(name, "5s")
	}
	u.RawQuery = q.Encode()
	c, err := NewRedisClient(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a key prefix no other test (or run) uses, and
// deletes its keys at cleanup.
func testPrefix(t testing.TB, redisURL string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "atsgate:test:ratelimit:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		c, err := NewRedisClient(redisURL)
		if err != nil {
			return
		}
		defer c.Close()
		ctx := context.Background()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}

func TestRedisConcurrentAcrossProcesses(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	prefix := testPrefix(t, redisURL)
	// Two clients with their own pools stand for two processes.
	limiters := []*Redis{
		NewRedis(newTestClient(t, redisURL), prefix),
		NewRedis(newTestClient(t, redisURL), prefix),
	}
	var (
		mu        sync.Mutex
		allowed   []atsgate.RateDecision
		refused   []atsgate.RateDecision
		wg        sync.WaitGroup
		start     = make(chan struct{})
		ctx       = context.Background()
		errs      = make(chan error, 150)
		requested = 150
	)
	for i := 0; i < requested; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d, err := limiters[i%2].Allow(ctx, "key", specLimit, specWindow)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if d.Allowed {
				allowed = append(allowed, d)
			} else {
				refused = append(refused, d)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(allowed) != specLimit || len(refused) != requested-specLimit {
		t.Fatalf("allowed %d, refused %d; want %d and %d", len(allowed), len(refused), specLimit, requested-specLimit)
	}
	// Each allowed request saw a distinct count: Remaining runs 119..0.
	var rem []int
	for _, d := range allowed {
		if d.RetryAfter != 0 || d.Reset <= 0 || d.Reset > specWindow || d.Limit != specLimit {
			t.Errorf("allowed decision %+v", d)
		}
		rem = append(rem, d.Remaining)
	}
	sort.Ints(rem)
	for i, r := range rem {
		if r != i {
			t.Fatalf("Remaining values of allowed requests %v, want each of 0..%d once", rem, specLimit-1)
		}
	}
	for _, d := range refused {
		// All 150 arrive within a second or so; a slot frees a window
		// after the first.
		if d.Remaining != 0 || d.RetryAfter < specWindow-5*time.Second || d.RetryAfter > specWindow || d.Reset != d.RetryAfter {
			t.Errorf("refused decision %+v", d)
		}
	}

	d, err := limiters[0].Allow(ctx, "other", specLimit, specWindow)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allowed || d.Remaining != specLimit-1 {
		t.Fatalf("another key is affected: %+v", d)
	}
}

func TestRedisRetryAfter(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	r := NewRedis(newTestClient(t, redisURL), testPrefix(t, redisURL))
	const limit, window = 2, time.Second
	ctx := context.Background()
	for i := 0; i < limit; i++ {
		d, err := r.Allow(ctx, "k", limit, window)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Remaining != limit-1-i {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d, err := r.Allow(ctx, "k", limit, window)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 || d.RetryAfter > window {
		t.Fatalf("over the limit: %+v, want refused with RetryAfter within %v", d, window)
	}
	time.Sleep(d.RetryAfter + 5*time.Millisecond)
	d, err = r.Allow(ctx, "k", limit, window)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allowed {
		t.Fatalf("refused after waiting RetryAfter: %+v", d)
	}
}

// TestRedisSteadyAtLimitRate: limit 4 per 2s, one request every 0.5s
// (paced from the end of the previous one, as a real client is) for 5s,
// never refused.
func TestRedisSteadyAtLimitRate(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	r := NewRedis(newTestClient(t, redisURL), testPrefix(t, redisURL))
	ctx := context.Background()
	for i := 0; i < 11; i++ {
		if i > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		d, err := r.Allow(ctx, "k", 4, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed {
			t.Fatalf("request %d refused: %+v", i+1, d)
		}
		if d.Remaining > 3 || (i >= 1 && d.Remaining > 2) {
			t.Errorf("request %d: Remaining %d, want the earlier requests counted", i+1, d.Remaining)
		}
	}
}

func TestRedisMemoryBounded(t *testing.T) {
	redisURL := dbtest.RedisURL(t)
	c := newTestClient(t, redisURL)
	prefix := testPrefix(t, redisURL)
	r := NewRedis(c, prefix)
	ctx := context.Background()
	n := 0
	for i := 0; i < 300; i++ {
		d, err := r.Allow(ctx, "k", 10, specWindow)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("allowed %d of 300, want 10", n)
	}
	if card := c.ZCard(ctx, prefix+"k").Val(); card != 10 {
		t.Fatalf("sorted set holds %d members, want 10 (refusals are not recorded)", card)
	}
	if ttl := c.PTTL(ctx, prefix+"k").Val(); ttl <= 0 || ttl > specWindow {
		t.Fatalf("key TTL %v, want within one window", ttl)
	}
}

func TestRedisUnreachable(t *testing.T) {
	c, err := NewRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := NewRedis(c, "x:")
	start := time.Now()
	_, err = r.Allow(context.Background(), "k", 1, time.Second)
	el := time.Since(start)
	if err == nil {
		t.Fatal("no error from a Redis where nothing listens")
	}
	t.Logf("failed in %v: %v", el, err)
	if el > slowBound {
		t.Fatalf("failing took %v, want a few ms", el)
	}
}

func TestNewRedisClient(t *testing.T) {
	c, err := NewRedisClient("redis://127.0.0.1:6379/2?read_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.Options()
	if o.DialTimeout != 50*time.Millisecond || o.ReadTimeout != 200*time.Millisecond ||
		o.WriteTimeout != 50*time.Millisecond || o.PoolTimeout != 50*time.Millisecond ||
		o.MaxRetries > 0 || o.DialerRetries != 1 || !o.ContextTimeoutEnabled || o.DB != 2 {
		t.Fatalf("options %+v", o)
	}
	if _, err := NewRedisClient("http://nope"); err == nil {
		t.Fatal("no error for a non-Redis URL")
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	redisURL := dbtest.RedisURL(b)
	r := NewRedis(newTestClient(b, redisURL), testPrefix(b, redisURL))
	ctx := context.Background()
	b.Run("one key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Allow(ctx, "k", specLimit, specWindow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := r.Allow(ctx, "k", specLimit, specWindow); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
