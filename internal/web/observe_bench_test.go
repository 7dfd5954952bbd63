package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web"
)

// benchmarkCreates measures create throughput through the real router and
// middleware on PostgreSQL, from parallel clients each posting as its own
// employer (so the wallet row lock is not what is measured). With withLog
// the integration log recorder is wired and its writer runs, inserting
// batches into the same database while the creates go on.
func benchmarkCreates(b *testing.B, withLog bool) {
	e := newObsEnv(b, func(d *web.Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil)) // access lines are still formatted
		d.Metrics = nil
		if !withLog {
			d.IntegrationLog = nil
		}
	})
	if withLog {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.rec.Run(ctx); close(done) }()
		b.Cleanup(func() { cancel(); <-done })
	}
	const employers = 16
	keys := make([]string, employers)
	for i := range keys {
		emp, err := e.st.CreateEmployer(context.Background(), atsgate.EmployerInput{CountryID: e.gh.ID, Name: fmt.Sprintf("Bench %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := e.st.TopUp(context.Background(), emp.ID, decimal.NewFromInt(1_000_000_000), "bench", "funds", ""); err != nil {
			b.Fatal(err)
		}
		if keys[i], _, err = e.st.IssueKey(context.Background(), emp.ID, false); err != nil {
			b.Fatal(err)
		}
	}
	var worker, seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := keys[int(worker.Add(1)-1)%employers]
		for pb.Next() {
			n := seq.Add(1)
			body := fmt.Appendf(nil, `{"external_id":"BENCH-%09d","title":"Software Engineer","description":"<p>Build things.</p>","deadline":"2030-09-30","apply_url":"https://careers.example.com/apply","min_experience":2,"max_experience":5,"states":[1,7],"qualifications":[4]}`, n)
			req := httptest.NewRequest(http.MethodPost, "/api/ats/jobs", bytes.NewReader(body))
			req.Host = "gh.localhost"
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
	if withLog {
		e.rec.Flush(context.Background())
		if d := e.rec.Dropped(); d > 0 {
			b.Logf("integration log dropped %d of %d entries", d, b.N)
		}
	}
}

// BenchmarkCreateWithIntegrationLog is create throughput with every
// request recorded in the integration log.
func BenchmarkCreateWithIntegrationLog(b *testing.B) { benchmarkCreates(b, true) }

// BenchmarkCreateWithoutIntegrationLog is the same without the log: the
// target is that the log costs less than 10% of it.
func BenchmarkCreateWithoutIntegrationLog(b *testing.B) { benchmarkCreates(b, false) }
