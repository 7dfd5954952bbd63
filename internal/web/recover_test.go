package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web"
)

// brokenJobs panics in every method, standing in for a bug in a handler's
// dependency.
type brokenJobs struct{ atsgate.Jobs }

func (brokenJobs) Job(context.Context, int64, string) (*atsgate.Job, error) { panic("boom") }

// TestPanicBecomesInternalError: a bug that panics answers the client with
// the JSON 500 body (and the server keeps serving), not a dropped connection.
//
// It holds with the integration log on, as serve always runs: the log's
// capture writer must not be released under the error response, and the
// panicking request is itself logged as a 500.
func TestPanicBecomesInternalError(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "100")
	for _, withLog := range []bool{false, true} {
		rec := &memoryRecorder{}
		d := web.Deps{Directory: e.st, Jobs: brokenJobs{}, Taxonomy: config.Taxonomy, Now: e.clock.Now}
		if withLog {
			d.IntegrationLog = rec
		}
		e.handler = web.NewPublic(d)
		panicTwice(t, e, emp)
		if withLog {
			entries := rec.all()
			if len(entries) != 2 || entries[0].Status != http.StatusInternalServerError || entries[0].ErrorCode != "internal" {
				t.Fatalf("integration log after two panics: %+v; want two 500 internal entries", entries)
			}
		}
	}
}

func panicTwice(t *testing.T, e *env, emp employer) {
	t.Helper()
	for i := 0; i < 2; i++ {
		req := e.request(t, http.MethodGet, "/api/ats/jobs?external_id=X", emp.Host, emp.Key, nil)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusInternalServerError || body.Error.Code != "internal" {
			t.Fatalf("request %d: status %d, body %s (%v); want 500 internal", i, rec.Code, rec.Body.String(), err)
		}
		if len(rec.Header()["X-Request-ID"]) == 0 {
			t.Fatalf("request %d: no X-Request-ID on the 500", i)
		}
	}
}

// memoryRecorder keeps integration log entries in memory.
type memoryRecorder struct {
	mu      sync.Mutex
	entries []atsgate.LogEntry
}

func (r *memoryRecorder) Record(e atsgate.LogEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
}

func (r *memoryRecorder) all() []atsgate.LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]atsgate.LogEntry(nil), r.entries...)
}
