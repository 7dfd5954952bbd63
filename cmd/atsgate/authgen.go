package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/atsgate/atsgate/internal/store"
	mw "github.com/atsgate/atsgate/internal/web/middleware"
)

// authGenerationKey is the shared authentication generation in Redis (see
// mw.AuthCache), beside the limiter's keys: atsgate:rl:authgen.
const authGenerationKey = redisLimiterPrefix + mw.AuthGeneration

// announceAuthChanges makes st bump the shared authentication generation
// through client after every committed key change, so every serving
// instance's authentication cache asks the database on its next request.
// A failed bump is logged: the caches' TTL (mw.DefaultAuthCacheTTL) then
// bounds how long an instance that can reach Redis may accept a revoked key.
func announceAuthChanges(st *store.Store, client *redis.Client, log *slog.Logger) {
	st.OnAuthChange(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := client.Incr(ctx, authGenerationKey).Err(); err != nil {
			log.Warn("a key change could not be announced through Redis; instances may accept the old key until their cache entry expires",
				"err", err, "bound", mw.DefaultAuthCacheTTL.String())
		}
	})
}

// authGeneration reads the shared authentication generation for the
// serving process's AuthCache; an error (Redis degraded or failing) sends
// every authentication to the database.
func (l *limiter) authGeneration() func(ctx context.Context) (int64, error) {
	if l.client == nil {
		return nil
	}
	return func(ctx context.Context) (int64, error) { return l.Fallback.Generation(ctx, mw.AuthGeneration) }
}
