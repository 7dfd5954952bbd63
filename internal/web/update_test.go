package web_test

import (
	"net/http"
	"testing"
)

// TestUpdateClearsOptionalFields: on update an empty string clears an
// optional text field, while an empty deadline is ignored (as on create)
// and keeps the stored one, as docs/api.md says.
func TestUpdateClearsOptionalFields(t *testing.T) {
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "100")
	create := map[string]any{
		"external_id": "CLEAR-1", "title": "Engineer", "description": "Build",
		"apply_url": "https://example.com/apply", "deadline": "2030-01-31",
		"job_type": "full-time", "company_name": "Acme",
	}
	if r := e.call(t, emp, http.MethodPost, "/api/ats/jobs", create); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	update := map[string]any{"external_id": "CLEAR-1", "apply_url": "", "job_type": "", "deadline": ""}
	if r := e.call(t, emp, http.MethodPut, "/api/ats/jobs", update); r.Status != http.StatusOK {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	j := e.storedJob(t, emp.ID, "CLEAR-1")
	if j.ApplyURL != "" || j.Extras["job_type"] != "" || j.Extras["company_name"] != "Acme" || j.Deadline != "2030-01-31" {
		t.Fatalf("after update: apply_url %q, job_type %q, company_name %q, deadline %q; want cleared, cleared, kept, kept",
			j.ApplyURL, j.Extras["job_type"], j.Extras["company_name"], j.Deadline)
	}
}
