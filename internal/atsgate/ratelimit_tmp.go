package atsgate

import (
	"context"
	"time"
)

// RateDecision is a rate limiter's answer to one request.
type RateDecision struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Duration
	RetryAfter time.Duration
}

// RateLimiter counts requests under a key in a sliding window.
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (RateDecision, error)
}

// RateLimiterFunc is a function that is a RateLimiter.
type RateLimiterFunc func(ctx context.Context, key string, limit int, window time.Duration) (RateDecision, error)

// Allow calls f.
func (f RateLimiterFunc) Allow(ctx context.Context, key string, limit int, window time.Duration) (RateDecision, error) {
	return f(ctx, key, limit, window)
}
