// Package intlog records every API request in the integration log without
// slowing the request path: Record puts an entry on a bounded queue and
// never blocks (a full queue drops the entry and counts it), and one writer
// goroutine stores the queue in batches through atsgate.IntegrationLog. A
// second loop deletes entries older than the retention period.
//
// Entries are made safe before they are stored: bodies are cut to
// atsgate.MaxLoggedBody at a UTF-8 boundary, anything shaped like an API key
// is reduced to its prefix, and bytes no database text column accepts
// (invalid UTF-8, NUL) are replaced.
package intlog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// Defaults of Options.
const (
	DefaultQueueSize     = 10000
	DefaultQueueBytes    = 64 << 20
	DefaultBatchSize     = 500
	DefaultFlushInterval = 250 * time.Millisecond
	DefaultPurgeInterval = time.Hour
	DefaultDrainTimeout  = 10 * time.Second
	// DefaultUnauthenticatedRate is how many entries a second of requests
	// refused before authentication are kept (with as many in a burst).
	DefaultUnauthenticatedRate = 20
	// unauthenticatedShare is the part of the queue such entries may hold.
	unauthenticatedShare = 10
	// writeTimeout bounds one batch insert, so a stuck database cannot
	// stall the writer for long; the queue absorbs the wait meanwhile.
	writeTimeout = 10 * time.Second
)

// Options tune a Recorder; zero values take the defaults.
type Options struct {
	// QueueSize is how many entries may wait for the writer; beyond it,
	// Record drops.
	QueueSize int
	// QueueBytes bounds the memory of the waiting entries (their bodies
	// and a fixed overhead each); beyond it, Record drops.
	QueueBytes int64
	// BatchSize is the most entries written by one insert.
	BatchSize int
	// FlushInterval is the longest an entry waits for its batch to fill.
	FlushInterval time.Duration
	// Retention is how long entries are kept; 0 disables the purge.
	Retention time.Duration
	// PurgeInterval is how often RunPurge deletes expired entries.
	PurgeInterval time.Duration
	// DrainTimeout bounds the final writes after Run's context ends.
	DrainTimeout time.Duration
	// UnauthenticatedRate caps the entries of requests refused before
	// authentication (no employer: unknown hosts, bad keys) at this many a
	// second, with a burst as large; beyond it they are dropped and
	// counted. Such requests cost nothing to send, so a flood of them must
	// not push the entries of real integrations out of the queue or fill
	// the table. They may also hold at most a tenth of the queue.
	UnauthenticatedRate int
	// Now is the clock for entry times and the purge cut-off.
	Now atsgate.Clock
	// Logger receives write and purge failures.
	Logger *slog.Logger
}

// Recorder queues integration log entries and writes them in batches. Its
// methods are safe for concurrent use; a nil *Recorder records nothing.
type Recorder struct {
	store atsgate.IntegrationLog
	opt   Options
	queue chan atsgate.LogEntry

	stopped     atomic.Bool
	queuedBytes atomic.Int64
	queuedAnon  atomic.Int64 // entries without an employer in the queue
	written     atomic.Int64
	dropped     atomic.Int64
	droppedAnon atomic.Int64 // unauthenticated entries over their cap
	anonBucket  bucket
	writeErrors atomic.Int64
	purged      atomic.Int64

	// flushMu serialises Flush with the writer's own batches.
	flushMu sync.Mutex
}

