package web

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Context keys.
const (
	ctxCountry   = "atsgate.country"
	ctxPrincipal = "atsgate.principal"
)

func countryOf(c echo.Context) *atsgate.Country     { return c.Get(ctxCountry).(*atsgate.Country) }
func principalOf(c echo.Context) *atsgate.Principal { return c.Get(ctxPrincipal).(*atsgate.Principal) }

// trusted reports whether the direct peer of r is a trusted proxy.
func (s *Server) trusted(r *http.Request) bool {
	if len(s.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range s.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// extractIP is echo's IP extractor: the peer address, or, behind a trusted
// proxy, the right-most untrusted address of X-Forwarded-For.
func (s *Server) extractIP(r *http.Request) string {
	if !s.trusted(r) {
		return echo.ExtractIPDirect()(r)
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range s.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)(r)
}

// hostOf is the host the client asked for: X-Forwarded-Host from a trusted
// proxy, else the Host header.
func (s *Server) hostOf(r *http.Request) string {
	if s.trusted(r) {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			first, _, _ := strings.Cut(fh, ",")
			return normalizeHost(first)
		}
	}
	return normalizeHost(r.Host)
}

// normalizeHost lower-cases and strips the port.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

// resolveCountry maps the request's host to a country: 404 unknown_host
// when no country is served there.
func (s *Server) resolveCountry(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		country, err := s.Directory.CountryByHost(c.Request().Context(), s.hostOf(c.Request()))
		if err != nil {
			return err
		}
		c.Set(ctxCountry, country)
		return next(c)
	}
}

// authenticate checks the bearer key belongs to an active employer of the
// host's country.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.principal(c)
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, p)
		return next(c)
	}
}

func (s *Server) principal(c echo.Context) (*atsgate.Principal, error) {
	unauthorized := func(msg string) error { return atsgate.Errorf(atsgate.EUNAUTHORIZED, "%s", msg) }
	h := c.Request().Header.Get("Authorization")
	if h == "" {
		return nil, unauthorized("the Authorization header is missing; send 'Authorization: Bearer <API key>'")
	}
	scheme, key, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, unauthorized("the Authorization header must be 'Bearer <API key>'")
	}
	key = strings.TrimSpace(key)
	cc, _, ok := atsgate.SplitAPIKey(key)
	if !ok {
		return nil, unauthorized("the API key is not valid")
	}
	country := countryOf(c)
	if cc != country.Code {
		return nil, unauthorized("this API key is for another country's site; send it to that site's host")
	}
	p, err := s.Directory.Authenticate(c.Request().Context(), atsgate.HashAPIKey(key))
	if err != nil {
		return nil, err
	}
	if p.Country.ID != country.ID {
		return nil, unauthorized("this API key is for another country's site; send it to that site's host")
	}
	return p, nil
}
