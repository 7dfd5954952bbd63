package middleware

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// RateWindow is the window of both rate limits: ATSGATE_RATE_LIMIT
// requests per key and ATSGATE_AUTH_FAILURE_LIMIT failed authentications
// per client IP, in any 60 seconds.
const RateWindow = 60 * time.Second

// Key namespaces in the one limiter: a request is counted under its API
// key's ID, a failed authentication under the client IP.
const (
	rateKeyPrefix     = "key:"
	authFailKeyPrefix = "authfail:"
)

// Rate-limit decision results, for metrics.
const (
	rateAllowed            = "allowed"
	rateLimited            = "limited"
	rateAuthFailureLimited = "auth_failure_limited"
	rateError              = "error"
)

// Limits are the two rate limits of the API surfaces: requests per API key
// (PerKey) and failed authentications per client IP (AuthFailures), both
// counted by one limiter.
type Limits struct {
	// Limiter counts; nil turns both limits off.
	Limiter atsgate.RateLimiter
	// PerKeyLimit is the requests allowed per API key in any RateWindow
	// (ATSGATE_RATE_LIMIT); below 1 turns the limit off.
	PerKeyLimit int
	// AuthFailureLimit is the failed authentications allowed per client
	// IP in any RateWindow (ATSGATE_AUTH_FAILURE_LIMIT); below 1 turns the
	// limit off.
	AuthFailureLimit int
	Logger           *slog.Logger
	// Metrics counts decisions; nil counts nothing.
	Metrics Metrics

	blocks authBlocks // client IPs and key prefixes over the auth-failure limit
}

// decision counts one decision in the metrics, if any.
func (l *Limits) decision(result string) {
	if l.Metrics != nil {
		l.Metrics.RateLimitDecision(result)
	}
}

// PerKey allows at most PerKeyLimit requests per API key in any
// RateWindow, after a dialect's authentication. The key is the API key's
// ID, not the employer: a rotated key starts with a fresh allowance. Every
// response past this point, errors and 429 included, says where the key
// stands. When the limiter cannot decide, the request is served (fail
// open): a limiter outage must not become an API outage.
func (l *Limits) PerKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if l.Limiter == nil || l.PerKeyLimit < 1 {
			return next(c)
		}
		p := PrincipalOf(c)
		ctx := c.Request().Context()
		var d atsgate.RateDecision
		var err error
		if chk := AuthCheckOf(ctx); chk != nil && chk.pending {
			// The principal came from the authentication cache: its
			// generation is read in the limiter's round trip and settled
			// before anything else (a revoked key is a 401, not a 429).
			var gen int64
			var shared bool
			d, gen, shared, err = l.Limiter.(GenerationLimiter).AllowGen(ctx, rateSubject(p),
				l.PerKeyLimit, RateWindow, AuthGeneration)
			fresh, verr := chk.verify(ctx, gen, shared && err == nil)
			if verr != nil {
				SetPrincipal(c, nil) // a refusal of authentication, counted as such by AuthFailures
				return verr
			}
			if fresh != nil {
				SetPrincipal(c, fresh)
			}
		} else {
			d, err = l.Limiter.Allow(ctx, rateSubject(p), l.PerKeyLimit, RateWindow)
		}
		if err != nil {
			l.decision(rateError)
			if ctx.Err() == nil { // else the client has gone, which says nothing about the limiter
				l.Logger.WarnContext(ctx, "rate limiter failed; serving the request unlimited",
					"err", err, "key_prefix", p.KeyPrefix, "request_id", RequestIDOf(c))
			}
			return next(c)
		}
		SetRateHeaders(c.Response().Header(), d)
		if !d.Allowed {
			l.decision(rateLimited)
			c.Response().Header().Set("Retry-After", strconv.Itoa(ceilSeconds(d.RetryAfter)))
			return atsgate.Errorf(atsgate.ERATELIMITED,
				"this API key may make %d requests in any %d seconds; retry after the Retry-After seconds",
				l.PerKeyLimit, int(RateWindow/time.Second))
		}
		l.decision(rateAllowed)
		return next(c)
	}
}

// SetRateHeaders writes the classic X-RateLimit-* fields and the IETF
// draft's RateLimit-Policy and RateLimit fields. Reset is in seconds,
// rounded up, so a client that waits that long finds the slot free.
func SetRateHeaders(h http.Header, d atsgate.RateDecision) {
	limit, remaining := strconv.Itoa(d.Limit), strconv.Itoa(d.Remaining)
	reset := strconv.Itoa(ceilSeconds(d.Reset))
	SetExact(h, "X-RateLimit-Limit", limit)
	SetExact(h, "X-RateLimit-Remaining", remaining)
	SetExact(h, "X-RateLimit-Reset", reset)
	SetExact(h, "RateLimit-Policy", limit+";w="+strconv.Itoa(int(RateWindow/time.Second)))
	SetExact(h, "RateLimit", "limit="+limit+", remaining="+remaining+", reset="+reset)
}

// SetExact sets a response header under exactly the spelling name, not
// Go's canonical form ("X-RateLimit-Limit", not "X-Ratelimit-Limit"): the
// docs, the seed and the IETF draft spell them so, and some clients match
// header names case-sensitively. HTTP/2 lowercases every name anyway.
// Read such a header back with h[name], not h.Get.
func SetExact(h http.Header, name, value string) {
	delete(h, http.CanonicalHeaderKey(name))
	h[name] = []string{value}
}

