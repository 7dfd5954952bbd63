package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/seal"
)

// Outbox is what the worker claims deliveries from (*store.Store).
type Outbox interface {
	ClaimWebhooks(ctx context.Context, n int, lease time.Duration) ([]atsgate.WebhookClaim, error)
	FinishWebhook(ctx context.Context, c *atsgate.WebhookClaim, a atsgate.WebhookAttempt, delivered bool, retryAt time.Time) (atsgate.DeliveryStatus, error)
	WebhookBacklog(ctx context.Context) (pending int64, oldestDue time.Duration, err error)
}

// Metrics receives the worker's measurements (*metrics.Metrics).
type Metrics interface {
	// WebhookAttempt counts one attempt: outcome is "delivered", "retry"
	// or "failed" (the delivery gave up), reason why it was not delivered
	// ("http_status", "network", "refused", "disabled"; "" when it was).
	WebhookAttempt(outcome, reason string, d time.Duration)
	// SetWebhookBacklog sets the outbox gauges.
	SetWebhookBacklog(pending int64, oldestDue time.Duration)
}

// Worker delivers the outbox's due events until its context ends.
type Worker struct {
	Outbox  Outbox
	Box     *seal.Box
	Client  *http.Client // NewClient; nil: NewClient(false)
	Log     *slog.Logger
	Metrics Metrics // nil measures nothing
	// Poll is the wait when nothing was due (1 s when zero).
	Poll time.Duration
	// Batch is how many deliveries one claim takes, posted in parallel
	// (8 when zero).
	Batch int
	// Now and Jitter are the clock and the random source of the backoff;
	// nil: time.Now and math/rand.
	Now    func() time.Time
	Jitter func() float64
}

// lease is how long a claim holds a delivery: longer than an attempt can
// take, so a live worker's claim never passes to another.
const lease = atsgate.WebhookTimeout + 50*time.Second

// Run delivers until ctx ends; an attempt under way when it does is
// finished (bounded by atsgate.WebhookTimeout) and recorded.
func (w *Worker) Run(ctx context.Context) {
	poll := w.Poll
	if poll <= 0 {
		poll = time.Second
	}
	var lastBacklog time.Time
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().Error("webhook deliveries", "err", err)
		}
		if time.Since(lastBacklog) >= 10*time.Second {
			w.reportBacklog(ctx)
			lastBacklog = time.Now()
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}
}

func (w *Worker) reportBacklog(ctx context.Context) {
	if w.Metrics == nil {
		return
	}
	pending, oldest, err := w.Outbox.WebhookBacklog(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log().Warn("webhook backlog", "err", err)
		}
		return
	}
	w.Metrics.SetWebhookBacklog(pending, oldest)
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// RunOnce claims one batch of due deliveries and attempts each, in
// parallel, returning how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	batch := w.Batch
	if batch <= 0 {
		batch = 8
	}
	claims, err := w.Outbox.ClaimWebhooks(ctx, batch, lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for i := range claims {
		wg.Add(1)
		go func(c *atsgate.WebhookClaim) {
			defer wg.Done()
			w.deliver(context.WithoutCancel(ctx), c)
		}(&claims[i])
	}
	wg.Wait()
	return len(claims), nil
}

// deliver makes one attempt at c and records it.
func (w *Worker) deliver(ctx context.Context, c *atsgate.WebhookClaim) {
	now := w.now()
	a := atsgate.WebhookAttempt{URL: c.URL}
	reason := ""
	switch {
	case !c.Active || c.URL == "":
		a.Error, reason = "the endpoint was disabled", "disabled"
	default:
		a.StatusCode, a.Error, reason = w.post(ctx, c, now)
		a.Duration = w.now().Sub(now)
	}
	delivered := reason == ""
	var retryAt time.Time
	if !delivered && reason != "disabled" {
		retryAt = w.now().Add(atsgate.WebhookBackoff(c.Delivery.Attempts, w.jitter()))
	}
	status, err := w.Outbox.FinishWebhook(ctx, c, a, delivered, retryAt)
	if err != nil {
		// The claim's lease passes and the delivery is attempted again:
		// at least once, never lost.
		w.log().Error("record webhook attempt", "delivery_id", c.Delivery.ID, "err", err)
		return
	}
	outcome := map[atsgate.DeliveryStatus]string{atsgate.DeliveryDelivered: "delivered",
		atsgate.DeliveryPending: "retry", atsgate.DeliveryFailed: "failed"}[status]
	if outcome == "" {
		outcome = "superseded"
	}
	if w.Metrics != nil {
		w.Metrics.WebhookAttempt(outcome, reason, a.Duration)
	}
	level := slog.LevelInfo
	if status == atsgate.DeliveryFailed {
		level = slog.LevelWarn
	}
	w.log().Log(ctx, level, "webhook attempt", "delivery_id", c.Delivery.ID, "event_id", c.Delivery.EventID,
		"type", string(c.Delivery.Type), "employer_id", c.Delivery.EmployerID, "attempt", c.Delivery.Attempts,
		"status_code", a.StatusCode, "error", a.Error, "outcome", outcome, "duration_ms", a.Duration.Milliseconds())
}

// post sends the event once; reason is "" for a 2xx answer.
func (w *Worker) post(ctx context.Context, c *atsgate.WebhookClaim, now time.Time) (code int, msg, reason string) {
	secret, err := w.Box.Open(c.SealedSecret)
	if err != nil {
		return 0, "the signing secret cannot be opened with this ATSGATE_SECRET_KEY", "refused"
	}
	ctx, cancel := context.WithTimeout(ctx, atsgate.WebhookTimeout)
	defer cancel()
	body := []byte(c.Delivery.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "bad endpoint URL: " + err.Error(), "refused"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "atsgate-webhooks/1")
	req.Header.Set(HeaderSignature, Sign(secret, now, body))
	req.Header.Set(HeaderEventID, c.Delivery.EventID)
	req.Header.Set(HeaderEventType, string(c.Delivery.Type))
	client := w.Client
	if client == nil {
		client = NewClient(false)
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, errRefused) {
			return 0, trim(err.Error()), "refused"
		}
		return 0, trim(err.Error()), "network"
	}
	// Read a little of the answer so the connection can be reused; the
	// rest is not ours to wait for.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, "", ""
	}
	return resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode), "http_status"
}

func trim(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) jitter() float64 {
	if w.Jitter != nil {
		return w.Jitter()
	}
	return rand.Float64()
}
