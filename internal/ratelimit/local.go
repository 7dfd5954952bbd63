package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

const (
	// localShards splits the key map so that requests under different
	// keys rarely wait on the same mutex.
	localShards = 32
	// minSweepKeys is the smallest map size (per shard) at which a size-
	// triggered sweep is worth its cost.
	minSweepKeys = 64
	// minLogCap is the first ring-buffer size for a key; most keys never
	// come near their limit, so the buffer grows by doubling up to it.
	minLogCap = 4
)

// Local is the in-process sliding-window log limiter. It has the same
// semantics as Redis but counts only the requests of this process, so it
// is exact for one instance and per-instance when several run.
//
// It is safe for concurrent use. Memory is bounded: a key holds at most
// limit timestamps (8 bytes each), and a key whose newest request has
// left its window is idle and is deleted by the next sweep of its shard.
// A shard sweeps when its map has doubled since the last sweep and at
// least once per window, so the map holds roughly the keys active in the
// last window, never more than twice that.
type Local struct {
	now    func() time.Time
	base   time.Time
	seed   maphash.Seed
	shards [localShards]localShard
}

// localShard is one lock's worth of keys.
type localShard struct {
	mu        sync.Mutex
	logs      map[string]*keyLog
	sweepAt   int   // map size that triggers the next sweep
	peak      int   // largest map size since the map was last rebuilt
	lastSweep int64 // clock reading of the last sweep
}

// keyLog is one key's accepted-request timestamps (nanoseconds since
// Local.base), oldest first, in a ring buffer of at most limit entries.
type keyLog struct {
	buf    []int64
	head   int
	n      int
	window int64 // of the latest call, to tell when the key is idle
}

// NewLocal returns an in-process limiter reading time from now; nil means
// time.Now. Readings are taken relative to the first one, so with
// time.Now the limiter uses the monotonic clock and ignores wall-clock
// steps. A clock that goes backwards is treated as standing still.
func NewLocal(now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	l := &Local{now: now, base: now(), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].logs = make(map[string]*keyLog)
		l.shards[i].sweepAt = minSweepKeys
	}
	return l
}

// Allow implements atsgate.RateLimiter. The window is half-open, (now-window, now]:
// a request exactly one window older than now no longer counts, so at
// most limit requests fall in any span of length window, and a client
// sending exactly limit per window at even spacing is never refused.
// It never fails except on invalid arguments; ctx is unused.
func (l *Local) Allow(_ context.Context, key string, limit int, window time.Duration) (atsgate.RateDecision, error) {
	if err := validate(limit, window); err != nil {
		return atsgate.RateDecision{}, err
	}
	w := int64(window)
	t := int64(l.now().Sub(l.base))
	sh := &l.shards[maphash.String(l.seed, key)%localShards]

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.logs) >= sh.sweepAt || t-sh.lastSweep >= w {
		sh.sweep(t)
	}
	lg := sh.logs[key]
	if lg == nil {
		lg = &keyLog{}
		sh.logs[key] = lg
		sh.peak = max(sh.peak, len(sh.logs))
	}
	lg.window = w
	if lg.n > 0 {
		if newest := lg.at(lg.n - 1); t < newest {
			t = newest // keep the log sorted if the clock steps back
		}
	}
	lg.trim(t - w)

	d := atsgate.RateDecision{Limit: limit}
	if lg.n < limit {
		lg.push(t, limit)
		d.Allowed = true
		d.Remaining = limit - lg.n
	} else {
		// Refused: the slot frees when the request that would have to
		// leave for the count to drop below limit leaves the window.
		d.RetryAfter = time.Duration(lg.at(lg.n-limit) + w - t)
	}
	if lg.n > 0 {
		d.Reset = time.Duration(lg.at(0) + w - t)
	}
	return d, nil
}

// at returns the i-th oldest timestamp.
func (lg *keyLog) at(i int) int64 {
	return lg.buf[(lg.head+i)%len(lg.buf)]
}

// trim drops timestamps at or before cutoff.
func (lg *keyLog) trim(cutoff int64) {
	for lg.n > 0 && lg.buf[lg.head] <= cutoff {
		lg.head = (lg.head + 1) % len(lg.buf)
		lg.n--
	}
	if lg.n == 0 {
		lg.head = 0
	}
}

// push appends t, growing the buffer by doubling up to limit entries.
func (lg *keyLog) push(t int64, limit int) {
	if lg.n == len(lg.buf) {
		size := min(max(2*len(lg.buf), minLogCap), limit) // > n, as n < limit
		buf := make([]int64, size)
		for i := 0; i < lg.n; i++ {
			buf[i] = lg.at(i)
		}
		lg.buf, lg.head = buf, 0
	}
	lg.buf[(lg.head+lg.n)%len(lg.buf)] = t
	lg.n++
}

// sweep deletes the shard's idle keys: those whose newest request has
// left its window, so that they would start afresh anyway. Go maps do not
// give memory back on delete, so a map that has shrunk to a quarter of
// its peak is copied into a new one.
func (sh *localShard) sweep(t int64) {
	for k, lg := range sh.logs {
		if lg.n == 0 || lg.at(lg.n-1) <= t-lg.window {
			delete(sh.logs, k)
		}
	}
	if n := len(sh.logs); sh.peak >= minSweepKeys && n*4 < sh.peak {
		logs := make(map[string]*keyLog, n)
		for k, lg := range sh.logs {
			logs[k] = lg
		}
		sh.logs, sh.peak = logs, n
	}
	sh.sweepAt = max(minSweepKeys, 2*len(sh.logs))
	sh.lastSweep = t
}

// size returns the number of keys held, for tests.
func (l *Local) size() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.logs)
		sh.mu.Unlock()
	}
	return n
}
