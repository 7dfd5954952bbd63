package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/atsgate/atsgate/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
}

type queue struct{}

func (queue) Queued() int                   { return 4 }
func (queue) QueuedBytes() int64            { return 2048 }
func (queue) Capacity() int                 { return 10 }
func (queue) Written() int64                { return 5 }
func (queue) Dropped() int64                { return 6 }
func (queue) DroppedUnauthenticated() int64 { return 9 }
func (queue) WriteErrors() int64            { return 7 }
func (queue) Purged() int64                 { return 8 }

func TestMetrics(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	m.ObserveRequest("/api/ats/jobs", "create", 201, 3*time.Millisecond)
	m.ObserveRequest("/api/ats/jobs", "create", 201, 30*time.Millisecond)
	m.ObserveRequest("/api/ats/jobs", "create", 402, time.Millisecond)
	m.RateLimitDecision("allowed")
	m.RateLimitDecision("limited")
	m.RateLimitDecision("limited")
	m.WatchIntegrationLog(queue{})
	body := scrape(t, m)
	wantLines(t, body,
		`atsgate_http_requests_total{operation="create",route="/api/ats/jobs",status="201"} 2`,
		`atsgate_http_requests_total{operation="create",route="/api/ats/jobs",status="402"} 1`,
		`atsgate_http_request_duration_seconds_bucket{operation="create",route="/api/ats/jobs",le="0.005"} 2`,
		`atsgate_http_request_duration_seconds_count{operation="create",route="/api/ats/jobs"} 3`,
		`atsgate_rate_limit_decisions_total{result="allowed"} 1`,
		`atsgate_rate_limit_decisions_total{result="limited"} 2`,
		"atsgate_integration_log_queue_depth 4",
		"atsgate_integration_log_queue_capacity 10",
		"atsgate_integration_log_queue_bytes 2048",
		"atsgate_integration_log_written_total 5",
		"atsgate_integration_log_dropped_total 6",
		"atsgate_integration_log_dropped_unauthenticated_total 9",
		"atsgate_integration_log_write_errors_total 7",
		"atsgate_integration_log_purged_total 8",
	)
	if strings.Contains(body, "atsgate_limiter_mode{") {
		t.Errorf("limiter_mode exported before any mode is known")
	}

	m.SetLimiterMode("redis")
	wantLines(t, scrape(t, m), `atsgate_limiter_mode{mode="redis"} 1`,
		`atsgate_limiter_mode{mode="degraded"} 0`, `atsgate_limiter_mode{mode="local"} 0`)

	var mode atomic.Value
	mode.Store("degraded")
	m.WatchLimiterMode(func() string { return mode.Load().(string) })
	wantLines(t, scrape(t, m), `atsgate_limiter_mode{mode="degraded"} 1`, `atsgate_limiter_mode{mode="redis"} 0`)
	mode.Store("redis")
	wantLines(t, scrape(t, m), `atsgate_limiter_mode{mode="redis"} 1`, `atsgate_limiter_mode{mode="degraded"} 0`)
}

func TestNilMetrics(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("/", "", 200, time.Millisecond)
	m.RateLimitDecision("allowed")
	m.SetLimiterMode("local")
	m.WatchLimiterMode(func() string { return "local" })
	m.WatchIntegrationLog(queue{})
	m.WatchDB(nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("nil Metrics handler: status %d, want 404", rec.Code)
	}
}
