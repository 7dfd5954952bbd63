package middleware

import (
	"context"
	"sync"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// AuthGeneration is the key under which the shared authentication
// generation lives in Redis (beside the rate limiter's keys). Every change
// to what a credential authenticates as (an API key issued, rotated or
// disabled; an ERP source's key rotated, disabled or enabled; an employer
// or country a principal carries) bumps it after its transaction commits.
const AuthGeneration = "authgen"

// AuthCache remembers what a credential authenticated as, so that a
// request does not cost a database query to find its principal, while a
// revocation still takes effect on the very next request on every
// instance.
//
// Each entry is stamped with the shared generation counter read before the
// database answered it. A request first reads the counter (one Redis GET)
// and uses the entry only if the counter still says the same: a writer
// bumps the counter after its change commits and before it answers its
// caller, so every request that starts after a rotate or disable has
// returned sees a new generation and asks the database again. When the
// counter cannot be read (no Redis, Redis degraded or failing) the
// database answers every request, as without a cache. Failures are never
// cached, so a new key works at once. TTL bounds how long an entry lives
// in any case, the backstop should a writer have been unable to bump the
// counter (it then says so to its caller).
//
// Keys are the credential's hash under a kind prefix ("ats:", "erp:"), so
// any number of kinds of credential share one cache and one generation.
type AuthCache[P any] struct {
	generation func(context.Context) (int64, error)
	ttl        time.Duration
	max        int

	mu sync.RWMutex
	m  map[string]authEntry[P]
}

type authEntry[P any] struct {
	p   P
	gen int64
	at  time.Time
}

// Defaults of NewAuthCache.
const (
	// DefaultAuthCacheTTL bounds an entry's life.
	DefaultAuthCacheTTL = 10 * time.Second
	// authCacheMax bounds the entries; a full cache starts again empty.
	authCacheMax = 100_000
)

// NewAuthCache returns a cache trusting entries while generation returns
// the value they were stored at; nil generation caches nothing.
func NewAuthCache[P any](generation func(context.Context) (int64, error), ttl time.Duration) *AuthCache[P] {
	if ttl <= 0 {
		ttl = DefaultAuthCacheTTL
	}
	return &AuthCache[P]{generation: generation, ttl: ttl, max: authCacheMax, m: map[string]authEntry[P]{}}
}

// Get returns key's principal from the cache when the generation allows,
// else from load, which it remembers when it succeeds.
func (c *AuthCache[P]) Get(ctx context.Context, key string, load func(context.Context) (P, error)) (P, error) {
	if c == nil || c.generation == nil {
		return load(ctx)
	}
	gen, err := c.generation(ctx)
	if err != nil {
		return load(ctx) // no shared generation: the database decides
	}
	now := time.Now()
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	if ok && e.gen == gen && now.Sub(e.at) < c.ttl {
		return e.p, nil
	}
	p, err := load(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.m, key)
		return p, err
	}
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = authEntry[P]{p: p, gen: gen, at: now}
	return p, nil
}

// Peek returns key's entry if it is younger than the TTL, with the
// generation it was stored at, without reading the generation: the
// caller checks it later in the same request (see AuthCheck).
func (c *AuthCache[P]) Peek(key string) (p P, gen int64, ok bool) {
	if c == nil || c.generation == nil {
		return p, 0, false
	}
	c.mu.RLock()
	e, found := c.m[key]
	c.mu.RUnlock()
	if !found || time.Since(e.at) >= c.ttl {
		return p, 0, false
	}
	return e.p, e.gen, true
}

// Reload asks load again and, when gen was read from the shared counter
// (shared) before the call, remembers the answer at gen; a failure drops
// the entry.
func (c *AuthCache[P]) Reload(ctx context.Context, key string, gen int64, shared bool, load func(context.Context) (P, error)) (P, error) {
	p, err := load(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil:
		delete(c.m, key)
	case shared:
		if len(c.m) >= c.max {
			clear(c.m)
		}
		c.m[key] = authEntry[P]{p: p, gen: gen, at: time.Now()}
	}
	return p, err
}

// GenerationLimiter is a rate limiter that can read the shared
// authentication generation in the same round trip as a decision
// (ratelimit.Fallback is one); shared is false when the decision did not
// come from the shared store, and gen then means nothing.
type GenerationLimiter interface {
	AllowGen(ctx context.Context, key string, limit int, window time.Duration, genName string) (d atsgate.RateDecision, gen int64, shared bool, err error)
}

// AuthCheck carries a request's cached authentication to PerKey, which
// checks its generation in the rate limiter's own Redis round trip: one
// round trip for both, where a separate GET would be two. AuthFailures
// puts one in each request's context when the limits can do that check;
// a dialect's authentication that answers from its cache calls Defer,
// and PerKey calls Verify before anything else.
type AuthCheck struct {
	pending bool
	gen     int64
	reload  func(ctx context.Context, gen int64, shared bool) (*atsgate.Principal, error)
}

type authCheckKey struct{}

// AuthCheckOf is the request's AuthCheck, nil when the generation cannot
// be checked with the rate limit (no Redis limiter, limit off): the
// authentication must then check the generation itself (AuthCache.Get).
func AuthCheckOf(ctx context.Context) *AuthCheck {
	a, _ := ctx.Value(authCheckKey{}).(*AuthCheck)
	return a
}

// Defer records that the principal came from a cache entry stored at gen;
// reload asks the database again (and updates the cache) when the
// generation turns out to have moved.
func (a *AuthCheck) Defer(gen int64, reload func(ctx context.Context, gen int64, shared bool) (*atsgate.Principal, error)) {
	a.pending, a.gen, a.reload = true, gen, reload
}

// verify settles a deferred check with the generation the limiter read:
// the cached principal stands when the generation is unchanged, else the
// database decides (an error is the request's answer, a 401 for a revoked
// key). It returns the principal to use, nil to keep the cached one.
func (a *AuthCheck) verify(ctx context.Context, gen int64, shared bool) (*atsgate.Principal, error) {
	if a == nil || !a.pending {
		return nil, nil
	}
	a.pending = false
	if shared && gen == a.gen {
		return nil, nil
	}
	return a.reload(ctx, gen, shared)
}
