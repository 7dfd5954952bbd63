package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// Decision is the outcome of one Allow call.
type Decision struct {
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

// Limiter decides whether one more request under key fits.
type Limiter interface {
	// Allow counts one request under key if fewer than limit requests
	// were counted in the window ending now, and reports the outcome.
	// A refused request is not counted. It returns an error only for a
	// non-positive limit or window, or when the limiter's store fails
	// (Redis unreachable, ctx done); a Decision with Allowed false is
	// not an error.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (Decision, error)
}

// Compile-time checks that every limiter here is a Limiter.
var (
	_ Limiter = (*Local)(nil)
	_ Limiter = (*Redis)(nil)
	_ Limiter = (*Fallback)(nil)
)

// validate rejects arguments no limiter can honour. Redis counts in
// microseconds, so that is the smallest window.
func validate(limit int, window time.Duration) error {
	if limit < 1 {
		return fmt.Errorf("ratelimit: limit %d is not positive", limit)
	}
	if window < time.Microsecond {
		return fmt.Errorf("ratelimit: window %v is shorter than 1µs", window)
	}
	return nil
}