// ceilSeconds is d in whole seconds, rounded up; at least 1 for any
// positive d, 0 for none.
func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// AuthFailures throttles key guessing: it runs before a dialect's
// authentication and counts each 401 that it returns, under the client IP
// (echo's RealIP, which believes X-Forwarded-For only from a trusted
// proxy) and under the presented key's prefix. Once either has failed
// AuthFailureLimit times in a RateWindow, its failures are answered 429
// with Retry-After instead of 401, until a slot frees.
//
// Only failures are ever refused: a request that carries a valid key is
// served whatever its address did. An ATS platform serves many employers
// from one egress address, and behind an ingress every client may share
// one; one customer's revoked key being retried must not lock the others
// out. The price is that a blocked address still costs one key lookup per
// request; what it no longer costs is a limiter call, since a blocked
// subject's failure is answered from this process's memory.
//
// The limiter only counts, it cannot be asked without counting, so the
// "blocked until" is remembered here, per process: another instance
// learns of the block at the subject's first failure there.
func (l *Limits) AuthFailures(next echo.HandlerFunc) echo.HandlerFunc {
	_, combined := l.Limiter.(GenerationLimiter)
	combined = combined && l.PerKeyLimit >= 1
	return func(c echo.Context) error {
		if combined {
			// PerKey can check a cached authentication's generation in its
			// own Redis round trip: see AuthCheck.
			req := c.Request()
			c.SetRequest(req.WithContext(context.WithValue(req.Context(), authCheckKey{}, &AuthCheck{})))
		}
		if l.Limiter == nil || l.AuthFailureLimit < 1 {
			return next(c)
		}
		err := next(c)
		if err == nil || OptPrincipal(c) != nil {
			return err
		}
		if _, status := Classify(err); status != http.StatusUnauthorized { // either dialect's 401s
			return err
		}
		subjects := []string{authFailureSubject(c.RealIP())}
		if prefix := presentedKeyPrefix(c.Request()); prefix != "" {
			subjects = append(subjects, "prefix:"+prefix)
		}
		now := time.Now()
		for _, s := range subjects {
			if wait := l.blocks.blocked(s, now); wait > 0 {
				l.decision(rateAuthFailureLimited)
				return tooManyAuthFailures(c, wait)
			}
		}
		ctx := c.Request().Context()
		for _, s := range subjects {
			d, lerr := l.Limiter.Allow(ctx, authFailKeyPrefix+s, l.AuthFailureLimit, RateWindow)
			switch {
			case lerr != nil:
				l.decision(rateError)
				l.Logger.WarnContext(ctx, "rate limiter failed counting a failed authentication",
					"err", lerr, "subject", s, "request_id", RequestIDOf(c))
				return err
			case d.Allowed:
				continue
			}
			wait := max(d.RetryAfter, time.Second)
			l.blocks.block(s, now.Add(wait))
			l.decision(rateAuthFailureLimited)
			l.Logger.WarnContext(ctx, "too many failed authentications; answering this subject's failures 429 for a while",
				"subject", s, "limit", l.AuthFailureLimit, "retry_after_s", ceilSeconds(wait), "request_id", RequestIDOf(c))
			return tooManyAuthFailures(c, wait)
		}
		return err
	}
}

// authFailureSubject is what failed authentications are counted under:
// the IPv4 address, or the /64 network of an IPv6 address. One IPv6
// subscriber holds a whole /64 (2^64 addresses), so counting each address
// alone would let one client guess keys without limit.
func authFailureSubject(ip string) string {
	a := net.ParseIP(ip)
	if a == nil {
		return ip
	}
	if v4 := a.To4(); v4 != nil {
		return v4.String()
	}
	return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// tooManyAuthFailures is the 429 of a failure from a client IP or key
// prefix over its failure limit.
func tooManyAuthFailures(c echo.Context, wait time.Duration) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, ceilSeconds(wait))))
	return atsgate.Errorf(atsgate.ERATELIMITED,
		"too many failed authentications from this address or with this key; check the API key, and retry after the Retry-After seconds")
}

// maxAuthBlocks bounds the blocked-subject table: beyond it, subjects are
// not remembered, only refused at each failure (the limiter still counts).
const maxAuthBlocks = 100_000

// authBlocks remembers, per process, which subjects (client IPs, key
// prefixes) are over the auth-failure limit and until when.
type authBlocks struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// blocked returns how long ip stays blocked at now; 0 when it is not.
func (b *authBlocks) blocked(ip string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.until[ip]
	if !ok {
		return 0
	}
	if wait := t.Sub(now); wait > 0 {
		return wait
	}
	delete(b.until, ip)
	return 0
}

// block remembers ip as blocked until t, first forgetting expired blocks
// when the table is full.
func (b *authBlocks) block(ip string, t time.Time) {
	if ip == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = make(map[string]time.Time)
	}
	if len(b.until) >= maxAuthBlocks {
		now := time.Now()
		for k, u := range b.until {
			if !u.After(now) {
				delete(b.until, k)
			}
		}
		if len(b.until) >= maxAuthBlocks {
			return
		}
	}
	b.until[ip] = t
}

// rateSubject is what a principal's requests are counted under: its ATS
// key's ID, or its ERP source's ID and key prefix (a rotated ERP key, like
// a rotated ATS key, starts with a fresh allowance).
func rateSubject(p *atsgate.Principal) string {
	if strings.HasPrefix(p.KeyPrefix, "erp_") {
		return "erpkey:" + strconv.FormatInt(p.KeyID, 10) + ":" + p.KeyPrefix
	}
	return rateKeyPrefix + strconv.FormatInt(p.KeyID, 10)
}
