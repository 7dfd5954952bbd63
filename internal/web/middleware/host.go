package middleware

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Proxies are the peers whose X-Forwarded-For, X-Forwarded-Host and
// X-Forwarded-Proto headers are believed (ATSGATE_TRUSTED_PROXIES); from
// anyone else those headers change nothing.
type Proxies []*net.IPNet

// Trusted reports whether the direct peer of r is a trusted proxy.
func (p Proxies) Trusted(r *http.Request) bool {
	if len(p) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range p {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// ExtractIP is echo's IP extractor of the public listener: the peer
// address, or, behind a trusted proxy, the right-most untrusted address of
// X-Forwarded-For.
func (p Proxies) ExtractIP(r *http.Request) string {
	if !p.Trusted(r) {
		return echo.ExtractIPDirect()(r)
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range p {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)(r)
}

// Host is the host the client asked for, normalised: X-Forwarded-Host from
// a trusted proxy, else the Host header. When the header holds a list, the
// right-most value is the one the trusted proxy itself added; what is to
// its left came from the client, as with X-Forwarded-For.
func (p Proxies) Host(r *http.Request) string {
	if p.Trusted(r) {
		if fh := r.Header.Values("X-Forwarded-Host"); len(fh) > 0 {
			last := fh[len(fh)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if h := atsgate.NormalizeHost(last); h != "" {
				return h
			}
		}
	}
	return atsgate.NormalizeHost(r.Host)
}

// HTTPS reports whether the client reached us over HTTPS, directly or
// through a trusted proxy.
func (p Proxies) HTTPS(r *http.Request) bool {
	return r.TLS != nil || (p.Trusted(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// CountryFinder finds the country served on a host; atsgate.Directory is
// one.
type CountryFinder interface {
	// CountryByHost returns the country of a normalised host, or an
	// EUNKNOWNHOST error.
	CountryByHost(ctx context.Context, host string) (*atsgate.Country, error)
}

// ResolveCountry maps the request's host to a country for every later
// step (CountryOf): 404 unknown_host when no country is served there.
func ResolveCountry(countries CountryFinder, p Proxies) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			country, err := countries.CountryByHost(c.Request().Context(), p.Host(c.Request()))
			if err != nil {
				return err
			}
			c.Set(ctxCountry, country)
			return next(c)
		}
	}
}
