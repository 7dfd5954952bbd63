// Package metrics is atsgate's Prometheus instrumentation: requests and
// their latency by route and operation, rate-limit decisions and the
// limiter's mode, the integration log's queue, the database pool, webhook
// deliveries and the outbox, and scheduled reconciliations.
//
// Everything is registered on a registry the caller creates (never the
// global one), so tests and several servers in one process do not collide.
// Every method is safe on a nil *Metrics, which measures nothing.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "atsgate"

// LimiterModes are the values SetLimiterMode accepts (ratelimit.Mode*).
var LimiterModes = []string{"redis", "degraded", "local"}

// Metrics holds the collectors.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	rateLimit *prometheus.CounterVec

	webhookAttempts  *prometheus.CounterVec
	webhookFailures  *prometheus.CounterVec
	webhookDuration  prometheus.Histogram
	webhookPending   prometheus.Gauge
	webhookOldestDue prometheus.Gauge
	reconcileRuns    *prometheus.CounterVec

	modeMu   sync.Mutex
	mode     string        // set by SetLimiterMode
	modeFunc func() string // or read at each scrape (WatchLimiterMode)
}

// New registers atsgate's collectors, and the Go runtime and process
// collectors, on reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests by route pattern, API operation (create, update, close, get, list, …; empty outside the APIs) and status code.",
		}, []string{"route", "operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "Time from the request reaching the router to the response being written, by route pattern and API operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "operation"}),
		rateLimit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rate_limit_decisions_total",
			Help: "Rate-limit decisions by result (allowed, limited, …).",
		}, []string{"result"}),
	}
	m.webhookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhook_attempts_total",
		Help: "Webhook delivery attempts by outcome: delivered (2xx), retry (failed, tried again later), failed (failed, the delivery gave up), superseded (its claim was lost).",
	}, []string{"outcome"})
	m.webhookFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhook_attempt_failures_total",
		Help: "Failed webhook attempts by reason: http_status (a non-2xx answer), network (no answer), refused (a refused address or a secret that cannot be opened), disabled (the endpoint was disabled).",
	}, []string{"reason"})
	m.webhookDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "webhook_attempt_duration_seconds",
		Help:    "Time of one webhook attempt, from connecting to the answer's status.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.webhookPending = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "webhook_outbox_pending",
		Help: "Webhook events waiting to be delivered (due now or retrying later), as the delivery worker last read it.",
	})
	m.webhookOldestDue = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "webhook_outbox_oldest_due_seconds",
		Help: "Age of the oldest webhook event that is due and not delivered; 0 when none is.",
	})
	m.reconcileRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "reconciliation_runs_total",
		Help: "Scheduled minimum-spend reconciliations by result: ok, or failed (the run, or one employer's line, failed; the next run retries).",
	}, []string{"result"})
	reg.MustRegister(m.webhookAttempts, m.webhookFailures, m.webhookDuration, m.webhookPending, m.webhookOldestDue, m.reconcileRuns)
	for _, r := range []string{"ok", "failed"} {
		m.reconcileRuns.WithLabelValues(r)
	}
	for _, o := range []string{"delivered", "retry", "failed"} {
		m.webhookAttempts.WithLabelValues(o)
	}
	mode := limiterModeCollector{m: m, desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "limiter_mode"),
		"1 for the rate limiter's current mode: redis (shared), degraded (Redis failing, in-process fallback) or local (no Redis configured).",
		[]string{"mode"}, nil)}
	reg.MustRegister(m.requests, m.latency, m.rateLimit, mode,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the collectors are registered.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest counts one request and its latency. route is the router's
// pattern ("/api/ats/jobs"), never the raw path, so the label set stays
// bounded.
func (m *Metrics) ObserveRequest(route, operation string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, operation, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, operation).Observe(d.Seconds())
}

// RateLimitDecision counts one decision of the rate limiter; result is a
// short fixed word such as "allowed", "limited" or "auth_failure_limited".
func (m *Metrics) RateLimitDecision(result string) {
	if m == nil {
		return
	}
	m.rateLimit.WithLabelValues(result).Inc()
}

// SetLimiterMode records mode ("redis", "degraded" or "local") as the
// limiter's current mode: limiter_mode is 1 for it and 0 for the others.
func (m *Metrics) SetLimiterMode(mode string) {
	if m == nil {
		return
	}
	m.modeMu.Lock()
	m.mode = mode
	m.modeMu.Unlock()
}

