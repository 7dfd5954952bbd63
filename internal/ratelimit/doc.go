// Package ratelimit decides whether a client may make one more request:
// at most limit requests in any window (SPEC section 2: 120 per 60 s per
// API key), counted across every process that shares one Redis.
//
// # Algorithm: sliding-window log
//
// Each key keeps the timestamps of its accepted requests. A request at
// time now first forgets the timestamps at or before now-window, then is
// accepted, and its timestamp recorded, if fewer than limit remain. The
// window is half-open, (now-window, now]. Because a request is accepted
// only when the log holds fewer than limit timestamps newer than
// now-window, no span of length window ever contains more than limit
// accepted requests, and because nothing else refuses, a request is
// refused only when limit requests really were accepted in the window
// before it. So the limiter is exact both ways: a burst of limit at once
// is accepted, and a client sending limit per window at even spacing (2
// per second for 120 per minute) is never refused, the request exactly
// one window older having just left.
//
// Refused requests are not recorded. A client that keeps hammering while
// refused gets in again as soon as its oldest accepted requests age out;
// recording refusals would lock out a retrying client for as long as it
// retries, which punishes the retry loops integrators actually write.
// Memory per key is at most limit timestamps.
//
// # Why not the usual alternatives
//
// A token bucket (and GCRA, its exact equivalent) limits the average rate
// plus a burst: a full bucket of 120 refilling at 2 per second admits 120
// at once and then 2 per second more, about 240 in the first minute. It
// cannot meet "at most 120 in any 60 s" and "a burst of 120" at once. A
// fixed window (a counter per calendar minute) admits 120 at 0:59 and 120
// more at 1:00, 240 in two seconds. The sliding-window counter (two fixed
// windows, weighted) only approximates. The log costs limit entries per
// active key, which at 120 is small, and is the one that is exact.
//
// # Clock
//
// In Redis the whole decision is one Lua script, atomic on the server,
// and the timestamp is Redis TIME (microseconds) read inside it: every
// process shares that one clock, so skew between application hosts cannot
// let a key through twice or hold it back. Each member is the timestamp
// plus a suffix unique to the call, so requests in the same microsecond
// stay distinct. Local reads an injectable clock (time.Now by default,
// through its monotonic reading).
//
// # Failure
//
// NewRedisClient gives the client timeouts of about 50 ms and no retries.
// Fallback answers from Redis while it works; on a Redis error it answers
// that request from Local, marks itself degraded and stops calling Redis
// on the request path, so requests pay no Redis timeouts while it is
// down. Its Run loop probes Redis every second and switches back when it
// answers. While degraded the limit is enforced per process rather than
// across processes; Mode reports "redis", "degraded" or "local" (no Redis
// configured) for readiness and metrics.
package ratelimit
