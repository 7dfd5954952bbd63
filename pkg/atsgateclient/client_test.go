package atsgateclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The retry policy in isolation; the client against the real server is
// tested in internal/web (client_test.go).

func flaky(t *testing.T, answers ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func status(code int, retryAfter string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		w.Write([]byte(`{"error":{"code":"x","message":"y"}}`))
	}
}

func okJob(w http.ResponseWriter) { w.Write([]byte(`{"external_id":"A","state":"published"}`)) }

func TestRetriesOn429And503HonouringRetryAfter(t *testing.T) {
	srv, n := flaky(t, status(503, ""), status(429, "1"), okJob)
	c, _ := New(srv.URL, "k", WithBackoff(time.Millisecond, 5*time.Millisecond))
	start := time.Now()
	j, err := c.Get(context.Background(), "A")
	if err != nil || j.ExternalID != "A" {
		t.Fatalf("get = %v, %v", j, err)
	}
	if n.Load() != 3 || time.Since(start) < time.Second {
		t.Errorf("%d tries in %v; want 3, the last after Retry-After's second", n.Load(), time.Since(start))
	}
}

func TestNoRetryOnOtherRefusals(t *testing.T) {
	for _, code := range []int{400, 401, 402, 404, 409, 422, 500} {
		srv, n := flaky(t, status(code, ""), okJob)
		c, _ := New(srv.URL, "k", WithBackoff(time.Millisecond, time.Millisecond))
		_, err := c.Get(context.Background(), "A")
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != code || n.Load() != 1 {
			t.Errorf("%d: err %v after %d tries; want the APIError after 1", code, err, n.Load())
		}
	}
}

func TestRetriesTransportErrorsThenGivesUp(t *testing.T) {
	srv, n := flaky(t, func(w http.ResponseWriter) {
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	})
	c, _ := New(srv.URL, "k", WithRetries(2), WithBackoff(time.Millisecond, 2*time.Millisecond))
	_, err := c.Get(context.Background(), "A")
	var ae *APIError
	if err == nil || errors.As(err, &ae) || n.Load() != 3 {
		t.Errorf("err %v after %d tries; want a transport error after 3", err, n.Load())
	}
}

func TestBackoffGrowsWithJitterUnderTheCap(t *testing.T) {
	c, _ := New("http://x", "k", WithBackoff(100*time.Millisecond, time.Second))
	for attempt, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceil *= time.Millisecond
		for range 50 {
			if d := c.backoff(attempt); d < ceil/2 || d > ceil {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, ceil/2, ceil)
			}
		}
	}
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"wallet.low_balance","created":"2026-06-18T09:14:32Z","employer_id":7,"data":{"wallet":{"balance":"40.00","currency":"GHS","threshold":"100.00"}}}`)
	now := time.Unix(1_781_000_000, 0)
	good := SignWebhook("s3cret", now, body)
	ev, err := verifyWebhookAt(now.Add(time.Minute), "s3cret", good, body, DefaultTolerance)
	if err != nil || ev.ID != "evt_1" || ev.Data.Wallet.Balance != "40.00" || ev.EmployerID != 7 {
		t.Fatalf("verify = %+v, %v", ev, err)
	}
	other := SignWebhook("old", now, body)
	if _, err := verifyWebhookAt(now, "s3cret", other+","+good[len("t=1781000000,"):], body, DefaultTolerance); err != nil {
		t.Errorf("two v1 values, one matching: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		at             time.Time
		want           error
	}{
		"tampered body": {"s3cret", good, append([]byte(" "), body...), now, ErrSignatureMismatch},
		"wrong secret":  {"other", good, body, now, ErrSignatureMismatch},
		"stale":         {"s3cret", good, body, now.Add(6 * time.Minute), ErrSignatureExpired},
		"future":        {"s3cret", good, body, now.Add(-6 * time.Minute), ErrSignatureExpired},
		"no header":     {"s3cret", "", body, now, ErrSignatureMalformed},
		"no v1":         {"s3cret", "t=1781000000", body, now, ErrSignatureMalformed},
		"no t":          {"s3cret", good[len("t=1781000000,"):], body, now, ErrSignatureMalformed},
	} {
		if _, err := verifyWebhookAt(c.at, c.secret, c.header, c.body, DefaultTolerance); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}
