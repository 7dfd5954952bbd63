package web_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDeadlineWarnings: an unreadable deadline is ignored, as the seed
// says, but the create or update record says so in "warnings"; a record
// with nothing to say has no "warnings" key at all.
func TestDeadlineWarnings(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "500")
	warnings := func(res response) map[string]string {
		t.Helper()
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(res.Body, &raw); err != nil {
			t.Fatalf("body %s: %v", res.Body, err)
		}
		w, ok := raw["warnings"]
		if !ok {
			return nil
		}
		var out map[string]string
		if err := json.Unmarshal(w, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	unread := map[string]string{"deadline": "not understood; ignored (send YYYY-MM-DD)"}

	res := e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("W-1", "deadline", "31/12/2026")).wantStatus(t, http.StatusCreated)
	if diff := cmp.Diff(unread, warnings(res)); diff != "" {
		t.Errorf("create warnings (-want +got):\n%s", diff)
	}
	if res.record(t).Deadline != "" {
		t.Errorf("deadline %q stored from an unreadable value", res.record(t).Deadline)
	}
	res = e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("W-2", "deadline", "2030-12-31")).wantStatus(t, http.StatusCreated)
	if w := warnings(res); w != nil {
		t.Errorf("warnings %v on a create with nothing to say", w)
	}
	res = e.call(t, emp, http.MethodPut, "/api/ats/jobs", map[string]any{"external_id": "W-2", "deadline": 20301231}).wantStatus(t, http.StatusOK)
	if diff := cmp.Diff(map[string]string{"deadline": "not a date string; ignored (send YYYY-MM-DD)"}, warnings(res)); diff != "" {
		t.Errorf("update warnings (-want +got):\n%s", diff)
	}
	if res.record(t).Deadline != "2030-12-31" {
		t.Errorf("update with an ignored deadline changed it to %q", res.record(t).Deadline)
	}
	res = e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id=W-1", nil).wantStatus(t, http.StatusOK)
	if w := warnings(res); w != nil {
		t.Errorf("warnings %v on a get", w)
	}
}
