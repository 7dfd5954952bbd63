package web_test

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/web"
)

var screenshots = flag.Bool("screenshots", false, "write screenshots of the back-office pages to docs/img (also ATSGATE_SCREENSHOTS=1)")

// chromiumPath is Debian's chromium; the tests never download a browser.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless chromium with a fresh profile, or skips
// loudly (fails under CI) when it is not installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required under CI (apt-get install chromium): %v", err)
		}
		fmt.Fprintf(os.Stderr, "\n!!! SKIPPING %s: %s is missing (%v). Install it with apt-get install chromium, or set CI=true to make this a failure.\n\n", t.Name(), chromiumPath, err)
		t.Skipf("%s is missing: %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("password-store", "basic"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs browser actions with a time limit.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor evaluates js until it is true; a navigation in between only
// means another try.
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", js)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// screenshot saves the page to docs/img/name.png when asked to.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*screenshots && os.Getenv("ATSGATE_SCREENSHOTS") != "1" {
		return
	}
	// The whole page: a viewport as tall as the document, so nothing
	// below the first screen is cut off, then the window as it was.
	w, h := eval[int64](t, ctx, `window.innerWidth`), eval[int64](t, ctx, `window.innerHeight`)
	full := eval[int64](t, ctx, `Math.ceil(document.documentElement.scrollHeight)`)
	step(t, ctx, "a viewport as tall as the page", chromedp.EmulateViewport(w, max(full, h)))
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	step(t, ctx, "the viewport as it was", chromedp.EmulateViewport(w, h))
	dir := filepath.Join("..", "..", "docs", "img")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// backOfficeFixture is a board with a month of history: employers in two
// countries, a commitment that May fell short of, jobs awaiting review and
// a few integration log entries.
type backOfficeFixture struct {
	*env
	admin         *httptest.Server
	tokens        map[atsgate.Role]string
	acme          employer
	approve, deny int64
}

