package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/settings"
)

// redisLimiterPrefix is where the limiter keeps its sorted sets in Redis:
// atsgate:rl:key:<API key ID> and atsgate:rl:authfail:<client IP>.
const redisLimiterPrefix = "atsgate:rl:"

// limiter is the rate limiter serve uses: the shared Redis limiter when
// REDIS_URL is set, with the in-process one standing in while Redis
// fails; only the in-process one otherwise.
type limiter struct {
	*ratelimit.Fallback
	// client is the limiter's Redis client; nil without REDIS_URL.
	client *redis.Client
}

// newLimiter builds the limiter from the configuration. The caller runs
// l.Run (the Redis probe) and closes it.
func newLimiter(cfg settings.Config, log *slog.Logger) (*limiter, error) {
	l := &limiter{}
	var primary *ratelimit.Redis
	if cfg.RedisURL != "" {
		c, err := ratelimit.NewRedisClient(cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		l.client = c
		redis.SetLogger(quietRedisLogger{log})
		primary = ratelimit.NewRedis(c, redisLimiterPrefix)
	}
	l.Fallback = ratelimit.NewFallback(primary, ratelimit.NewLocal(nil), log)
	return l, nil
}

// reportMode keeps the limiter-mode gauge current (set is
// metrics.SetLimiterMode): now, and every second until ctx ends, which is
// as often as Fallback's probe can change it.
func (l *limiter) reportMode(ctx context.Context, set func(mode string)) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		set(l.Mode())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ping is /readyz's Redis check; nil when Redis is not configured.
func (l *limiter) ping() func(context.Context) error {
	if l.client == nil {
		return nil
	}
	return func(ctx context.Context) error { return l.client.Ping(ctx).Err() }
}

// Close releases the Redis connections.
func (l *limiter) Close() error {
	if l.client == nil {
		return nil
	}
	return l.client.Close()
}

// quietRedisLogger replaces go-redis's package-level logger, which writes
// unstructured lines to stderr: during a Redis outage it would print
// "failed to dial" for every attempt, several a second, while Fallback
// already logs the switch to the in-process limiter once, and back once,
// as JSON. Its lines are kept at debug level for whoever needs them.
type quietRedisLogger struct{ log *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (q quietRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	if q.log.Enabled(ctx, slog.LevelDebug) {
		q.log.DebugContext(ctx, "go-redis", "detail", fmt.Sprintf(format, v...))
	}
}
