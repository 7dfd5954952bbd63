package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchRequest builds a request for the handler's ServeHTTP, keeping HTTP
// client and socket overhead out of the figures.
func benchRequest(method, target, key string, body []byte) *http.Request {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Host = "gh.localhost"
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	return req
}

func serve(b *testing.B, h http.Handler, req *http.Request, want int) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
	}
}

// BenchmarkCreate is a new job per iteration: auth, decode, validate, and
// the insert-debit-ledger-event transaction on PostgreSQL.
func BenchmarkCreate(b *testing.B) {
	e := newEnv(b)
	emp := e.employer(b, "gh", "Bench Ltd", "1000000000")
	bodies := make([][]byte, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if len(bodies) == 0 || i%1024 == 0 {
			bodies = bodies[:0]
			for k := i; k < i+1024; k++ {
				bodies = append(bodies, []byte(fmt.Sprintf(
					`{"external_id":"BENCH-%09d","title":"Software Engineer","description":"<p>Build things.</p>","deadline":"2030-09-30","apply_url":"https://careers.example.com/apply","min_experience":2,"max_experience":5,"states":[1,7],"qualifications":[4]}`, k)))
			}
		}
		req := benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, bodies[i%1024])
		b.StartTimer()
		serve(b, e.handler, req, http.StatusCreated)
	}
}

// BenchmarkReplay is an idempotent create of an existing job.
func BenchmarkReplay(b *testing.B) {
	e := newEnv(b)
	emp := e.employer(b, "gh", "Bench Ltd", "1000")
	body := []byte(`{"external_id":"BENCH-REPLAY","title":"Software Engineer","description":"<p>Build things.</p>","deadline":"2030-09-30"}`)
	serve(b, e.handler, benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, body), http.StatusCreated)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, e.handler, benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, body), http.StatusOK)
	}
}

// BenchmarkGet reads one job by external_id.
func BenchmarkGet(b *testing.B) {
	e := newEnv(b)
	emp := e.employer(b, "gh", "Bench Ltd", "1000")
	body := []byte(`{"external_id":"BENCH-GET","title":"Software Engineer","description":"<p>Build things.</p>"}`)
	serve(b, e.handler, benchRequest(http.MethodPost, "/api/ats/jobs", emp.Key, body), http.StatusCreated)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, e.handler, benchRequest(http.MethodGet, "/api/ats/jobs?external_id=BENCH-GET", emp.Key, nil), http.StatusOK)
	}
}
