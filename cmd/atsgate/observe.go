package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/atsgate/atsgate/internal/intlog"
	"github.com/atsgate/atsgate/internal/metrics"
	"github.com/atsgate/atsgate/internal/settings"
	"github.com/atsgate/atsgate/internal/store"
)

// observability is the server's metrics and integration log recorder,
// with the recorder's writer and purge loops running.
type observability struct {
	metrics  *metrics.Metrics
	recorder *intlog.Recorder
	log      *slog.Logger

	stopWriter, stopPurge context.CancelFunc
	wg                    sync.WaitGroup
}

// startObservability creates the metrics on a registry of their own and
// starts the integration log's writer and purge loops. The purge loop ends
// with ctx; the writer keeps going until stop, so requests still in flight
// while the HTTP servers drain are logged too.
func startObservability(ctx context.Context, cfg settings.Config, log *slog.Logger, st *store.Store) *observability {
	m := metrics.New(prometheus.NewRegistry())
	m.WatchDB(st.DB())
	rec := intlog.New(st, intlog.Options{Retention: cfg.IntegrationLogRetention, Logger: log})
	m.WatchIntegrationLog(rec)
	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	pctx, stopPurge := context.WithCancel(ctx)
	o := &observability{metrics: m, recorder: rec, log: log, stopWriter: stopWriter, stopPurge: stopPurge}
	o.wg.Add(2)
	go func() { defer o.wg.Done(); rec.Run(wctx) }()
	go func() { defer o.wg.Done(); rec.RunPurge(pctx) }()
	return o
}

// stop drains the integration log queue and waits for both loops. Call it
// after the HTTP servers have stopped.
func (o *observability) stop() {
	o.stopPurge()
	o.stopWriter()
	o.wg.Wait()
	o.log.Info("integration log drained", "written", o.recorder.Written(),
		"dropped", o.recorder.Dropped(),
		"dropped_unauthenticated", o.recorder.DroppedUnauthenticated(), "write_errors", o.recorder.WriteErrors())
}
