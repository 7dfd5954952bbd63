package middleware

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// TestAuthCache: an entry answers while the generation stands; a bump,
// a failing generation read, a failure of the credential and the TTL each
// send the next lookup to the database.
func TestAuthCache(t *testing.T) {
	var gen atomic.Int64
	var genErr atomic.Bool
	var loads atomic.Int64
	valid := atomic.Bool{}
	valid.Store(true)
	c := NewAuthCache[string](func(context.Context) (int64, error) {
		if genErr.Load() {
			return 0, errors.New("redis away")
		}
		return gen.Load(), nil
	}, time.Hour)
	load := func(context.Context) (string, error) {
		loads.Add(1)
		if !valid.Load() {
			return "", errors.New("revoked")
		}
		return "employer 7", nil
	}
	get := func() error {
		_, err := c.Get(context.Background(), "ats:h", load)
		return err
	}
	step := func(what string, wantLoads int64, wantErr bool) {
		t.Helper()
		before := loads.Load()
		err := get()
		if (err != nil) != wantErr || loads.Load()-before != wantLoads {
			t.Errorf("%s: err %v, %d database loads; want error %v, %d loads", what, err, loads.Load()-before, wantErr, wantLoads)
		}
	}
	step("first request", 1, false)
	step("second request, same generation", 0, false)
	gen.Add(1)
	step("after a bump", 1, false)
	step("then cached again", 0, false)
	genErr.Store(true)
	step("generation unreadable", 1, false)
	step("still unreadable", 1, false)
	genErr.Store(false)
	valid.Store(false)
	gen.Add(1)
	step("revoked, after the bump", 1, true)
	step("failures are not cached", 1, true)

	// The TTL bounds an entry even when the generation never moves.
	short := NewAuthCache[string](func(context.Context) (int64, error) { return 1, nil }, 20*time.Millisecond)
	valid.Store(true)
	short.Get(context.Background(), "k", load)
	n := loads.Load()
	short.Get(context.Background(), "k", load)
	time.Sleep(30 * time.Millisecond)
	short.Get(context.Background(), "k", load)
	if got := loads.Load() - n; got != 1 {
		t.Errorf("TTL: %d loads after the first, want 1 (after expiry only)", got)
	}
}

// TestAuthCheckVerify: a deferred check keeps the cached principal only
// when the limiter read the same generation from the shared store.
func TestAuthCheckVerify(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gen        int64
		shared     bool
		wantReload bool
	}{
		{"same generation", 5, true, false},
		{"bumped", 6, true, true},
		{"not from Redis", 5, false, true},
	} {
		reloaded := false
		a := &AuthCheck{}
		a.Defer(5, func(context.Context, int64, bool) (*atsgate.Principal, error) { reloaded = true; return nil, nil })
		if _, err := a.verify(context.Background(), tc.gen, tc.shared); err != nil {
			t.Fatal(err)
		}
		if reloaded != tc.wantReload {
			t.Errorf("%s: reloaded %v, want %v", tc.name, reloaded, tc.wantReload)
		}
	}
}
