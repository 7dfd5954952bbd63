package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Modes reported by Fallback.Mode.
const (
	// ModeRedis: decisions come from the shared Redis limiter.
	ModeRedis = "redis"
	// ModeDegraded: Redis is configured but failing; decisions come from
	// the in-process limiter until the probe sees Redis work again.
	ModeDegraded = "degraded"
	// ModeLocal: no Redis is configured; the in-process limiter is the
	// intended one.
	ModeLocal = "local"
)

const (
	// defaultProbeEvery is how often Run checks Redis: often enough to
	// return to the shared limiter within a second or two of Redis
	// coming back, rarely enough to cost Redis nothing.
	defaultProbeEvery = time.Second
	// probeTimeout bounds one probe, should the client have no timeouts
	// of its own.
	probeTimeout = time.Second
)

// Fallback uses Redis while it works and Local when it does not. On a
// Redis error it answers that request from Local at once, marks itself
// degraded, and stops calling Redis on the request path, so an outage
// costs at most one fast failure per request in flight when it starts,
// not a timeout on every request. A timeout is checked first (two quick
// pings) before it degrades the process, since a busy host delays
// replies too. Run probes Redis in the background and
// switches back within about a second of it answering again.
//
// While Redis works, every request Redis allows is also counted in Local,
// so on a switch to degraded this process already knows its own recent
// traffic: a client that has just used its burst here cannot get a fresh
// one from Local. While degraded the limit holds per process, not across
// processes, and requests allowed then are not known to Redis afterwards.
//
// A Fallback with no Redis (nil primary) is simply Local, in mode "local".
type Fallback struct {
	primary    *Redis
	local      *Local
	logger     *slog.Logger
	probeEvery time.Duration

	degraded     atomic.Bool
	poolTimeouts atomic.Int64
	timeouts     atomic.Int64
	confirming   atomic.Bool // a check after a timeout is running
	mu           sync.Mutex
	lastErr      error
}

// NewFallback returns a limiter over primary (nil when no Redis is
// configured) and local; logger (nil for none) hears about each switch
// between Redis and the in-process limiter. Run must be running for a
// degraded Fallback ever to return to Redis.
func NewFallback(primary *Redis, local *Local, logger *slog.Logger) *Fallback {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Fallback{primary: primary, local: local, logger: logger, probeEvery: defaultProbeEvery}
}

// Allow implements atsgate.RateLimiter. It returns an error only for invalid
// arguments, or when ctx has ended before Redis answered (the caller has
// gone; that says nothing about Redis). A Redis failure is never
// returned: the request is answered from Local instead.
func (f *Fallback) Allow(ctx context.Context, key string, limit int, window time.Duration) (atsgate.RateDecision, error) {
	d, _, _, err := f.AllowGen(ctx, key, limit, window, "")
	return d, err
}

// AllowGen is Allow that also reads the shared counter genName (see
// Redis.Generation) in the same Redis round trip when genName is not
// empty. shared says the decision, and so gen, came from Redis; when it
// is false (no Redis, degraded, or this call's Redis failed) gen means
// nothing and the caller must not trust anything cached by it.
func (f *Fallback) AllowGen(ctx context.Context, key string, limit int, window time.Duration, genName string) (d atsgate.RateDecision, gen int64, shared bool, err error) {
	if err := validate(limit, window); err != nil {
		return atsgate.RateDecision{}, 0, false, err
	}
	if f.primary == nil || f.degraded.Load() {
		d, err := f.local.Allow(ctx, key, limit, window)
		return d, 0, false, err
	}
	d, gen, err = f.primary.allow(ctx, key, limit, window, genName)
	if err == nil {
		if d.Allowed {
			_, _ = f.local.Allow(ctx, key, limit, window) // shadow count; see type doc
		}
		return d, gen, true, nil
	}
	if ctx.Err() != nil {
		return atsgate.RateDecision{}, 0, false, ctx.Err()
	}
	if errors.Is(err, redis.ErrPoolTimeout) {
		// Every pooled connection was busy: this process is overloaded
		// (a burst larger than the pool on a loaded host), which says
		// nothing about Redis. Answer this one request locally and keep
		// the shared limiter for the rest.
		f.poolTimeouts.Add(1)
		d, err := f.local.Allow(ctx, key, limit, window)
		return d, 0, false, err
	}
	if isTimeout(err) {
		// A reply that came late is ambiguous: Redis may hang, or this
		// process may be starved of CPU for a moment (a burst on a busy
		// host). Answer this request locally and let a quick check
		// decide; only a Redis that fails it degrades the process.
		f.confirm(err)
		d, err := f.local.Allow(ctx, key, limit, window)
		return d, 0, false, err
	}
	f.fail(err)
	d, err = f.local.Allow(ctx, key, limit, window)
	return d, 0, false, err
}

