package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// allowScript is the whole decision, run atomically inside Redis so that
// every process sharing the Redis sees one log and one clock.
//
// KEYS[1] the key's sorted set; ARGV[1] limit; ARGV[2] window in µs;
// ARGV[3] a suffix unique to this call, so that requests in the same
// microsecond are distinct members.
//
// Scores are microseconds from Redis TIME (about 1.8e15, exact in a Lua
// double). The window is (now-window, now]: ZREMRANGEBYSCORE removes
// scores <= now-window. Refused requests are not added. The TTL is set on
// each add to one window, after which every entry has left the window; a
// refusal adds nothing newer, so the TTL from the last add still holds.
//
// It returns {allowed, count, now, oldest, free, gen}: count after this
// call, oldest the score of the oldest counted entry, free (when refused)
// the score of the entry whose leaving brings the count below limit, gen
// the integer at KEYS[2] when given (a shared generation, see Generation;
// 0 when unset), read in the same round trip.
var allowScript = redis.NewScript(`
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, t[1] .. '.' .. t[2] .. '.' .. ARGV[3])
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
  count = count + 1
  allowed = 1
end
local oldest = 0
local free = 0
if count > 0 then
  oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
  if allowed == 0 then
    local i = count - limit
    free = tonumber(redis.call('ZRANGE', key, i, i, 'WITHSCORES')[2])
  end
end
local gen = 0
if KEYS[2] then
  gen = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
end
return {allowed, count, now, oldest, free, gen}
`)

// Redis is the shared limiter: a sliding-window log per key in a Redis
// sorted set, exact across every process that shares the Redis. Memory
// per key is at most limit members, and an idle key expires one window
// after its last accepted request.
type Redis struct {
	client *redis.Client
	prefix string
	id     string        // random per Redis value, so members differ across processes
	seq    atomic.Uint64 // per call, so members differ within one
}

// NewRedis returns a limiter storing key K under the Redis key prefix+K
// (for example prefix "atsgate:ratelimit:"). client should come from
// NewRedisClient, so that a dead Redis fails fast.
func NewRedis(client *redis.Client, prefix string) *Redis {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return &Redis{client: client, prefix: prefix, id: hex.EncodeToString(b)}
}

// Allow implements atsgate.RateLimiter. The window is half-open, (now-window, now],
// on the Redis server's clock, and all durations in the RateDecision are
// measured on that clock, so instances with skewed clocks agree. Refused
// requests are not counted: a client that keeps sending while refused is
// let in again as soon as its old requests age out, rather than being
// locked out for as long as it keeps trying. It returns an error when
// Redis fails or ctx ends.
func (r *Redis) Allow(ctx context.Context, key string, limit int, window time.Duration) (atsgate.RateDecision, error) {
	d, _, err := r.allow(ctx, key, limit, window, "")
	return d, err
}

// AllowGen is Allow that also reads the counter genName (see Generation)
// in the same round trip.
func (r *Redis) AllowGen(ctx context.Context, key string, limit int, window time.Duration, genName string) (atsgate.RateDecision, int64, error) {
	return r.allow(ctx, key, limit, window, genName)
}

func (r *Redis) allow(ctx context.Context, key string, limit int, window time.Duration, genName string) (atsgate.RateDecision, int64, error) {
	if err := validate(limit, window); err != nil {
		return atsgate.RateDecision{}, 0, err
	}
	w := window.Microseconds()
	member := r.id + strconv.FormatUint(r.seq.Add(1), 36)
	keys := []string{r.prefix + key}
	if genName != "" {
		keys = append(keys, r.prefix+genName)
	}
	res, err := allowScript.Run(ctx, r.client, keys, limit, w, member).Int64Slice()
	if err != nil {
		return atsgate.RateDecision{}, 0, fmt.Errorf("ratelimit: redis allow: %w", err)
	}
	if len(res) != 6 {
		return atsgate.RateDecision{}, 0, fmt.Errorf("ratelimit: redis allow: unexpected reply %v", res)
	}
	allowed, count, now, oldest, free := res[0] == 1, res[1], res[2], res[3], res[4]
	d := atsgate.RateDecision{Allowed: allowed, Limit: limit, Remaining: max(0, limit-int(count))}
	if count > 0 {
		d.Reset = time.Duration(oldest+w-now) * time.Microsecond
	}
	if !allowed {
		d.RetryAfter = time.Duration(free+w-now) * time.Microsecond
	}
	return d, res[5], nil
}

