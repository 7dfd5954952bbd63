package atsgateclient

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook delivery.
const (
	SignatureHeader = "Atsgate-Signature"
	EventIDHeader   = "Atsgate-Event-Id"
	EventTypeHeader = "Atsgate-Event-Type"
)

// The event types.
const (
	EventJobPublished              = "job.published"
	EventJobDisapproved            = "job.disapproved"
	EventJobEditApproved           = "job.edit_approved"
	EventJobEditDisapproved        = "job.edit_disapproved"
	EventJobClosed                 = "job.closed"
	EventJobExpired                = "job.expired"
	EventWalletLowBalance          = "wallet.low_balance"
	EventWalletMinimumSpendCharged = "wallet.minimum_spend_charged"
)

// Event is the body of a webhook delivery. Delivery is at least once:
// drop an ID you have handled already.
type Event struct {
	// ID is unique per event ("evt_…"); every delivery of it carries it.
	ID   string `json:"id"`
	Type string `json:"type"`
	// Created is when the change happened.
	Created    time.Time `json:"created"`
	EmployerID int64     `json:"employer_id"`
	Data       EventData `json:"data"`
}

// EventData is what an event is about: a job, for job events; the wallet,
// for wallet events.
type EventData struct {
	// Job is the job as the ATS API's Get shows it.
	Job    *Job    `json:"job,omitempty"`
	Wallet *Wallet `json:"wallet,omitempty"`
}

// Wallet is the wallet of a wallet event; amounts are decimal strings.
type Wallet struct {
	Balance  string `json:"balance"`
	Currency string `json:"currency"`
	// Threshold is the low-balance threshold (wallet.low_balance).
	Threshold string `json:"threshold,omitempty"`
	// Charge is what a minimum-spend reconciliation debited
	// (wallet.minimum_spend_charged).
	Charge string `json:"charge,omitempty"`
	// Period is the month a minimum-spend charge is for, "2006-01".
	Period string `json:"period,omitempty"`
}

// Errors of VerifyWebhook.
var (
	// ErrSignatureMalformed: the header is missing or not
	// "t=<unix>,v1=<hex>".
	ErrSignatureMalformed = errors.New("atsgateclient: the webhook signature header is missing or malformed")
	// ErrSignatureMismatch: no v1 signature matches the body and secret.
	ErrSignatureMismatch = errors.New("atsgateclient: the webhook signature does not match")
	// ErrSignatureExpired: the timestamp is further from now than the
	// tolerance, a replay of an old delivery or a skewed clock.
	ErrSignatureExpired = errors.New("atsgateclient: the webhook signature's timestamp is outside the tolerance")
)

// DefaultTolerance is a sensible age limit for VerifyWebhook.
const DefaultTolerance = 5 * time.Minute

// VerifyWebhook checks a delivery and returns its event. header is the
// Atsgate-Signature header, "t=<unix seconds>,v1=<hex HMAC-SHA256>"; the
// HMAC, keyed with the endpoint's signing secret, is of t, ".", and the
// raw body exactly as received (verify before any JSON parsing or
// re-encoding). A header may carry several v1 values (around a secret's
// rotation); one matching is enough. The timestamp must be within
// tolerance of now, either way; tolerance 0 skips that check.
func VerifyWebhook(secret, header string, body []byte, tolerance time.Duration) (*Event, error) {
	return verifyWebhookAt(time.Now(), secret, header, body, tolerance)
}

func verifyWebhookAt(now time.Time, secret, header string, body []byte, tolerance time.Duration) (*Event, error) {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return nil, ErrSignatureMalformed
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	want := mac.Sum(nil)
	matched := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			matched = true
		}
	}
	if !matched {
		return nil, ErrSignatureMismatch
	}
	if age := now.Sub(time.Unix(sec, 0)); tolerance > 0 && (age > tolerance || age < -tolerance) {
		return nil, ErrSignatureExpired
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("atsgateclient: the webhook body is not an event: %w", err)
	}
	return &ev, nil
}

// SignWebhook computes the Atsgate-Signature header of body at t, as the
// server does: for testing a receiver.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}