func newBackOfficeFixture(t *testing.T) *backOfficeFixture {
	t.Helper()
	ctx := context.Background()
	e := newEnv(t)
	f := &backOfficeFixture{env: e, tokens: map[atsgate.Role]string{}}
	e.clock.Set(time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC))
	withCommitment := func(min string) employerOpt {
		return func(in *atsgate.EmployerInput) { in.MinMonthlySpend, in.CommitmentStart = min, "2026-05" }
	}
	f.acme = e.employer(t, "gh", "Acme Ltd", "1000", withCommitment("300"))
	kumasi := e.employer(t, "gh", "Kumasi Foods", "400", withCommitment("100"), autoPublish)
	lagos := e.employer(t, "ng", "Lagos Logistics", "60000")
	e.employer(t, "ng", "Abuja Health", "0")
	e.clock.Set(time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC))
	e.create(t, f.acme, job("ACME-101", "title", "Warehouse Supervisor", "description",
		"<p>Run the day shift at our Tema warehouse: receiving, stock counts and dispatch to 40 shops.</p>"+
			"<ul><li>Three years leading a warehouse team</li><li>A forklift licence is a plus</li></ul>", "salary", 4500))
	e.create(t, kumasi, job("KF-7", "title", "Line Cook", "description", "<p>Prepare lunch and dinner for our Adum restaurant.</p>"))
	e.create(t, kumasi, job("KF-8", "title", "Delivery Rider", "description", "<p>Deliver orders across Kumasi on a company motorbike.</p>"))
	e.create(t, kumasi, job("KF-9", "title", "Store Manager", "description", "<p>Lead a team of eight in our Kejetia store.</p>"))
	e.create(t, lagos, job("LL-1", "title", "Fleet Dispatcher", "description",
		"<p>Plan routes and dispatch 60 trucks across Lagos and Ogun, 6 am to 2 pm, Monday to Saturday.</p>"))
	e.clock.Set(time.Date(2026, 6, 18, 9, 14, 32, 0, time.UTC))
	if _, _, err := e.st.TopUp(ctx, f.acme.ID, decimal.RequireFromString("250"), "admin:olu", "bank transfer GH-2291", ""); err != nil {
		t.Fatal(err)
	}
	e.create(t, f.acme, job("ACME-201", "title", "Backend Engineer",
		"description", `<p>Build our <strong>job API</strong> in Go.</p><ul><li>PostgreSQL</li><li>Redis</li></ul><script>alert("x")</script>`))
	e.clock.Advance(7 * time.Minute)
	e.create(t, f.acme, job("ACME-202", "title", "Senior Accountant",
		"description", `<p>Own the monthly close.</p><img src="https://tracker.example/x.gif" onerror="alert(1)">`))
	e.create(t, lagos, job("LL-2", "title", "Customer Support Agent", "description",
		"<p>Answer customers by phone and chat in English and Yoruba; rotating shifts in Ikeja.</p>"))
	f.approve = e.storedJob(t, f.acme.ID, "ACME-201").ID
	f.deny = e.storedJob(t, f.acme.ID, "ACME-202").ID
	// The warehouse job went live in May; Acme's edit of it waits for review.
	if _, err := e.st.Approve(ctx, e.storedJob(t, f.acme.ID, "ACME-101").ID, "admin:rita"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	e.call(t, f.acme, http.MethodPut, "/api/ats/jobs", job("ACME-101", "title", "Warehouse Supervisor (night shift)", "description",
		"<p>Run the night shift at our Tema warehouse: receiving, stock counts and dispatch to 40 shops.</p>"+
			"<ul><li>Three years leading a warehouse team</li><li>A forklift licence is a plus</li></ul>", "salary", 5200)).wantStatus(t, http.StatusOK)
	e.clock.Advance(15 * time.Minute)

	now := e.clock.Now()
	logs := []atsgate.LogEntry{
		{Time: now.Add(-30 * time.Minute), CountryID: e.gh.ID, EmployerID: f.acme.ID, KeyPrefix: atsgate.KeyPrefix(f.acme.Key), Dialect: "ats", Operation: "create", ExternalID: "ACME-201", Status: 201, Duration: 8200 * time.Microsecond, ClientIP: "203.0.113.7", RequestID: "req-4f1a", Method: "POST", Path: "/api/ats/jobs", RequestBody: `{"external_id":"ACME-201","title":"Backend Engineer"}`, ResponseBody: `{"external_id":"ACME-201","state":"pending_review"}`},
		{Time: now.Add(-25 * time.Minute), CountryID: e.gh.ID, EmployerID: f.acme.ID, KeyPrefix: atsgate.KeyPrefix(f.acme.Key), Dialect: "ats", Operation: "create", ExternalID: "ACME-203", Status: 422, ErrorCode: "validation_failed", Duration: 2100 * time.Microsecond, ClientIP: "203.0.113.7", RequestID: "req-4f1b", Method: "POST", Path: "/api/ats/jobs", RequestBody: `{"external_id":"ACME-203"}`, ResponseBody: `{"error":{"code":"validation_failed","fields":{"title":"is required"}}}`},
		{Time: now.Add(-20 * time.Minute), CountryID: e.ng.ID, EmployerID: lagos.ID, KeyPrefix: atsgate.KeyPrefix(lagos.Key), Dialect: "ats", Operation: "list", Status: 200, Duration: 3400 * time.Microsecond, ClientIP: "198.51.100.20", RequestID: "req-77c0", Method: "GET", Path: "/api/ats/jobs"},
		{Time: now.Add(-10 * time.Minute), CountryID: e.gh.ID, Dialect: "ats", Operation: "create", Status: 401, ErrorCode: "unauthorized", Duration: 900 * time.Microsecond, ClientIP: "192.0.2.99", RequestID: "req-9d2e", Method: "POST", Path: "/api/ats/jobs"},
		{Time: now.Add(-5 * time.Minute), CountryID: e.ng.ID, EmployerID: lagos.ID, KeyPrefix: atsgate.KeyPrefix(lagos.Key), Dialect: "erp", Operation: "create", ExternalID: "LAGOSLOGIS-2026-0003", Status: 201, Duration: 9100 * time.Microsecond, ClientIP: "198.51.100.20", RequestID: "req-77c1", Method: "POST", Path: "/recruitment/integration/erp/create-job/"},
	}
	if err := e.st.AppendLogs(ctx, logs); err != nil {
		t.Fatalf("append logs: %v", err)
	}
	for role, name := range map[atsgate.Role]string{atsgate.RoleReviewer: "rita", atsgate.RoleFinance: "fatima", atsgate.RoleOperator: "olu"} {
		plain, _, err := e.st.IssueAdminToken(ctx, name, role)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[role] = plain
	}
	f.admin = httptest.NewServer(web.NewAdmin(adminDeps(e)))
	t.Cleanup(f.admin.Close)
	return f
}

