package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
func TestPanicBecomesInternalError(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "100")
	e.handler = web.NewPublic(web.Deps{Directory: e.st, Jobs: brokenJobs{}, Taxonomy: config.Taxonomy, Now: e.clock.Now})
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
		if rec.Header().Get("X-Request-ID") == "" {
			t.Fatalf("request %d: no X-Request-ID on the 500", i)
		}
	}
}
