package web_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/web"
)

// TestAuthFailureLimitIPv6Network: an IPv6 client holds a whole /64, so
// failed authentications are counted per /64: hopping to another address
// of the same network does not reset the count; another network is
// another client.
func TestAuthFailureLimitIPv6Network(t *testing.T) {
	base := newEnv(t)
	e := base.withDeps(t, func(d *web.Deps) {
		d.Limiter = ratelimit.NewLocal(nil)
		d.RateLimit = 1000
		d.AuthFailureLimit = 3
		d.TrustedProxies = []*net.IPNet{mustCIDR(t, "127.0.0.0/8")}
	})
	emp := e.employer(t, "gh", "Acme", "0")
	from := func(ip, key string) response {
		req := e.request(t, http.MethodGet, "/api/ats/jobs", emp.Host, key, nil)
		req.Header.Set("X-Forwarded-For", ip)
		return e.send(t, req)
	}
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"} {
		from(ip, "mjm_gh_guess").wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
	}
	from("2001:db8:1:2:abcd::4", "mjm_gh_guess").wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	from("2001:db8:1:2::99", "mjm_gh_other").wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	// A valid key is served all the same; another /64 and IPv4 clients
	// still get 401 for a bad key.
	from("2001:db8:1:2::99", emp.Key).wantStatus(t, http.StatusOK)
	from("2001:db8:1:3::1", "mjm_gh_other").wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
	from("203.0.113.9", "mjm_gh_other").wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
}

// TestAuthFailureLimitPerKeyPrefix: a revoked key retried from many
// addresses is limited by its prefix (429 after the limit, wherever it
// comes from), while the employer's new key, and other keys, are served.
func TestAuthFailureLimitPerKeyPrefix(t *testing.T) {
	base := newEnv(t)
	e := base.withDeps(t, func(d *web.Deps) {
		d.Limiter = ratelimit.NewLocal(nil)
		d.RateLimit = 1000
		d.AuthFailureLimit = 3
		d.TrustedProxies = []*net.IPNet{mustCIDR(t, "127.0.0.0/8")}
	})
	emp := e.employer(t, "gh", "Acme", "0")
	other := e.employer(t, "gh", "Other", "0")
	revoked := emp.Key
	newKey, _, err := e.st.IssueKey(context.Background(), emp.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	emp.Key = newKey
	from := func(ip, key string) response {
		req := e.request(t, http.MethodGet, "/api/ats/jobs", emp.Host, key, nil)
		req.Header.Set("X-Forwarded-For", ip)
		return e.send(t, req)
	}
	for i := 1; i <= 3; i++ {
		from("198.51.100."+strconv.Itoa(i), revoked).wantError(t, http.StatusUnauthorized, atsgate.EUNAUTHORIZED)
	}
	from("198.51.100.4", revoked).wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	from("198.51.100.5", revoked).wantError(t, http.StatusTooManyRequests, atsgate.ERATELIMITED)
	from("198.51.100.5", emp.Key).wantStatus(t, http.StatusOK)
	from("198.51.100.5", other.Key).wantStatus(t, http.StatusOK)
}
