package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/web"
)

// TestPublicReadinessIsCheap: a flood of /readyz on the public listener
// (anyone on the internet can send one) costs one database ping a second,
// not one per request; the admin listener's probe stays live.
func TestPublicReadinessIsCheap(t *testing.T) {
	var pings atomic.Int64
	var down atomic.Bool
	d := web.Deps{Taxonomy: config.Taxonomy, PingDatabase: func(context.Context) error {
		pings.Add(1)
		if down.Load() {
			return context.DeadlineExceeded
		}
		return nil
	}}
	public := httptest.NewServer(contract(t, "public", web.NewPublic(d)))
	defer public.Close()
	admin := httptest.NewServer(contract(t, "admin", web.NewAdmin(d)))
	defer admin.Close()
	get := func(base string) int {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st := get(public.URL); st != http.StatusOK {
				t.Errorf("public /readyz: %d, want 200", st)
			}
		}()
	}
	wg.Wait()
	if n := pings.Load(); n != 1 {
		t.Errorf("50 public probes pinged the database %d times, want 1", n)
	}

	// The cached result ages out: a database that went down is reported
	// within about a second.
	down.Store(true)
	deadline := time.Now().Add(3 * time.Second)
	for get(public.URL) != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("the public /readyz still says ready 3 s after the database went down")
		}
		time.Sleep(100 * time.Millisecond)
	}

	before := pings.Load()
	for i := 0; i < 5; i++ {
		get(admin.URL)
	}
	if n := pings.Load() - before; n != 5 {
		t.Errorf("5 admin probes pinged %d times, want 5 (the admin listener is not cached)", n)
	}
}
