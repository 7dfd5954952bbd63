// Package webhook delivers the events of the outbox (SPEC section 9): it
// signs each body the way docs/webhooks.md describes, posts it with an
// HTTP client that refuses private addresses at connect time, and records
// every attempt. It also sets an employer's endpoint (Service), checking
// the URL's addresses and sealing the signing secret.
//
// Every serve instance runs a Worker. Claims are leased rows of the
// outbox (store.ClaimWebhooks), so instances share the work without
// posting one event twice at once, and a crashed instance's claims are
// taken over when their lease passes. Delivery is at least once: a
// receiver deduplicates on the event ID.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/seal"
)

// Headers of a delivery.
const (
	HeaderSignature = "Atsgate-Signature"
	HeaderEventID   = "Atsgate-Event-Id"
	HeaderEventType = "Atsgate-Event-Type"
)

// Sign is the Atsgate-Signature header of body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// NewSecret is a fresh signing secret: "whsec_" and 32 random bytes in hex.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + hex.EncodeToString(b)
}

// errRefused is an address the webhook may not reach.
var errRefused = errors.New("refused address")

// checkAddr refuses ip unless allowPrivate or it is public.
func checkAddr(ip netip.Addr, allowPrivate bool) error {
	if allowPrivate || atsgate.PublicAddr(ip) {
		return nil
	}
	return fmt.Errorf("%w %s: private, loopback, link-local and other local addresses are not webhook targets", errRefused, ip.Unmap())
}

// NewClient is the HTTP client of deliveries: no proxy, no redirects
// followed (a 3xx is a failed attempt), each attempt bounded by
// atsgate.WebhookTimeout, and every connection's actual peer address
// checked as it is made, after DNS resolution, so a name that resolves
// (or re-resolves) to a private address is refused, unless allowPrivate.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w %q", errRefused, address)
			}
			return checkAddr(ap.Addr(), allowPrivate)
		},
	}
	return &http.Client{
		Timeout: atsgate.WebhookTimeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: atsgate.WebhookTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       60 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CheckURL refuses an endpoint URL whose host is, or resolves to, an
// address the client would refuse (unless allowPrivate), with EINVALID
// naming the field "url". The client checks again at every connection:
// a name's addresses can change after it was set.
func CheckURL(ctx context.Context, r *net.Resolver, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return atsgate.Invalid(map[string]string{"url": "is not a URL"})
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if r == nil {
			r = net.DefaultResolver
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return atsgate.Invalid(map[string]string{"url": fmt.Sprintf("host %q does not resolve", host)})
		}
	}
	for _, a := range addrs {
		if err := checkAddr(a, false); err != nil {
			return atsgate.Invalid(map[string]string{"url": fmt.Sprintf("host %q is %s, a private, loopback or link-local address; "+
				"webhooks go to public addresses (ATSGATE_WEBHOOK_ALLOW_PRIVATE=true allows others)", host, a.Unmap())})
		}
	}
	return nil
}

// Store is what the Service keeps endpoints in (*store.Store).
type Store interface {
	SaveWebhook(ctx context.Context, employerID int64, in atsgate.WebhookInput, sealed string) (*atsgate.WebhookEndpoint, bool, error)
	Webhook(ctx context.Context, employerID int64) (*atsgate.WebhookEndpoint, error)
	DisableWebhook(ctx context.Context, employerID int64) (*atsgate.WebhookEndpoint, error)
	WebhookDeliveries(ctx context.Context, f atsgate.DeliveryFilter) ([]atsgate.WebhookDelivery, error)
	WebhookDelivery(ctx context.Context, id int64) (*atsgate.WebhookDelivery, []atsgate.WebhookAttempt, error)
	ResendWebhook(ctx context.Context, id int64) (*atsgate.WebhookDelivery, error)
}

// Service implements atsgate.Webhooks over a Store.
type Service struct {
	Store
	// Box seals signing secrets (ATSGATE_SECRET_KEY).
	Box *seal.Box
	// AllowHTTP accepts http:// endpoints (development).
	AllowHTTP bool
	// AllowPrivate accepts endpoints on private addresses
	// (ATSGATE_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	// Resolver resolves endpoint hosts; nil is net.DefaultResolver.
	Resolver *net.Resolver
}

var _ atsgate.Webhooks = (*Service)(nil)

// SetWebhook implements atsgate.Webhooks.
func (s *Service) SetWebhook(ctx context.Context, employerID int64, in atsgate.WebhookInput) (*atsgate.WebhookEndpoint, string, error) {
	if err := in.Check(s.AllowHTTP); err != nil {
		return nil, "", err
	}
	if err := CheckURL(ctx, s.Resolver, in.URL, s.AllowPrivate); err != nil {
		return nil, "", err
	}
	secret := NewSecret()
	sealed, err := s.Box.Seal([]byte(secret))
	if err != nil {
		return nil, "", atsgate.Internal(fmt.Errorf("seal webhook secret: %w", err))
	}
	ep, used, err := s.Store.SaveWebhook(ctx, employerID, in, sealed)
	if err != nil {
		return nil, "", err
	}
	if !used {
		secret = ""
	}
	return ep, secret, nil
}
