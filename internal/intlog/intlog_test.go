package intlog_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/intlog"
	"github.com/atsgate/atsgate/internal/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore is a fresh, migrated PostgreSQL store.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbtest.PostgresURL(t))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// spy passes batches to a real store and remembers their sizes; while
// gate is set, AppendLogs waits for it to close first.
type spy struct {
	atsgate.IntegrationLog
	mu      sync.Mutex
	batches []int
	gate    chan struct{}
}

func (s *spy) AppendLogs(ctx context.Context, es []atsgate.LogEntry) error {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := s.IntegrationLog.AppendLogs(ctx, es)
	s.mu.Lock()
	s.batches = append(s.batches, len(es))
	s.mu.Unlock()
	return err
}

func (s *spy) sizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.batches...)
}

func entry(i int) atsgate.LogEntry {
	return atsgate.LogEntry{EmployerID: 1, Status: 201, Operation: "create", Dialect: atsgate.DialectATS,
		ExternalID: "JOB-" + strings.Repeat("x", i%3), Method: "POST", Path: "/api/ats/jobs"}
}

// eventually waits up to 5 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func count(t *testing.T, st *store.Store) int {
	t.Helper()
	es, err := st.Logs(context.Background(), atsgate.LogFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestRecordNeverBlocks(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	sp := &spy{IntegrationLog: st, gate: make(chan struct{})} // the database hangs
	rec := intlog.New(sp, intlog.Options{QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()

	start := time.Now()
	for i := 0; i < 1000; i++ {
		rec.Record(entry(i))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 Record calls against a hung database took %v", d)
	}
	// The writer holds at most one batch; the queue holds 10; the rest drop.
	if got := rec.Dropped(); got < 1000-10-5 || got > 1000-10 {
		t.Errorf("Dropped = %d, want between 985 and 990", got)
	}
	if got := rec.Queued(); got > 10 {
		t.Errorf("Queued = %d, above the capacity of 10", got)
	}
	held := 1000 - rec.Dropped()

	close(sp.gate) // the database is back
	cancel()
	<-done
	if got := rec.Written(); got != held {
		t.Errorf("Written = %d, want every entry not dropped (%d)", got, held)
	}
	if got := count(t, st); int64(got) != held {
		t.Errorf("%d rows stored, want %d", got, held)
	}
	rec.Record(entry(0)) // after Run returned
	if got := rec.Dropped(); got != 1000-held+1 {
		t.Errorf("Dropped after stop = %d, want %d", got, 1000-held+1)
	}

	var nilRec *intlog.Recorder
	nilRec.Record(entry(0)) // must not panic
}

func TestQueueBytes(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	// Room for two entries with 10 KiB bodies and a small one, not three
	// big ones; the writer is
	// not running.
	rec := intlog.New(st, intlog.Options{QueueBytes: 2*(10<<10+512) + 600, Logger: quiet})
	big := entry(0)
	big.RequestBody = strings.Repeat("x", 10<<10)
	for i := 0; i < 3; i++ {
		rec.Record(big)
	}
	if rec.Queued() != 2 || rec.Dropped() != 1 {
		t.Errorf("queued %d dropped %d; want 2 queued and 1 dropped by size", rec.Queued(), rec.Dropped())
	}
	rec.Record(entry(1)) // a small one still fits
	if rec.Queued() != 3 {
		t.Errorf("queued %d, want 3", rec.Queued())
	}
	rec.Flush(context.Background())
	if rec.QueuedBytes() != 0 || rec.Written() != 3 {
		t.Errorf("after flush: %d bytes queued, %d written; want 0 and 3", rec.QueuedBytes(), rec.Written())
	}
	rec.Record(big) // room again
	if rec.Queued() != 1 || rec.Dropped() != 1 {
		t.Errorf("queued %d dropped %d after the flush; want 1 and 1", rec.Queued(), rec.Dropped())
	}
}

func TestBatchesAndDrain(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	sp := &spy{IntegrationLog: st}
	// An hour-long interval: only full batches are written while running.
	rec := intlog.New(sp, intlog.Options{BatchSize: 50, FlushInterval: time.Hour, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()

	for i := 0; i < 120; i++ {
		rec.Record(entry(i))
	}
	eventually(t, "two full batches", func() bool { return rec.Written() == 100 })
	time.Sleep(20 * time.Millisecond)
	if diff := cmp.Diff([]int{50, 50}, sp.sizes()); diff != "" {
		t.Errorf("batches while running (-want +got):\n%s", diff)
	}
	cancel() // shutdown: the last 20 are drained, not lost
	<-done
	if diff := cmp.Diff([]int{50, 50, 20}, sp.sizes()); diff != "" {
		t.Errorf("batches after shutdown (-want +got):\n%s", diff)
	}
	if rec.Written() != 120 || rec.Dropped() != 0 || rec.WriteErrors() != 0 || rec.Queued() != 0 {
		t.Errorf("written %d dropped %d errors %d queued %d; want 120 0 0 0",
			rec.Written(), rec.Dropped(), rec.WriteErrors(), rec.Queued())
	}
	if got := count(t, st); got != 120 {
		t.Errorf("%d rows stored, want 120", got)
	}
}

func TestFlushInterval(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rec := intlog.New(st, intlog.Options{BatchSize: 500, FlushInterval: 20 * time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rec.Run(ctx)
	for i := 0; i < 3; i++ {
		rec.Record(entry(i))
	}
	eventually(t, "a partial batch to be written by the timer", func() bool { return rec.Written() == 3 })
	if got := count(t, st); got != 3 {
		t.Errorf("%d rows stored, want 3", got)
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	st.Close() // every write now fails
	rec := intlog.New(st, intlog.Options{FlushInterval: time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rec.Run(ctx); close(done) }()
	for i := 0; i < 7; i++ {
		rec.Record(entry(i))
	}
	eventually(t, "the failed writes to be counted", func() bool { return rec.WriteErrors() == 7 })
	cancel()
	<-done
	if rec.Written() != 0 {
		t.Errorf("Written = %d, want 0", rec.Written())
	}
}

func TestStoredEntriesAreSafe(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rec := intlog.New(st, intlog.Options{Logger: quiet})
	const key = "mjm_gh_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg"
	// A body over the limit whose cut falls inside a 3-byte character.
	big := strings.Repeat("a", atsgate.MaxLoggedBody-1) + "€" + strings.Repeat("b", 100)
	rec.Record(atsgate.LogEntry{
		EmployerID: 1, Status: 400, KeyPrefix: key, Method: "POST",
		Path:         "/recruitment/integration/erp/create-job/?api_key=" + key + "&x=1",
		ExternalID:   "bad\x00id\xff",
		RequestBody:  `{"note":"my key is ` + key + `", "bin":"` + "\x00\xfe" + `"}`,
		ResponseBody: big,
	})
	rec.Flush(context.Background())
	es, err := st.Logs(context.Background(), atsgate.LogFilter{})
	if err != nil || len(es) != 1 {
		t.Fatalf("Logs = %d entries, %v; want 1", len(es), err)
	}
	e := es[0]
	for name, v := range map[string]string{"key prefix": e.KeyPrefix, "path": e.Path, "request body": e.RequestBody} {
		if strings.Contains(v, "EfGh") {
			t.Errorf("%s holds more of the key than its prefix: %q", name, v)
		}
	}
	if e.KeyPrefix != "mjm_gh_AbCd" {
		t.Errorf("KeyPrefix = %q, want mjm_gh_AbCd", e.KeyPrefix)
	}
	if want := `{"note":"my key is mjm_gh_AbCd", "bin":"` + "\uFFFD\uFFFD" + `"}`; e.RequestBody != want {
		t.Errorf("RequestBody = %q, want %q", e.RequestBody, want)
	}
	if want := "/recruitment/integration/erp/create-job/?api_key=mjm_gh_AbCd&x=1"; e.Path != want {
		t.Errorf("Path = %q, want %q", e.Path, want)
	}
	if e.ExternalID != "bad\uFFFDid\uFFFD" {
		t.Errorf("ExternalID = %q", e.ExternalID)
	}
	if len(e.ResponseBody) != atsgate.MaxLoggedBody-1 || !utf8.ValidString(e.ResponseBody) {
		t.Errorf("ResponseBody: %d bytes (valid UTF-8 %v), want %d cut before the split '€'",
			len(e.ResponseBody), utf8.ValidString(e.ResponseBody), atsgate.MaxLoggedBody-1)
	}
}

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestPurge(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := context.Background()
	clk := &clock{}
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk.Set(t0)
	rec := intlog.New(st, intlog.Options{Retention: 24 * time.Hour, PurgeInterval: 10 * time.Millisecond,
		Now: clk.Now, Logger: quiet})
	// Entries at t0-48h, t0-25h, t0-23h and t0.
	for _, age := range []time.Duration{48 * time.Hour, 25 * time.Hour, 23 * time.Hour, 0} {
		e := entry(0)
		e.Time = t0.Add(-age)
		rec.Record(e)
	}
	rec.Flush(ctx)
	n, err := rec.Purge(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want 2 older than 24h", n, err)
	}
	if got := count(t, st); got != 2 {
		t.Fatalf("%d rows left, want 2", got)
	}

	// The loop purges on its own as time passes.
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rec.RunPurge(pctx); close(done) }()
	clk.Advance(2 * time.Hour) // the t0-23h entry is now 25h old
	eventually(t, "the purge loop to delete the newly expired entry", func() bool { return count(t, st) == 1 })
	cancel()
	<-done
	if got := rec.Purged(); got != 3 {
		t.Errorf("Purged = %d, want 3", got)
	}

	off := intlog.New(st, intlog.Options{Logger: quiet}) // no retention: nothing is purged
	if n, err := off.Purge(ctx); n != 0 || err != nil {
		t.Errorf("Purge without retention = %d, %v", n, err)
	}
	if err := off.RunPurge(ctx); err != nil {
		t.Errorf("RunPurge without retention = %v", err)
	}
}

// TestUnauthenticatedFloodDoesNotCrowdOut: a flood of requests refused
// before authentication (no employer) keeps at most its rate and share of
// the queue, and is counted as dropped; every authenticated entry sent
// meanwhile is kept.
func TestUnauthenticatedFloodDoesNotCrowdOut(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	// The writer is not running: everything kept stays in the queue.
	rec := intlog.New(st, intlog.Options{QueueSize: 1000, UnauthenticatedRate: 50, Logger: quiet})
	start := time.Now()
	for i := 0; i < 5000; i++ {
		anon := entry(i)
		anon.EmployerID = 0
		rec.Record(anon)
		if i%50 == 0 {
			rec.Record(entry(i)) // an authenticated request among them
		}
	}
	elapsed := time.Since(start)
	kept := int64(rec.Queued()) - 100
	if maxAnon := 50 + int64(elapsed.Seconds()*50) + 1; kept < 50 || kept > maxAnon {
		t.Errorf("%d unauthenticated entries kept in %v, want 50..%d (a burst of 50, then 50/s)", kept, elapsed, maxAnon)
	}
	if rec.Dropped() != 0 {
		t.Errorf("Dropped = %d: authenticated entries were lost", rec.Dropped())
	}
	if got := rec.DroppedUnauthenticated(); got != 5000-kept {
		t.Errorf("DroppedUnauthenticated = %d, want %d", got, 5000-kept)
	}
	rec.Flush(context.Background())
	if rec.Queued() != 0 {
		t.Fatalf("queued %d after Flush", rec.Queued())
	}
	// Their share of the queue: at most a tenth, however slow the flood.
	small := intlog.New(st, intlog.Options{QueueSize: 100, UnauthenticatedRate: 1000, Logger: quiet})
	for i := 0; i < 100; i++ {
		anon := entry(i)
		anon.EmployerID = 0
		small.Record(anon)
	}
	if small.Queued() != 10 {
		t.Errorf("%d unauthenticated entries queued of 100, want 10 (a tenth of the queue)", small.Queued())
	}
	for i := 0; i < 90; i++ {
		small.Record(entry(i))
	}
	if small.Queued() != 100 || small.Dropped() != 0 {
		t.Errorf("queued %d dropped %d; want the other 90 places for authenticated entries", small.Queued(), small.Dropped())
	}
}
