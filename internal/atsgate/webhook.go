package atsgate

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// EventType names what a webhook event reports. The names are part of the
// public API (SPEC section 9): receivers switch on them.
type EventType string

// Event types.
const (
	EventJobPublished         EventType = "job.published"
	EventJobDisapproved       EventType = "job.disapproved"
	EventJobEditApproved      EventType = "job.edit_approved"
	EventJobEditDisapproved   EventType = "job.edit_disapproved"
	EventJobClosed            EventType = "job.closed"
	EventJobExpired           EventType = "job.expired"
	EventWalletLowBalance     EventType = "wallet.low_balance"
	EventWalletMinimumCharged EventType = "wallet.minimum_spend_charged"
)

// EventTypes lists every event type, in the order the docs show them.
var EventTypes = []EventType{EventJobPublished, EventJobDisapproved, EventJobEditApproved, EventJobEditDisapproved,
	EventJobClosed, EventJobExpired, EventWalletLowBalance, EventWalletMinimumCharged}

// Valid reports whether t is one of EventTypes.
func (t EventType) Valid() bool { return slices.Contains(EventTypes, t) }

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// Delivery statuses: pending until a 2xx answer (delivered) or until the
// retry window has passed (failed).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Valid reports whether s is a delivery status.
func (s DeliveryStatus) Valid() bool {
	return s == DeliveryPending || s == DeliveryDelivered || s == DeliveryFailed
}

// WebhookRetryWindow is how long a delivery is retried after its event (or
// an operator's re-send) before it is marked failed.
const WebhookRetryWindow = 24 * time.Hour

// WebhookTimeout bounds one delivery attempt: connecting, sending and
// reading the answer's status.
const WebhookTimeout = 10 * time.Second

// WebhookBackoff is the wait after the attempt-th failed attempt (1, 2, …):
// 10 s doubling up to an hour, scaled by jitter (a number in [0, 1), from
// the caller's random source) to between 75 % and 125 %, so receivers that
// come back are not hit by every sender at once.
func WebhookBackoff(attempt int, jitter float64) time.Duration {
	d := 10 * time.Second * time.Duration(math.Pow(2, float64(min(max(attempt, 1), 20)-1)))
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.75 + jitter/2))
}

// WebhookEndpoint is where an employer receives its events.
type WebhookEndpoint struct {
	EmployerID int64
	URL        string
	Events     []EventType
	// LowBalance is the threshold of wallet.low_balance: the event is sent
	// when a debit takes the balance from at least it to below it.
	LowBalance decimal.NullDecimal
	Active     bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Selects reports whether the endpoint is active and receives t.
func (e *WebhookEndpoint) Selects(t EventType) bool {
	return e != nil && e.Active && slices.Contains(e.Events, t)
}

// WebhookInput sets an employer's endpoint.
type WebhookInput struct {
	URL string
	// Events selects what is sent; empty selects every event type
	// (wallet.low_balance only with a LowBalance threshold).
	Events     []EventType
	LowBalance decimal.NullDecimal
	// RotateSecret replaces the signing secret of an existing endpoint.
	RotateSecret bool
}

// Check validates the input's form; https is required unless allowHTTP
// (development). Addresses are checked by the caller, which resolves them.
// It fills in the default event selection.
func (in *WebhookInput) Check(allowHTTP bool) error {
	fields := map[string]string{}
	u, err := url.Parse(strings.TrimSpace(in.URL))
	switch {
	case strings.TrimSpace(in.URL) == "":
		fields["url"] = "is required"
	case err != nil || u.Host == "" || u.Hostname() == "":
		fields["url"] = "is not an absolute URL"
	case u.User != nil:
		fields["url"] = "must not carry a user name or password"
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme == "http":
		fields["url"] = "must be https"
	default:
		fields["url"] = "must be an https URL"
	}
	if len(in.URL) > 2000 {
		fields["url"] = "is longer than 2000 characters"
	}
	if err == nil && fields["url"] == "" {
		u.Fragment = ""
		in.URL = u.String()
	}
	if len(in.Events) == 0 {
		for _, t := range EventTypes {
			if t != EventWalletLowBalance || in.LowBalance.Valid {
				in.Events = append(in.Events, t)
			}
		}
	}
	seen := map[EventType]bool{}
	var events []EventType
	for _, t := range in.Events {
		if !t.Valid() {
			fields["events"] = fmt.Sprintf("%q is not an event type (%s)", t, joinEvents(EventTypes))
			continue
		}
		if !seen[t] {
			seen[t] = true
			events = append(events, t)
		}
	}
	in.Events = events
	if in.LowBalance.Valid {
		if msg := CheckAmount(in.LowBalance.Decimal); msg != "" {
			fields["low_balance_threshold"] = msg
		} else if in.LowBalance.Decimal.IsNegative() {
			fields["low_balance_threshold"] = "must not be negative"
		}
	} else if seen[EventWalletLowBalance] && len(fields) == 0 {
		fields["low_balance_threshold"] = "is required when wallet.low_balance is selected"
	}
	if len(fields) > 0 {
		return Invalid(fields)
	}
	return nil
}

func joinEvents(ts []EventType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// ParseEvents reads a comma-separated list of event types; "" is none
// (which WebhookInput.Check turns into every type).
func ParseEvents(s string) []EventType {
	var out []EventType
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, EventType(p))
		}
	}
	return out
}

