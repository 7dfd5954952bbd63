package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/seal"
	"github.com/atsgate/atsgate/internal/settings"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/web"
	"github.com/atsgate/atsgate/internal/wire"
)

// TestCLIAndAdminAPIAgree prints each object through the CLI's --json and
// through the admin API, over the same database, and wants the same JSON:
// package wire is the one shape of each, and this keeps both surfaces on
// it. The admin API wraps objects in envelopes; the CLI prints the object,
// or an array of them.
func TestCLIAndAdminAPIAgree(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			vars := map[string]string{"DATABASE_URL": dbtest.URL(t, dialect), "USER": "ops"}
			cli(t, vars, nil, "migrate")
			// Lagos is UTC+1, so a local time and a UTC one differ.
			cli(t, vars, nil, "country", "add", "--code", "ng", "--name", "Nigeria", "--host", "ng.localhost",
				"--currency", "NGN", "--timezone", "Africa/Lagos", "--price", "5000")
			cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
				"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
			// One employer with its own price and a commitment, one on the
			// country's price.
			var own, dft wire.Employer
			cli(t, vars, &own, "employer", "add", "--country", "ng", "--name", "Lagos Ltd", "--price", "4500.50",
				"--min-monthly-spend", "20000", "--commitment-start", "2020-01")
			backdateEmployer(t, vars["DATABASE_URL"], own.ID, time.Date(2019, 12, 1, 0, 0, 0, 0, time.UTC))
			var dftAdded any
			cli(t, vars, &dftAdded, "employer", "add", "--country", "gh", "--name", "Small Co", "--auto-publish")
			recode(t, dftAdded, &dft)
			ownID, dftID := jsonID(own.ID), jsonID(dft.ID)
			var key wire.IssuedKey
			cli(t, vars, &key, "key", "issue", "--employer", ownID)
			var topup any
			cli(t, vars, &topup, "wallet", "topup", "--employer", ownID, "--amount", "50000", "--note", "bank 1")
			var adjust any
			cli(t, vars, &adjust, "wallet", "adjust", "--employer", ownID, "--amount", "-0.50", "--note", "fee")
			var tok wire.IssuedAdminToken
			cli(t, vars, &tok, "admin", "token", "issue", "--role", "operator", "--name", "olu")

			st, err := store.Open(ctx, vars["DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			// Three jobs through the store, as the ATS API would create them;
			// one description needs sanitising.
			p, err := st.Authenticate(ctx, atsgate.HashAPIKey(key.Key))
			if err != nil {
				t.Fatal(err)
			}
			jobIDs := make([]string, 3)
			for i, desc := range []string{"<p>Till <b>work</b></p><script>alert(1)</script>", "Plain", "Third"} {
				ext, title := "L-"+strconv.Itoa(i), "Cashier "+strconv.Itoa(i)
				j, _, err := st.CreateJob(ctx, p, atsgate.JobInput{ExternalID: ext, Title: &title, Description: &desc})
				if err != nil {
					t.Fatal(err)
				}
				jobIDs[i] = jsonID(j.ID)
			}
			base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
			if err := st.AppendLogs(ctx, []atsgate.LogEntry{
				{Time: base, CountryID: p.Country.ID, EmployerID: p.Employer.ID, KeyPrefix: key.Prefix, Dialect: "ats",
					Operation: "create", ExternalID: "L-0", Status: 201, Duration: 1500 * time.Microsecond, Method: "POST",
					Path: "/api/ats/jobs", RequestBody: `{"external_id":"L-0"}`, ResponseBody: `{"state":"pending_review"}`},
				{Time: base.Add(time.Minute), Dialect: "ats", Operation: "create", Status: 401, ErrorCode: "unauthorized"},
			}); err != nil {
				t.Fatal(err)
			}

			hooks, err := newWebhooks(settings.Config{Env: "dev", SecretKey: seal.DevKey()}, st)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(web.NewAdmin(web.Deps{BackOffice: st, Directory: st, Jobs: st, Webhooks: hooks,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now}))
			defer srv.Close()
			api := func(method, path string, body ...string) any {
				t.Helper()
				req, err := http.NewRequest(method, srv.URL+"/admin/api"+path, strings.NewReader(strings.Join(body, "")))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var v any
				if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode >= 300 {
					t.Fatalf("%s %s: %d, %v", method, path, res.StatusCode, err)
				}
				return v
			}
			cliJSON := func(args ...string) any {
				t.Helper()
				var v any
				cli(t, vars, &v, args...)
				return v
			}
			same := func(t *testing.T, cliOut, apiOut any) {
				t.Helper()
				if list, ok := apiOut.([]any); ok && len(list) == 0 {
					t.Fatal("an empty list: nothing to compare")
				}
				if diff := cmp.Diff(apiOut, cliOut); diff != "" {
					t.Errorf("(-admin API +CLI):\n%s", diff)
				}
			}
			field := func(v any, name string) any { return v.(map[string]any)[name] }

			t.Run("countries", func(t *testing.T) {
				same(t, cliJSON("country", "list"), field(api("GET", "/countries"), "countries"))
			})
			t.Run("employers", func(t *testing.T) {
				same(t, cliJSON("employer", "list"), field(api("GET", "/employers"), "employers"))
				same(t, cliJSON("employer", "list", "--country", "ng"), field(api("GET", "/employers?country=ng"), "employers"))
			})
			t.Run("employer", func(t *testing.T) {
				// employer add prints the employer as the admin API shows it
				// while its wallet is still empty.
				same(t, dftAdded, field(api("GET", "/employers/"+dftID), "employer"))
				if dft.PriceOverride != nil || dft.Price != "50.00" || own.PriceOverride == nil || *own.PriceOverride != "4500.50" || own.Price != "4500.50" {
					t.Errorf("prices: own %s/%v, default %s/%v", own.Price, own.PriceOverride, dft.Price, dft.PriceOverride)
				}
			})
			t.Run("statement", func(t *testing.T) {
				same(t, cliJSON("wallet", "show", "--employer", ownID), api("GET", "/employers/"+ownID+"/statement"))
				today := time.Now().In(p.Country.Location)
				from, to := today.AddDate(0, 0, -1).Format(atsgate.DateLayout), today.AddDate(0, 0, 2).Format(atsgate.DateLayout)
				same(t, cliJSON("wallet", "show", "--employer", ownID, "--from", from, "--to", to),
					api("GET", "/employers/"+ownID+"/statement?from="+from+"&to="+to))
			})
			t.Run("ledger entry", func(t *testing.T) {
				// A CLI top-up prints the entry the admin statement lists, and
				// an admin top-up answers with the entry the CLI lists.
				entries := func(statement any) map[float64]any {
					out := map[float64]any{}
					for _, e := range field(statement, "entries").([]any) {
						out[field(e, "id").(float64)] = e
					}
					return out
				}
				byAPI := entries(api("GET", "/employers/"+ownID+"/statement"))
				for _, posted := range []any{topup, adjust} {
					same(t, posted, byAPI[field(posted, "id").(float64)])
				}
				posted := field(api("POST", "/employers/"+ownID+"/topup", `{"amount": "1", "note": "bank 2"}`), "entry")
				same(t, entries(cliJSON("wallet", "show", "--employer", ownID))[field(posted, "id").(float64)], posted)
			})
			// A published job with a pending edit whose description needs
			// sanitising, for the edits half of the queue.
			editTitle, editDesc := "Cashier 3", "<p>Count</p>"
			edited, _, err := st.CreateJob(ctx, p, atsgate.JobInput{ExternalID: "L-3", Title: &editTitle, Description: &editDesc})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Approve(ctx, edited.ID, "admin:olu"); err != nil {
				t.Fatal(err)
			}
			editTitle, editDesc = "Head cashier", "<p>Count <b>twice</b></p><script>alert(1)</script>"
			if _, err := st.UpdateJob(ctx, p, atsgate.JobInput{ExternalID: "L-3", Title: &editTitle, Description: &editDesc}); err != nil {
				t.Fatal(err)
			}
			editedID := jsonID(edited.ID)
			t.Run("review queue", func(t *testing.T) {
				// The CLI prints the queue object the API answers: pending
				// jobs and pending edits.
				q := cliJSON("review", "list")
				same(t, q, api("GET", "/reviews"))
				edits, _ := field(q, "edits").([]any)
				if len(edits) != 1 || strings.Contains(jsonOf(t, edits), "alert(") || !strings.Contains(jsonOf(t, edits), "Head cashier") {
					t.Errorf("edits = %s, want L-3's edit, sanitised", jsonOf(t, edits))
				}
				var text, stderr strings.Builder
				if err := run(ctx, []string{"atsgate", "review", "list"}, envOf(vars), &text, &stderr); err != nil {
					t.Fatalf("review list: %v\n%s", err, stderr.String())
				}
				for _, want := range []string{"EDITS OF PUBLISHED JOBS", "Head cashier", "<b>twice</b>"} {
					if !strings.Contains(text.String(), want) {
						t.Errorf("review list lacks %q:\n%s", want, text.String())
					}
				}
			})
			t.Run("edit decisions", func(t *testing.T) {
				approved := cliJSON("review", "approve", "--job", editedID)
				same(t, approved, field(api("GET", "/jobs/"+editedID), "job"))
				if field(approved, "title") != "Head cashier" || field(approved, "pending_edit") != false {
					t.Errorf("approved edit: %v", approved)
				}
				editTitle = "Cashier again"
				if _, err := st.UpdateJob(ctx, p, atsgate.JobInput{ExternalID: "L-3", Title: &editTitle}); err != nil {
					t.Fatal(err)
				}
				refused := cliJSON("review", "disapprove", "--job", editedID, "--reason", "No")
				same(t, refused, field(api("GET", "/jobs/"+editedID), "job"))
				if field(refused, "title") != "Head cashier" || field(refused, "state") != "published" || field(refused, "pending_edit") != false {
					t.Errorf("refused edit: %v", refused)
				}
			})
			t.Run("moderated job", func(t *testing.T) {
				same(t, cliJSON("review", "approve", "--job", jobIDs[0]), field(api("GET", "/jobs/"+jobIDs[0]), "job"))
				same(t, cliJSON("review", "disapprove", "--job", jobIDs[1], "--reason", "Duplicate"), field(api("GET", "/jobs/"+jobIDs[1]), "job"))
				if d := field(field(api("GET", "/jobs/"+jobIDs[0]), "job"), "description").(string); strings.Contains(d, "script") {
					t.Errorf("description not sanitised: %q", d)
				}
			})
			t.Run("reconciliation", func(t *testing.T) {
				run := cliJSON("reconcile", "--month", "2020-01").(map[string]any)
				report := api("GET", "/reconciliation?month=2020-01").(map[string]any)
				// at is when each was run or read: the one field that differs.
				for _, r := range []map[string]any{run, report} {
					if at, _ := r["at"].(string); !strings.HasSuffix(at, "Z") {
						t.Errorf("at = %v, want RFC 3339 UTC", r["at"])
					}
					delete(r, "at")
				}
				if lines, _ := report["lines"].([]any); len(lines) != 1 || field(lines[0], "status") != "debited" {
					t.Fatalf("report = %v, want Lagos Ltd's line, debited", report)
				}
				same(t, run, report)
			})
			t.Run("logs", func(t *testing.T) {
				same(t, cliJSON("logs"), field(api("GET", "/logs"), "logs"))
			})
			t.Run("keys", func(t *testing.T) {
				// Different keys each time: the same fields, and the key
				// works as it says.
				byAPI := api("POST", "/employers/"+dftID+"/keys").(map[string]any)
				byCLI := cliJSON("key", "rotate", "--employer", ownID).(map[string]any)
				same(t, keysOf(byCLI), keysOf(byAPI))
				same(t, cliJSON("key", "disable", "--employer", ownID), map[string]any{"employer_id": float64(own.ID), "disabled": true})
				same(t, api("DELETE", "/employers/"+dftID+"/keys"), map[string]any{"employer_id": float64(dft.ID), "disabled": true})
			})
			t.Run("webhooks", func(t *testing.T) {
				set := cliJSON("webhook", "set", "--employer", ownID, "--url", "https://93.184.215.14/hooks", "--events", "job.published")
				same(t, field(set, "webhook"), field(api("GET", "/employers/"+ownID+"/webhook"), "webhook"))
				same(t, cliJSON("webhook", "show", "--employer", ownID), field(api("GET", "/employers/"+ownID+"/webhook"), "webhook"))
				cliJSON("review", "approve", "--job", jobIDs[2])
				same(t, cliJSON("webhook", "deliveries", "--employer", ownID), field(api("GET", "/webhooks/deliveries?employer="+ownID), "deliveries"))
				same(t, cliJSON("webhook", "disable", "--employer", ownID), field(api("GET", "/employers/"+ownID+"/webhook"), "webhook"))
			})
		})
	}
}

// recode decodes v, a decoded JSON value, into out.
func recode(t *testing.T, v, out any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

// keysOf lists an object's field names.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonOf is v as JSON text, for searching and messages.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