// signInBrowser signs in through the form and waits for the first page.
func signInBrowser(t *testing.T, ctx context.Context, base, token string, shot bool) {
	t.Helper()
	step(t, ctx, "open the sign-in page",
		chromedp.Navigate(base+"/admin/login"),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
	if shot {
		screenshot(t, ctx, "login")
	}
	step(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("header .who")),
	)
}

func TestBackOfficeInBrowser(t *testing.T) {
	f := newBackOfficeFixture(t)
	ctx := newBrowser(t)
	base := f.admin.URL

	// A reviewer approves one job and disapproves another with a reason.
	signInBrowser(t, ctx, base, f.tokens[atsgate.RoleReviewer], true)
	if got := eval[string](t, ctx, `location.pathname`); got != "/admin/reviews" {
		t.Fatalf("reviewer landed on %s, want the queue", got)
	}
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll("header nav a")].map(a => a.textContent)`); strings.Join(got, ",") != "Moderation queue" {
		t.Errorf("reviewer nav = %v", got)
	}
	desc := eval[string](t, ctx, fmt.Sprintf(`document.querySelector("#job-%d .description").innerHTML`, f.approve))
	if strings.Contains(desc, "script") || !strings.Contains(desc, "<strong>job API</strong>") {
		t.Errorf("description as shown to the reviewer: %q", desc)
	}
	step(t, ctx, "open descriptions for the screenshot",
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`))
	screenshot(t, ctx, "queue")
	step(t, ctx, "approve",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#job-%d button.approve`, f.approve))),
		// The queue comes back without the job once the POST is done.
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`#job-%d`, f.approve))),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	if got := text(t, ctx, "p.flash"); !strings.Contains(got, "approved") {
		t.Errorf("flash after approving: %q", got)
	}
	step(t, ctx, "disapprove with a reason",
		chromedp.SendKeys(chromedp.ID(fmt.Sprintf("reason-%d", f.deny)), "Duplicate of an open posting"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#job-%d button.danger`, f.deny))),
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`#job-%d`, f.deny))),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	if got := text(t, ctx, "p.flash"); !strings.Contains(got, "disapproved") {
		t.Errorf("flash after disapproving: %q", got)
	}
	if j := f.storedJob(t, f.acme.ID, "ACME-201"); j.State != atsgate.StatePublished {
		t.Errorf("ACME-201 is %s, want published", j.State)
	}
	if j := f.storedJob(t, f.acme.ID, "ACME-202"); j.State != atsgate.StateDisapproved || j.DisapprovalReason != "Duplicate of an open posting" {
		t.Errorf("ACME-202 is %s (%q), want disapproved with the reason", j.State, j.DisapprovalReason)
	}
	step(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`header .who button`)),
		chromedp.WaitVisible(chromedp.ID("token")),
	)

	// Finance reads the statement and its CSV.
	signInBrowser(t, ctx, base, f.tokens[atsgate.RoleFinance], false)
	if got := eval[string](t, ctx, `location.pathname`); got != "/admin/employers" {
		t.Fatalf("finance landed on %s, want employers", got)
	}
	screenshot(t, ctx, "employers")
	step(t, ctx, "open Acme's statement",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/admin/employers/%d"]`, f.acme.ID))),
		chromedp.WaitVisible(chromedp.CSS("table.statement")),
	)
	// June in Accra: opening is May's closing (1000 − 50), then the top-up,
	// two charges and the refund of the disapproved job.
	type row struct{ Kind, Amount, Running string }
	rows := eval[[]row](t, ctx, `[...document.querySelectorAll("table.statement tr[data-kind]")].map(r => ({
		Kind: r.dataset.kind, Amount: r.querySelector(".amount").textContent.trim(), Running: r.querySelector(".running").textContent.trim()}))`)
	want := []row{
		{"topup", "250.00 GHS", "1,200.00 GHS"},
		{"job_charge", "-50.00 GHS", "1,150.00 GHS"},
		{"job_charge", "-50.00 GHS", "1,100.00 GHS"},
		{"job_refund", "50.00 GHS", "1,150.00 GHS"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("statement rows:\n got %v\nwant %v", rows, want)
	}
	if got := text(t, ctx, "#opening"); got != "950.00 GHS" {
		t.Errorf("opening = %q, want 950.00 GHS", got)
	}
	if got := text(t, ctx, "#closing"); got != "1,150.00 GHS" {
		t.Errorf("closing = %q, want 1,150.00 GHS", got)
	}
	if got := text(t, ctx, `table.totals tr[data-kind="job_refund"] td`); got != "50.00 GHS" {
		t.Errorf("refund total = %q", got)
	}
	screenshot(t, ctx, "statement")

	csvText := eval[string](t, ctx, `fetch(document.getElementById("csv-link").href).then(r => r.ok ? r.text() : Promise.reject(new Error("status " + r.status)))`)
	records, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil {
		t.Fatalf("CSV from the page: %v\n%s", err, csvText)
	}
	var kinds, running []string
	for _, r := range records[1:] {
		kinds = append(kinds, r[2])
		running = append(running, r[4])
	}
	if got, want := strings.Join(kinds, ","), "opening_balance,topup,job_charge,job_charge,job_refund,closing_balance,total_topup,total_job_charge,total_job_refund,total_minimum_spend,total_adjustment"; got != want {
		t.Errorf("CSV kinds:\n got %s\nwant %s", got, want)
	}
	if got, want := strings.Join(running[:6], ","), "950.00,1200.00,1150.00,1100.00,1150.00,1150.00"; got != want {
		t.Errorf("CSV running balances: got %s, want %s", got, want)
	}
	if refund := records[5]; refund[2] != "job_refund" || refund[3] != "50.00" || refund[5] != "GHS" || refund[6] != fmt.Sprint(f.deny) || refund[8] != "admin:rita" {
		t.Errorf("CSV refund row = %q", refund)
	}

	// Finance is refused the moderation pages and actions.
	step(t, ctx, "open the queue as finance", chromedp.Navigate(base+"/admin/reviews"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := text(t, ctx, "h1"); got != "403 Forbidden" {
		t.Errorf("queue as finance: %q, want 403 Forbidden", got)
	}
	pending := f.storedJob(t, f.lagosJob(t), "LL-2")
	status := eval[int](t, ctx, fmt.Sprintf(`fetch("/admin/jobs/%d/approve", {method: "POST",
		headers: {"Content-Type": "application/x-www-form-urlencoded"},
		body: "csrf=" + encodeURIComponent(document.querySelector("input[name=csrf]").value)}).then(r => r.status)`, pending.ID))
	if status != 403 {
		t.Errorf("approve as finance with a valid CSRF token: %d, want 403", status)
	}
	if j := f.storedJob(t, pending.EmployerID, "LL-2"); j.State != atsgate.StatePending {
		t.Errorf("LL-2 is %s after finance's attempt", j.State)
	}

	step(t, ctx, "open the reconciliation",
		chromedp.Navigate(base+"/admin/reconciliation?month=2026-05"),
		chromedp.WaitVisible(chromedp.CSS("table")),
	)
	if got := eval[string](t, ctx, `document.querySelector("tr.status-pending").textContent`); !strings.Contains(got, "Acme Ltd") || !strings.Contains(got, "250.00 GHS") {
		t.Errorf("reconciliation line of Acme: %q", got)
	}
	screenshot(t, ctx, "reconciliation")
	step(t, ctx, "open the integration log",
		chromedp.Navigate(base+"/admin/logs"),
		chromedp.WaitVisible(chromedp.CSS("table.logs")),
	)
	screenshot(t, ctx, "logs")
	step(t, ctx, "filter the log to failures",
		chromedp.SetValue(chromedp.ID("status"), "4xx"),
		chromedp.Submit(chromedp.ID("status")),
	)
	waitFor(t, ctx, `location.search.includes("status=4xx") && document.readyState === "complete" && !!document.querySelector("table.logs")`)
	if n := eval[int](t, ctx, `document.querySelectorAll("table.logs tbody tr.entry").length`); n != 2 {
		t.Errorf("4xx filter shows %d rows, want 2", n)
	}
}

// lagosJob is the employer of the pending Lagos job.
func (f *backOfficeFixture) lagosJob(t *testing.T) int64 {
	t.Helper()
	emps, err := f.st.Employers(context.Background(), f.ng.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range emps {
		if e.Name == "Lagos Logistics" {
			return e.ID
		}
	}
	t.Fatal("no Lagos Logistics")
	return 0
}