// PublicAddr reports whether a webhook may be delivered to ip: not
// loopback, private, link-local, unspecified, multicast or otherwise
// reserved for local use. An IPv4-mapped IPv6 address is judged as IPv4.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range reservedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// reservedPrefixes are ranges the netip predicates do not name that still
// reach local or non-routable hosts.
var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 onto IPv4 (could reach a private one)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// WebhookDelivery is one event in the outbox and where its delivery stands.
type WebhookDelivery struct {
	ID          int64
	EventID     string
	EmployerID  int64
	Type        EventType
	JobID       int64 // 0 for wallet events
	Status      DeliveryStatus
	Attempts    int
	NextAt      time.Time // the next attempt, while pending
	GiveUpAt    time.Time
	CreatedAt   time.Time
	DeliveredAt time.Time
	LastError   string
	// Body is the JSON envelope posted, the same bytes at every attempt.
	Body string
}

// WebhookAttempt is one try at delivering an event.
type WebhookAttempt struct {
	ID         int64
	DeliveryID int64
	URL        string
	StatusCode int // 0 when no answer came
	Error      string
	Duration   time.Duration
	CreatedAt  time.Time
}

// DeliveryFilter selects deliveries for the back office, newest first.
type DeliveryFilter struct {
	EmployerID int64
	Status     DeliveryStatus
	BeforeID   int64
	Limit      int
}

// Webhooks is what the back office and the CLI do with webhooks.
type Webhooks interface {
	// SetWebhook creates or replaces the employer's endpoint and makes it
	// active. It returns the signing secret in clear when one was made
	// (a new endpoint, or in.RotateSecret), "" otherwise. EINVALID for a
	// bad URL (also one that resolves to a refused address), ENOTFOUND.
	SetWebhook(ctx context.Context, employerID int64, in WebhookInput) (ep *WebhookEndpoint, secret string, err error)
	// Webhook returns the employer's endpoint. ENOTFOUND when none was set.
	Webhook(ctx context.Context, employerID int64) (*WebhookEndpoint, error)
	// DisableWebhook stops new events for the employer; pending ones are
	// failed at their next attempt. ENOTFOUND.
	DisableWebhook(ctx context.Context, employerID int64) (*WebhookEndpoint, error)
	// WebhookDeliveries lists deliveries, newest first. EINVALID for an
	// unknown status.
	WebhookDeliveries(ctx context.Context, f DeliveryFilter) ([]WebhookDelivery, error)
	// WebhookDelivery returns one delivery with its attempts, oldest first.
	// ENOTFOUND.
	WebhookDelivery(ctx context.Context, id int64) (*WebhookDelivery, []WebhookAttempt, error)
	// ResendWebhook makes a delivery pending again, due now, with a new
	// retry window; the event keeps its ID and body. ENOTFOUND, ECONFLICT
	// while it is pending.
	ResendWebhook(ctx context.Context, id int64) (*WebhookDelivery, error)
}

// WebhookClaim is a delivery a worker has claimed for one attempt, with
// the endpoint to post it to as it stands now.
type WebhookClaim struct {
	Delivery WebhookDelivery
	URL      string
	// SealedSecret is the signing secret as stored (sealed).
	SealedSecret string
	// Active is false when the endpoint was disabled (or removed) since
	// the event was written: the delivery is failed, not posted.
	Active bool
}
