package ratelimit

import (
	"fmt"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Compile-time checks that every limiter here is an atsgate.RateLimiter.
var (
	_ atsgate.RateLimiter = (*Local)(nil)
	_ atsgate.RateLimiter = (*Redis)(nil)
	_ atsgate.RateLimiter = (*Fallback)(nil)
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