// probe checks that Redis answers the limiter's own script, which also
// proves the script can be loaded and written with (a PING would pass on
// a Redis that is read-only or out of memory). The key is outside any
// real key's space because real keys never start with a NUL byte.
func (r *Redis) probe(ctx context.Context) error {
	_, err := r.Allow(ctx, "\x00probe", 1, time.Millisecond)
	return err
}

// NewRedisClient builds a go-redis client from a redis:// or rediss://
// URL, tuned so that a dead or stalled Redis costs a request a few tens of
// milliseconds at most, once, before Fallback stops asking it. A timeout
// given in the URL (dial_timeout, read_timeout, write_timeout,
// pool_timeout, max_retries) is kept.
func NewRedisClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: parse redis url: %w", err)
	}
	// A Redis on the local network accepts a connection in well under a
	// millisecond; 50ms covers a loaded host without letting an
	// unreachable one (SYN dropped by a firewall) hold a request for the
	// default 5s.
	if opt.DialTimeout == 0 {
		opt.DialTimeout = 50 * time.Millisecond
	}
	// go-redis retries a failed dial 5 times with 100ms pauses by default,
	// which would turn one dead-Redis request into half a second. One
	// attempt: Fallback's probe does the retrying, off the request path.
	opt.DialerRetries = 1
	// The script does O(log n) work on at most limit members and returns
	// in microseconds; a reply that takes 50ms means Redis is stalled
	// (blocked by a slow command, swapping, failing over), and the
	// in-process limiter is the better answer.
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = 50 * time.Millisecond
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = 50 * time.Millisecond
	}
	// Waiting for a pooled connection counts against the same budget: if
	// all connections are busy for 50ms, Redis is not keeping up.
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = 50 * time.Millisecond
	}
	// Keep a few connections open so a burst after a quiet spell does not
	// have to dial (and a dial on a loaded host can take longer than the
	// budget above), and allow more than the default 10 per CPU so a burst
	// waits for the pool less often.
	if opt.MinIdleConns == 0 {
		opt.MinIdleConns = 8
	}
	if opt.PoolSize == 0 {
		opt.PoolSize = 64
	}
	// No command retries (-1; 0 means the default of 3): a retry doubles
	// the worst case, and the request is better answered locally now.
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1
	}
	// Honour the request's own deadline too, so a request whose client
	// has gone does not keep waiting on Redis.
	opt.ContextTimeoutEnabled = true
	// Skip CLIENT SETINFO on every new connection: one round trip less
	// when reconnecting after an outage, and nothing here needs it.
	opt.DisableIdentity = true
	return redis.NewClient(opt), nil
}

// Generation reads the counter name (under the limiter's prefix), 0 when
// it was never bumped. Writers of what authentication answers bump it
// (Bump) after their change commits; readers cache an answer together
// with the generation it was read at and trust it only while the counter
// still says the same.
func (r *Redis) Generation(ctx context.Context, name string) (int64, error) {
	v, err := r.client.Get(ctx, r.prefix+name).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ratelimit: redis generation: %w", err)
	}
	return v, nil
}

// Bump advances the counter name.
func (r *Redis) Bump(ctx context.Context, name string) error {
	if err := r.client.Incr(ctx, r.prefix+name).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis bump: %w", err)
	}
	return nil
}