// New returns a Recorder writing to store. Start its writer with Run and,
// when Options.Retention is set, its purge with RunPurge.
func New(store atsgate.IntegrationLog, o Options) *Recorder {
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.PurgeInterval <= 0 {
		o.PurgeInterval = DefaultPurgeInterval
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.UnauthenticatedRate <= 0 {
		o.UnauthenticatedRate = DefaultUnauthenticatedRate
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Recorder{store: store, opt: o, queue: make(chan atsgate.LogEntry, o.QueueSize)}
	r.anonBucket = bucket{rate: float64(o.UnauthenticatedRate), burst: float64(o.UnauthenticatedRate)}
	return r
}

// Record queues e for writing and returns at once. When the queue is full,
// or the writer has stopped, e is dropped and counted: a slow database
// never slows a request. Bodies are cut to atsgate.MaxLoggedBody here, so
// the queue's memory stays bounded.
func (r *Recorder) Record(e atsgate.LogEntry) {
	if r == nil {
		return
	}
	if r.stopped.Load() {
		r.dropped.Add(1)
		return
	}
	if e.Time.IsZero() {
		e.Time = r.opt.Now()
	}
	anon := e.EmployerID == 0
	if anon {
		if r.queuedAnon.Load() >= int64(max(1, r.opt.QueueSize/unauthenticatedShare)) || !r.anonBucket.take(time.Now()) {
			r.droppedAnon.Add(1)
			return
		}
	}
	if anon {
		r.queuedAnon.Add(1) // before the writer can take it and count it out
	}
	if !r.enqueue(e) {
		if anon {
			r.queuedAnon.Add(-1)
		}
		r.dropped.Add(1)
	}
}

// enqueue cuts e's bodies and queues it, unless the queue is full by
// count or by bytes.
func (r *Recorder) enqueue(e atsgate.LogEntry) bool {
	e.RequestBody = Cut(e.RequestBody, atsgate.MaxLoggedBody)
	e.ResponseBody = Cut(e.ResponseBody, atsgate.MaxLoggedBody)
	size := entrySize(&e)
	if r.queuedBytes.Add(size) > r.opt.QueueBytes {
		r.queuedBytes.Add(-size)
		return false
	}
	select {
	case r.queue <- e:
		return true
	default:
		r.queuedBytes.Add(-size)
		return false
	}
}

// entrySize is what an entry is counted as against Options.QueueBytes.
func entrySize(e *atsgate.LogEntry) int64 {
	const overhead = 512 // the struct and its short strings
	return int64(overhead + len(e.RequestBody) + len(e.ResponseBody))
}

// take is the writer's side of the queue: it releases e's bytes.
func (r *Recorder) take(e atsgate.LogEntry, batch []atsgate.LogEntry) []atsgate.LogEntry {
	r.queuedBytes.Add(-entrySize(&e))
	if e.EmployerID == 0 {
		r.queuedAnon.Add(-1)
	}
	return append(batch, e)
}

// Queued is how many entries wait for the writer now.
func (r *Recorder) Queued() int {
	if r == nil {
		return 0
	}
	return len(r.queue)
}

// QueuedBytes is the memory the waiting entries are counted as.
func (r *Recorder) QueuedBytes() int64 {
	if r == nil {
		return 0
	}
	return r.queuedBytes.Load()
}

// Capacity is the size of the queue.
func (r *Recorder) Capacity() int {
	if r == nil {
		return 0
	}
	return cap(r.queue)
}

// Written is how many entries were stored.
func (r *Recorder) Written() int64 {
	if r == nil {
		return 0
	}
	return r.written.Load()
}

// Dropped is how many entries were refused because the queue was full or
// the writer had stopped.
func (r *Recorder) Dropped() int64 {
	if r == nil {
		return 0
	}
	return r.dropped.Load()
}

// DroppedUnauthenticated is how many entries of requests refused before
// authentication were left out over Options.UnauthenticatedRate or their
// share of the queue.
func (r *Recorder) DroppedUnauthenticated() int64 {
	if r == nil {
		return 0
	}
	return r.droppedAnon.Load()
}

// bucket is a token bucket: rate tokens a second, at most burst saved.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// take spends a token if one is there at now.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = b.burst
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// WriteErrors is how many entries were lost because writing their batch
// failed.
func (r *Recorder) WriteErrors() int64 {
	if r == nil {
		return 0
	}
	return r.writeErrors.Load()
}

// Purged is how many entries the purge loop has deleted.
func (r *Recorder) Purged() int64 {
	if r == nil {
		return 0
	}
	return r.purged.Load()
}

// Run is the writer: it stores queued entries in batches of up to
// Options.BatchSize, at least every Options.FlushInterval, until ctx ends;
// then it writes what is still queued (bounded by Options.DrainTimeout)
// and returns. Cancel ctx only after the HTTP servers have stopped, so the
// last requests are kept. Entries recorded after Run returns are dropped.
func (r *Recorder) Run(ctx context.Context) error {
	tick := time.NewTicker(r.opt.FlushInterval)
	defer tick.Stop()
	// A write in progress when ctx ends still completes (each write is
	// bounded by writeTimeout): cancelling it would lose its batch.
	wctx := context.WithoutCancel(ctx)
	batch := make([]atsgate.LogEntry, 0, r.opt.BatchSize)
	flush := func(ctx context.Context) {
		if len(batch) > 0 {
			r.write(ctx, batch)
			clear(batch) // let the bodies be collected
			batch = batch[:0]
		}
	}
	for {
		select {
		case e := <-r.queue:
			batch = r.take(e, batch)
			if len(batch) >= r.opt.BatchSize {
				flush(wctx)
			}
		case <-tick.C:
			flush(wctx)
		case <-ctx.Done():
			r.stopped.Store(true)
			dctx, cancel := context.WithTimeout(wctx, r.opt.DrainTimeout)
			defer cancel()
			for drained := false; !drained; {
				select {
				case e := <-r.queue:
					batch = r.take(e, batch)
					if len(batch) >= r.opt.BatchSize {
						flush(dctx)
					}
				default:
					drained = true
				}
			}
			flush(dctx)
			return nil
		}
	}
}

// Flush writes every entry queued now, from the caller's goroutine, and
// returns when they are stored. Tests and tools use it; the server relies
// on Run.
func (r *Recorder) Flush(ctx context.Context) {
	if r == nil {
		return
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	var batch []atsgate.LogEntry
	for {
		select {
		case e := <-r.queue:
			batch = r.take(e, batch)
			if len(batch) < r.opt.BatchSize {
				continue
			}
		default:
		}
		if len(batch) == 0 {
			return
		}
		r.write(ctx, batch)
		batch = batch[:0]
	}
}

// write stores one batch, making every entry safe first.
func (r *Recorder) write(ctx context.Context, batch []atsgate.LogEntry) {
	for i := range batch {
		sanitize(&batch[i])
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := r.store.AppendLogs(wctx, batch); err != nil {
		r.writeErrors.Add(int64(len(batch)))
		r.opt.Logger.WarnContext(ctx, "integration log: batch write failed; entries lost",
			"entries", len(batch), "err", err)
		return
	}
	r.written.Add(int64(len(batch)))
}

// RunPurge deletes entries older than Options.Retention once at start and
// then every Options.PurgeInterval, until ctx ends. With no retention it
// returns at once. Several instances may purge at the same time: deleting
// is idempotent.
func (r *Recorder) RunPurge(ctx context.Context) error {
	if r.opt.Retention <= 0 {
		return nil
	}
	tick := time.NewTicker(r.opt.PurgeInterval)
	defer tick.Stop()
	for {
		if _, err := r.Purge(ctx); err != nil && ctx.Err() == nil {
			r.opt.Logger.WarnContext(ctx, "integration log: purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Purge deletes entries older than Options.Retention now and returns how
// many went.
func (r *Recorder) Purge(ctx context.Context) (int64, error) {
	if r.opt.Retention <= 0 {
		return 0, nil
	}
	cutoff := r.opt.Now().Add(-r.opt.Retention)
	n, err := r.store.PurgeLogs(ctx, cutoff)
	r.purged.Add(n)
	if err == nil && n > 0 {
		r.opt.Logger.InfoContext(ctx, "integration log purged", "deleted", n, "before", cutoff.UTC().Format(time.RFC3339))
	}
	return n, err
}
