package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// The benchmarks of this file measure what a request holds, not how fast
// it is: run them with -benchmem and -benchtime=3x. peak-heap-MB is the
// largest heap seen while the request ran, above the heap before it.
//
//	go test -run '^$' -bench 'Statement1M|BigDescriptions' -benchmem -benchtime=3x ./internal/web/

// discardWriter is a ResponseWriter that counts the body and keeps none
// of it, so the heap a benchmark measures is the server's alone.
type discardWriter struct {
	header http.Header
	code   int
	n      int64
}

func newDiscardWriter() *discardWriter { return &discardWriter{header: http.Header{}} }

func (d *discardWriter) Header() http.Header { return d.header }
func (d *discardWriter) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.n += int64(len(p))
	return len(p), nil
}
func (d *discardWriter) Flush() {}

// peakHeap runs fn while reading the heap every 5 ms and returns the
// highest reading above the heap before fn, in bytes. HeapAlloc counts
// garbage not yet collected too: that is memory the process holds.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	peak := base
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
	}()
	fn()
	close(done)
	wg.Wait()
	runtime.ReadMemStats(&m) // what fn left behind counts too
	return max(peak, m.HeapAlloc) - base
}

// serveMeasured serves req n times through h and reports the peak heap
// of the worst run and the body size.
func serveMeasured(b *testing.B, h http.Handler, newReq func() *http.Request, want int) {
	b.Helper()
	b.ReportAllocs()
	var worst uint64
	var size int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := newReq()
		w := newDiscardWriter()
		if p := peakHeap(func() { h.ServeHTTP(w, req) }); p > worst {
			worst = p
		}
		if w.code != want {
			b.Fatalf("%s: status %d, want %d", req.URL, w.code, want)
		}
		size = w.n
	}
	b.StopTimer()
	b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(size)/(1<<20), "body-MB")
}

// manyEntries gives a new employer n ledger entries (top-ups of 1.00 and
// every tenth an adjustment) in one INSERT … SELECT, a second apart and
// ending before t0, with balances that chain: the ledger a statement
// without a period has to walk.
func manyEntries(b testing.TB, a *adminEnv, n int) int64 {
	b.Helper()
	ctx := context.Background()
	emp := a.employer(b, "gh", "Million Ltd", "0")
	start := t0.Add(-time.Duration(n+10) * time.Second)
	db := a.st.DB()
	if _, err := db.ExecContext(ctx, `
INSERT INTO ledger_entries (employer_id, kind, amount_minor, balance_after_minor, actor, note, created_at)
SELECT $1, CASE WHEN g % 10 = 0 THEN 'adjustment' ELSE 'topup' END, 100, g * 100,
       'bench', 'entry ' || g, $2::timestamptz + g * interval '1 second'
FROM generate_series(1, $3::bigint) AS g`, emp.ID, start, n); err != nil {
		b.Fatalf("insert entries: %v", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE wallets SET balance_minor = $2, updated_at = $3 WHERE employer_id = $1`,
		emp.ID, int64(n)*100, start.Add(time.Duration(n)*time.Second)); err != nil {
		b.Fatalf("update wallet: %v", err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE ledger_entries`); err != nil {
		b.Fatalf("analyze: %v", err)
	}
	return emp.ID
}

// sessionCookie signs a finance user in to the pages.
func sessionCookie(b *testing.B, a *adminEnv) *http.Cookie {
	b.Helper()
	ctx := context.Background()
	_, tok, err := a.st.IssueAdminToken(ctx, "bench-"+randomSuffix(), atsgate.RoleOperator)
	if err != nil {
		b.Fatal(err)
	}
	value, _, err := a.st.CreateAdminSession(ctx, tok.ID, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return &http.Cookie{Name: "atsgate_admin", Value: value}
}

// BenchmarkStatement1M reads the statement of an employer with a million
// ledger entries with no period: the API's JSON and CSV, and the page.
func BenchmarkStatement1M(b *testing.B) {
	a := newAdminEnv(b)
	id := manyEntries(b, a, 1_000_000)
	base := fmt.Sprintf("/admin/api/employers/%d/statement", id)
	cookie := sessionCookie(b, a)
	apiReq := func(target string) func() *http.Request {
		return func() *http.Request {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Authorization", "Bearer "+a.tokens[atsgate.RoleFinance])
			return req
		}
	}
	b.Run("api-json", func(b *testing.B) { serveMeasured(b, a.handler, apiReq(base), http.StatusOK) })
	b.Run("api-csv", func(b *testing.B) { serveMeasured(b, a.handler, apiReq(base+"?format=csv"), http.StatusOK) })
	b.Run("page", func(b *testing.B) {
		serveMeasured(b, a.handler, func() *http.Request {
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/admin/employers/%d?from=&to=&page=2", id), nil)
			req.AddCookie(cookie)
			return req
		}, http.StatusOK)
	})
}

// BenchmarkBigDescriptions lists 200 pending jobs whose descriptions are
// 512 KiB each (the most the API takes), with extras: the ATS list of 200,
// and the moderation queue's page of 50 (API and page).
func BenchmarkBigDescriptions(b *testing.B) {
	a := newAdminEnv(b)
	emp := a.employer(b, "gh", "Verbose Ltd", "100000")
	p, err := a.st.Authenticate(context.Background(), atsgate.HashAPIKey(emp.Key))
	if err != nil {
		b.Fatal(err)
	}
	desc := "<p>" + strings.Repeat("We build <b>things</b> &amp; more. ", 512<<10/30)
	desc = desc[:512<<10-len("</p>")] + "</p>"
	about := strings.Repeat("About us. ", 1000)
	for i := 0; i < 200; i++ {
		in := atsgate.JobInput{ExternalID: fmt.Sprintf("BIG-%03d", i), Title: ptr("Software Engineer"), Description: &desc,
			Extras: map[string]string{"company_about": about, "benefits": about}}
		if _, _, err := a.st.CreateJob(context.Background(), p, in); err != nil {
			b.Fatal(err)
		}
	}
	cookie := sessionCookie(b, a)
	b.Run("ats-list-200", func(b *testing.B) {
		serveMeasured(b, a.env.handler, func() *http.Request {
			return benchRequest(http.MethodGet, "/api/ats/jobs?limit=200", emp.Key, nil)
		}, http.StatusOK)
	})
	b.Run("review-api-50", func(b *testing.B) {
		serveMeasured(b, a.handler, func() *http.Request {
			req := httptest.NewRequest(http.MethodGet, "/admin/api/reviews", nil)
			req.Header.Set("Authorization", "Bearer "+a.tokens[atsgate.RoleReviewer])
			return req
		}, http.StatusOK)
	})
	b.Run("review-page-50", func(b *testing.B) {
		serveMeasured(b, a.handler, func() *http.Request {
			req := httptest.NewRequest(http.MethodGet, "/admin/reviews", nil)
			req.AddCookie(cookie)
			return req
		}, http.StatusOK)
	})
}
