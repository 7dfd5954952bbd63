package atsgate

import (
	"context"
	"time"
)

// RateDecision is a rate limiter's answer to one request, with what the
// client is told in the X-RateLimit-* and Retry-After headers.
type RateDecision struct {
	// Allowed reports whether the request fits and was counted.
	Allowed bool
	// Limit is the number of requests allowed in any one window.
	Limit int
	// Remaining is how many more requests the key may make right now
	// (in the current window, after this one); 0 when refused.
	Remaining int
	// Reset is the time until the oldest counted request leaves the
	// window, which is when the key's usage first goes down; 0 when no
	// request is counted. It is the value for X-RateLimit-Reset.
	Reset time.Duration
	// RetryAfter is, for a refused request, the time until one slot
	// frees (a request sent then is allowed unless others take the
	// slot first); 0 when allowed.
	RetryAfter time.Duration
}

// RateLimiter counts requests under a key in a sliding window. It is
// declared here, once, because both sides meet at it: internal/ratelimit
// implements it (in process and on Redis) and the HTTP layer calls it for
// every API key and every failed authentication.
type RateLimiter interface {
	// Allow counts one request under key if fewer than limit requests
	// were counted in the window ending now, and reports the outcome.
	// A refused request is not counted, and a refusal is a RateDecision
	// with Allowed false, not an error. It returns an error only for a
	// non-positive limit or window, or when the limiter could not decide
	// (its store unreachable, ctx done).
	Allow(ctx context.Context, key string, limit int, window time.Duration) (RateDecision, error)
}