// Confirmation of a timeout: confirmPings pings, confirmGap apart, each
// with the client's own timeouts; all must fail to degrade. On a hung
// Redis that takes about 2 × 50 ms + confirmGap, during which requests
// still wait up to one read timeout each.
const (
	confirmPings = 2
	confirmGap   = 25 * time.Millisecond
)

// confirm checks Redis after a timed-out request, once at a time, and
// degrades the process only if Redis fails every ping.
func (f *Fallback) confirm(cause error) {
	f.timeouts.Add(1)
	if !f.confirming.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer f.confirming.Store(false)
		last := cause
		for i := 0; i < confirmPings; i++ {
			if i > 0 {
				time.Sleep(confirmGap)
			}
			ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
			err := f.primary.probe(ctx)
			cancel()
			if err == nil {
				return
			}
			last = err
		}
		f.fail(last)
	}()
}

// isTimeout reports whether err is a deadline passing, not a refusal.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Timeouts counts requests answered locally because Redis replied too late;
// each started, or joined, a check of Redis.
func (f *Fallback) Timeouts() int64 { return f.timeouts.Load() }

// PoolTimeouts counts requests answered locally because no pooled Redis
// connection was free in time; a steady rise means the pool is too small
// for the traffic.
func (f *Fallback) PoolTimeouts() int64 { return f.poolTimeouts.Load() }

// fail records a Redis error and switches to degraded, logging once per
// switch.
func (f *Fallback) fail(err error) {
	f.mu.Lock()
	f.lastErr = err
	f.mu.Unlock()
	if f.degraded.CompareAndSwap(false, true) {
		f.logger.Warn("rate limiter: Redis failed; using the in-process limiter until it answers again", "err", err)
	}
}

// Run probes Redis every second until ctx ends: a failed probe switches
// to degraded before any request has to find out, and a successful one
// switches back. It returns at once when there is no Redis.
func (f *Fallback) Run(ctx context.Context) {
	if f.primary == nil {
		return
	}
	tick := time.NewTicker(f.probeEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := f.primary.probe(pctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			f.fail(err)
		case f.degraded.CompareAndSwap(true, false):
			f.logger.Info("rate limiter: Redis answers again; using the shared limiter")
		}
	}
}

// Mode reports which limiter answers requests: ModeRedis, ModeDegraded
// or ModeLocal. It is meant for metrics and readiness details.
func (f *Fallback) Mode() string {
	switch {
	case f.primary == nil:
		return ModeLocal
	case f.degraded.Load():
		return ModeDegraded
	}
	return ModeRedis
}

// Degraded reports whether Redis is configured but not being used
// because it failed.
func (f *Fallback) Degraded() bool {
	return f.primary != nil && f.degraded.Load()
}

// LastError returns the last Redis error seen, by a request or the
// probe, or nil if there has been none. It is kept after recovery, for
// readiness details.
func (f *Fallback) LastError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

// ErrNotShared is Generation's answer when no shared Redis is in use
// (none configured, or degraded): the caller must not trust a cache.
var ErrNotShared = errors.New("ratelimit: no shared Redis in use")

// Generation reads a shared counter from Redis (see Redis.Generation),
// or ErrNotShared while there is no Redis or the limiter is degraded; a
// Redis error is returned as is (the limiter's probe, not this read,
// decides when to degrade).
func (f *Fallback) Generation(ctx context.Context, name string) (int64, error) {
	if f.primary == nil || f.degraded.Load() {
		return 0, ErrNotShared
	}
	return f.primary.Generation(ctx, name)
}

// Bump advances a shared counter in Redis; ErrNotShared without Redis.
// It is tried even while degraded: a writer's announcement must reach
// Redis if Redis answers at all.
func (f *Fallback) Bump(ctx context.Context, name string) error {
	if f.primary == nil {
		return ErrNotShared
	}
	return f.primary.Bump(ctx, name)
}