// WatchLimiterMode makes each scrape read the limiter's mode from mode
// (ratelimit.Fallback.Mode), so no one has to call SetLimiterMode on
// every change. It takes precedence over SetLimiterMode.
func (m *Metrics) WatchLimiterMode(mode func() string) {
	if m == nil {
		return
	}
	m.modeMu.Lock()
	m.modeFunc = mode
	m.modeMu.Unlock()
}

func (m *Metrics) limiterMode() string {
	m.modeMu.Lock()
	mode, f := m.mode, m.modeFunc
	m.modeMu.Unlock()
	if f != nil {
		return f()
	}
	return mode
}

// limiterModeCollector exports the limiter's mode as one gauge per mode.
type limiterModeCollector struct {
	m    *Metrics
	desc *prometheus.Desc
}

func (c limiterModeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c limiterModeCollector) Collect(ch chan<- prometheus.Metric) {
	mode := c.m.limiterMode()
	if mode == "" {
		return // not known yet
	}
	for _, k := range LimiterModes {
		v := 0.0
		if k == mode {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, k)
	}
}

// LogQueue is what the metrics read from the integration log recorder
// (*intlog.Recorder).
type LogQueue interface {
	Queued() int
	QueuedBytes() int64
	Capacity() int
	Written() int64
	Dropped() int64
	DroppedUnauthenticated() int64
	WriteErrors() int64
	Purged() int64
}

// WatchIntegrationLog exports q's queue depth and counters, read at each
// scrape.
func (m *Metrics) WatchIntegrationLog(q LogQueue) {
	if m == nil || q == nil {
		return
	}
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "integration_log", n) }
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name("queue_depth"),
			Help: "Integration log entries waiting to be written."},
			func() float64 { return float64(q.Queued()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name("queue_bytes"),
			Help: "Memory the waiting integration log entries are counted as (bodies plus a fixed overhead)."},
			func() float64 { return float64(q.QueuedBytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name("queue_capacity"),
			Help: "Size of the integration log queue; beyond it entries are dropped."},
			func() float64 { return float64(q.Capacity()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name("written_total"),
			Help: "Integration log entries stored."},
			func() float64 { return float64(q.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name("dropped_total"),
			Help: "Integration log entries dropped because the queue was full."},
			func() float64 { return float64(q.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name("dropped_unauthenticated_total"),
			Help: "Integration log entries of requests refused before authentication left out over their rate or queue share."},
			func() float64 { return float64(q.DroppedUnauthenticated()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name("write_errors_total"),
			Help: "Integration log entries lost because writing their batch failed."},
			func() float64 { return float64(q.WriteErrors()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name("purged_total"),
			Help: "Integration log entries deleted after the retention period."},
			func() float64 { return float64(q.Purged()) }),
	)
}

// WatchDB exports the connection pool statistics of db
// (go_sql_open_connections{db_name="atsgate"}, go_sql_wait_count_total, …).
func (m *Metrics) WatchDB(db *sql.DB) {
	if m == nil || db == nil {
		return
	}
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, Namespace))
}

// WebhookAttempt counts one webhook attempt by outcome and, when it was
// not delivered, by reason; d is its duration (0 when nothing was sent).
func (m *Metrics) WebhookAttempt(outcome, reason string, d time.Duration) {
	if m == nil {
		return
	}
	m.webhookAttempts.WithLabelValues(outcome).Inc()
	if reason != "" {
		m.webhookFailures.WithLabelValues(reason).Inc()
	}
	if d > 0 {
		m.webhookDuration.Observe(d.Seconds())
	}
}

// SetWebhookBacklog sets the outbox gauges.
func (m *Metrics) SetWebhookBacklog(pending int64, oldestDue time.Duration) {
	if m == nil {
		return
	}
	m.webhookPending.Set(float64(pending))
	m.webhookOldestDue.Set(oldestDue.Seconds())
}

// ReconciliationRun counts one scheduled reconciliation of a month: ok,
// or failed when the run or any employer's line failed.
func (m *Metrics) ReconciliationRun(ok bool) {
	if m == nil {
		return
	}
	r := "ok"
	if !ok {
		r = "failed"
	}
	m.reconcileRuns.WithLabelValues(r).Inc()
}
