package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/metrics"
	"github.com/atsgate/atsgate/internal/store"
)

// How often serve runs its background work.
const (
	expireEvery    = time.Minute
	reconcileEvery = time.Hour
)

// startSchedule runs the periodic money and lifecycle work of serve in a
// goroutine until ctx ends, and returns a function that stops it and waits
// for it, so the store is never closed under a running job.
//
// Every minute it expires published jobs past their deadline. Every hour,
// and once at start-up, it reconciles the minimum monthly spend of the
// previous month and of the current one (UTC months):
//
//   - "It runs on the 1st" without a calendar: a month is reconciled by the
//     first run after it has ended in the employer's country time zone, so
//     at most an hour after local midnight on the 1st. Reconcile skips an
//     employer whose month is still running, so asking early is harmless.
//     Reconciling the current UTC month too catches countries ahead of UTC,
//     whose month ends while UTC is still in it; the previous UTC month
//     catches those behind UTC, whose month ends after UTC has moved on.
//   - A server that was down on the 1st catches up at its next start-up.
//     (Down for more than a whole month, run "atsgate reconcile" for the
//     months it missed.)
//   - Every instance runs this loop and that is safe: Reconcile is
//     idempotent and the ledger's unique index on (employer, period) for
//     minimum_spend lets exactly one run post each month's entry; expiry is
//     a conditional update that moves each job once.
func startSchedule(ctx context.Context, st *store.Store, log *slog.Logger, m *metrics.Metrics) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runSchedule(ctx, st, log, m)
	}()
	return func() { cancel(); wg.Wait() }
}

func runSchedule(ctx context.Context, st *store.Store, log *slog.Logger, m *metrics.Metrics) {
	expire := time.NewTicker(expireEvery)
	defer expire.Stop()
	reconcile := time.NewTicker(reconcileEvery)
	defer reconcile.Stop()
	expireJobs(ctx, st, log)
	reconcileMonths(ctx, st, log, m)
	for {
		select {
		case <-ctx.Done():
			return
		case <-expire.C:
			expireJobs(ctx, st, log)
		case <-reconcile.C:
			reconcileMonths(ctx, st, log, m)
		}
	}
}

func expireJobs(ctx context.Context, st *store.Store, log *slog.Logger) {
	n, err := st.ExpireJobs(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("expire jobs", "err", err, "expired", n)
	case n > 0:
		log.Info("jobs expired", "count", n)
	}
}

// reconcileMonths reconciles the months atsgate.DueMonths names: the
// previous and the current UTC month.
func reconcileMonths(ctx context.Context, st *store.Store, log *slog.Logger, m *metrics.Metrics) {
	for _, month := range atsgate.DueMonths(st.Now()) {
		r, err := st.Reconcile(ctx, month, 0, "system")
		if err != nil {
			if ctx.Err() == nil {
				log.Error("reconcile minimum monthly spend", "month", month, "err", err)
				m.ReconciliationRun(false)
			}
			continue
		}
		ok := true
		for _, l := range r.Lines {
			ok = ok && l.Status != atsgate.ReconcileFailed
		}
		m.ReconciliationRun(ok)
		for _, l := range r.Lines {
			switch l.Status {
			case atsgate.ReconcileDebited:
				log.Info("minimum monthly spend debited", "month", month, "employer_id", l.EmployerID,
					"minimum", l.Minimum.String(), "spend", l.Spend.String(), "debited", l.Debited.String(),
					"currency", l.Currency, "entry_id", l.EntryID)
			case atsgate.ReconcileFailed:
				// The month stays owed; the next run (within the hour) tries again.
				log.Error("reconcile minimum monthly spend: an employer failed", "month", month,
					"employer_id", l.EmployerID, "err", l.Err)
			}
		}
	}
}
