package wire

import (
	"encoding/json"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// WebhookEvent is the body of every webhook delivery (docs/webhooks.md):
// the event's ID (also in the Atsgate-Event-Id header, the same at every
// attempt: receivers deduplicate on it), its type, when it happened (RFC
// 3339 UTC), the employer, and what changed.
type WebhookEvent struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"`
	Created    string      `json:"created"`
	EmployerID int64       `json:"employer_id"`
	Data       WebhookData `json:"data"`
}

// WebhookData holds the job record of job events (as the ATS API's GET
// shows it when the event happened) or the wallet of wallet events.
type WebhookData struct {
	Job    *JobRecord     `json:"job,omitempty"`
	Wallet *WebhookWallet `json:"wallet,omitempty"`
}

// WebhookWallet is a wallet in a wallet event: the balance after the
// change, and the threshold crossed (wallet.low_balance) or the amount
// charged (wallet.minimum_spend_charged).
type WebhookWallet struct {
	Balance   string `json:"balance"`
	Currency  string `json:"currency"`
	Threshold string `json:"threshold,omitempty"`
	Charge    string `json:"charge,omitempty"`
	Period    string `json:"period,omitempty"` // the month charged, "2006-01"
}

// NewWebhookEvent is the envelope of an event; data is its Data.
func NewWebhookEvent(id string, t atsgate.EventType, created time.Time, employerID int64, data WebhookData) WebhookEvent {
	return WebhookEvent{ID: id, Type: string(t), Created: instant(created), EmployerID: employerID, Data: data}
}

// Body is the event as posted: compact JSON.
func (e WebhookEvent) Body() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // strings, numbers and structs of them always marshal
	}
	return b
}

// Webhook is an employer's endpoint. The signing secret is never shown
// here: only SetWebhook's answer carries it, once.
type Webhook struct {
	EmployerID int64    `json:"employer_id"`
	URL        string   `json:"url"`
	Events     []string `json:"events"`
	// LowBalanceThreshold is "" when none is set.
	LowBalanceThreshold string `json:"low_balance_threshold"`
	Active              bool   `json:"active"`
	CreatedAt           string `json:"created_at"`
	UpdatedAt           string `json:"updated_at"`
}

// NewWebhook is ep on the wire.
func NewWebhook(ep *atsgate.WebhookEndpoint) Webhook {
	w := Webhook{EmployerID: ep.EmployerID, URL: ep.URL, Events: make([]string, len(ep.Events)),
		Active: ep.Active, CreatedAt: instant(ep.CreatedAt), UpdatedAt: instant(ep.UpdatedAt)}
	for i, t := range ep.Events {
		w.Events[i] = string(t)
	}
	if ep.LowBalance.Valid {
		w.LowBalanceThreshold = amount(ep.LowBalance.Decimal)
	}
	return w
}

// WebhookSet answers the setting of an endpoint. Secret is the signing
// secret when one was made (a new endpoint or a rotation), the only time
// it is ever printed; "" (absent) otherwise.
type WebhookSet struct {
	Webhook Webhook `json:"webhook"`
	Secret  string  `json:"secret,omitempty"`
}

// WebhookResponse wraps one endpoint in the admin API.
type WebhookResponse struct {
	Webhook Webhook `json:"webhook"`
}

// WebhookDelivery is one event in the outbox and where its delivery
// stands. Times are RFC 3339 UTC; NextAttempt is "" unless pending.
type WebhookDelivery struct {
	ID          int64  `json:"id"`
	EventID     string `json:"event_id"`
	EmployerID  int64  `json:"employer_id"`
	Type        string `json:"type"`
	JobID       int64  `json:"job_id,omitempty"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	NextAttempt string `json:"next_attempt"`
	GiveUpAt    string `json:"give_up_at"`
	CreatedAt   string `json:"created_at"`
	DeliveredAt string `json:"delivered_at"`
	LastError   string `json:"last_error"`
}

// NewWebhookDelivery is d on the wire.
func NewWebhookDelivery(d *atsgate.WebhookDelivery) WebhookDelivery {
	w := WebhookDelivery{ID: d.ID, EventID: d.EventID, EmployerID: d.EmployerID, Type: string(d.Type), JobID: d.JobID,
		Status: string(d.Status), Attempts: d.Attempts, GiveUpAt: instant(d.GiveUpAt), CreatedAt: instant(d.CreatedAt),
		DeliveredAt: instant(d.DeliveredAt), LastError: d.LastError}
	if d.Status == atsgate.DeliveryPending {
		w.NextAttempt = instant(d.NextAt)
	}
	return w
}

// NewWebhookDeliveries is ds on the wire, [] rather than null.
func NewWebhookDeliveries(ds []atsgate.WebhookDelivery) []WebhookDelivery {
	out := make([]WebhookDelivery, len(ds))
	for i := range ds {
		out[i] = NewWebhookDelivery(&ds[i])
	}
	return out
}

// WebhookAttempt is one try at a delivery. StatusCode is 0 when no answer
// came (Error says why).
type WebhookAttempt struct {
	ID         int64   `json:"id"`
	URL        string  `json:"url"`
	StatusCode int     `json:"status_code"`
	Error      string  `json:"error"`
	DurationMS float64 `json:"duration_ms"`
	Time       string  `json:"time"`
}

// WebhookDeliveryList is a page of deliveries, newest first; NextBefore
// is the before= of the next page, 0 at the end.
type WebhookDeliveryList struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
	NextBefore int64             `json:"next_before,omitempty"`
}

// WebhookDeliveryDetail is one delivery with the body it posts and its
// attempts, oldest first.
type WebhookDeliveryDetail struct {
	Delivery WebhookDelivery  `json:"delivery"`
	Body     json.RawMessage  `json:"body"`
	Attempts []WebhookAttempt `json:"attempts"`
}

// NewWebhookDeliveryDetail is d and its attempts on the wire.
func NewWebhookDeliveryDetail(d *atsgate.WebhookDelivery, attempts []atsgate.WebhookAttempt) WebhookDeliveryDetail {
	out := WebhookDeliveryDetail{Delivery: NewWebhookDelivery(d), Body: json.RawMessage(d.Body),
		Attempts: make([]WebhookAttempt, len(attempts))}
	if !json.Valid(out.Body) {
		out.Body = json.RawMessage("null")
	}
	for i, a := range attempts {
		out.Attempts[i] = WebhookAttempt{ID: a.ID, URL: a.URL, StatusCode: a.StatusCode, Error: a.Error,
			DurationMS: float64(a.Duration.Microseconds()) / 1000, Time: instant(a.CreatedAt)}
	}
	return out
}

// WebhookDeliveryResponse wraps one delivery (a re-send's answer).
type WebhookDeliveryResponse struct {
	Delivery WebhookDelivery `json:"delivery"`
}
