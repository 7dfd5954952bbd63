package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// need fails the test under CI and skips it, loudly, elsewhere, when a
// tool the test runs is missing.
func need(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI (.ci/run installs it): %v", what, err)
	}
	fmt.Fprintf(os.Stderr, "\n!!! SKIPPING %s: %s is missing (%v). Install it, or set CI=true to make this a failure.\n\n", t.Name(), what, err)
	t.Skipf("%s is missing: %v", what, err)
}

// loopbackSource serves the ERP dialect on a country whose host is the
// test server's own address, so a client that cannot set the Host header
// (the seed's script, curl as written) reaches it by URL alone.
func loopbackSource(t *testing.T) (*erpEnv, erpSource, string) {
	t.Helper()
	e := newERPEnv(t, "postgres")
	ctx := context.Background()
	c, err := e.st.CreateCountry(ctx, atsgate.Country{Code: "ke", Name: "Kenya", Hosts: []string{"127.0.0.1"},
		Currency: "KES", TimeZone: "Africa/Nairobi", Price: decimal.NewFromInt(50), PublicURL: "http://127.0.0.1"})
	if err != nil {
		t.Fatalf("create country: %v", err)
	}
	emp, err := e.st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: c.ID, Name: "KAAUH"})
	if err != nil {
		t.Fatal(err)
	}
	e.topUp(t, emp.ID, "500")
	src := e.source(t, employer{ID: emp.ID, Host: "127.0.0.1"}, "Main_ERP")
	return e, src, emp.Code
}

// TestERPPythonSample runs the seed's Python sample (testdata/erp_sample.py:
// the seed's lines with their indentation restored, which the seed's text
// rendering lost) with python3 and requests against the real router. Only
// the base URL and key placeholders are replaced, by string replacement.
func TestERPPythonSample(t *testing.T) {
	// The first python3 with requests: the one on PATH, or Debian's
	// (where .ci/run installs python3-requests) when PATH has another.
	python, err := "", fmt.Errorf("no python3 with requests on PATH or at /usr/bin/python3")
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import requests").Run() == nil {
			python, err = p, nil
			break
		}
	}
	need(t, "python3 with python3-requests", err)
	e, src, code := loopbackSource(t)

	script, err := os.ReadFile(filepath.Join("testdata", "erp_sample.py"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(script), "https://your-ats-domain.com/recruitment/integration/erp/", e.srv.URL+"/recruitment/integration/erp/", 1)
	s = strings.Replace(s, "your_api_key_here", src.Key, 1)
	path := filepath.Join(t.TempDir(), "erp_sample.py")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() map[string]any {
		cmd := exec.Command(python, path)
		cmd.Env = append(os.Environ(), "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("python3 erp_sample.py: %v\n%s\n%s", err, out, stderr)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("the script printed %q: %v", out, err)
		}
		return got
	}
	got := run()
	data, _ := got["data"].(map[string]any)
	jobID, _ := data["job_id"].(string)
	if got["status"] != "success" || !regexp.MustCompile(`^`+code+`-\d{4}-0001$`).MatchString(jobID) || got["processing_time"] == nil {
		t.Fatalf("the script printed %v", got)
	}
	job := e.storedJob(t, src.EmployerID, jobID)
	if job == nil || job.Title != "Software Engineer" || job.Extras["department"] != "IT" || job.ApplyURL != "https://careers.example.com/job/123" ||
		job.Extras["location_country"] != "Kenya" || job.State != atsgate.StatePending {
		t.Errorf("stored job = %+v", job)
	}
	// Run again: the same title is open, so the script gets JOB_EXISTS
	// with the job to update instead.
	again := run()
	data, _ = again["data"].(map[string]any)
	if again["status"] != "error" || again["error_code"] != "JOB_EXISTS" || data["job_id"] != jobID {
		t.Errorf("second run printed %v", again)
	}
}

// TestERPSeedCurl runs the seed's curl commands with curl itself, their
// arguments as the seed writes them; only the base URL and the key
// placeholder are ours.
func TestERPSeedCurl(t *testing.T) {
	_, err := exec.LookPath("curl")
	need(t, "curl", err)
	e, src, code := loopbackSource(t)
	e.clock.Set(time.Date(2025, 10, 6, 14, 30, 0, 0, time.UTC)) // the seed's day: its deadline is ahead
	base := e.srv.URL + "/recruitment/integration/erp/"
	curl := func(args ...string) map[string]any {
		out, err := exec.Command("curl", append([]string{"-sS", "--noproxy", "*"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("curl printed %q: %v", out, err)
		}
		return got
	}
	if got := curl("-X", "GET", base+"health/"); got["status"] != "healthy" {
		t.Errorf("health: %v", got)
	}
	got := curl("-X", "POST", base+"create-job/", "-H", "Content-Type: application/json", "-H", "X-API-Key: "+src.Key, "-d", `{
"action": "create_job",
"source_name": "Main_ERP",
"title": "Senior Software Engineer",
"department": "Information Technology",
"job_type": "full-time",
"workplace_type": "hybrid",
"location_city": "Riyadh",
"location_country": "Saudi Arabia",
"description": "We are looking for an experienced software engineer...",
"application_url": "https://careers.yourcompany.com/job/12345",
"auto_publish": true
}`)
	data, _ := got["data"].(map[string]any)
	jobID, _ := data["job_id"].(string)
	if got["status"] != "success" || !strings.HasPrefix(jobID, code+"-") {
		t.Fatalf("create: %v", got)
	}
	got = curl("-X", "POST", base+"update-job/", "-H", "Content-Type: application/json", "-H", "X-API-Key: "+src.Key, "-d", `{
"action": "update_job",
"source_name": "Main_ERP",
"job_id": "`+jobID+`",
"salary_range": "SAR 20,000 - 28,000",
"application_deadline": "2026-01-15"
}`)
	if got["status"] != "success" || got["message"] != "Job updated successfully" {
		t.Errorf("update: %v", got)
	}
}
