package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axePath is where .ci/run installs axe-core from the npm registry; the
// tests never download it.
var axePath = filepath.Join("..", "..", ".ci", "node", "node_modules", "axe-core", "axe.min.js")

// axeSource reads axe-core, or skips loudly (fails under CI) when .ci/run
// has not installed it.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is required under CI (npm install --prefix .ci/node axe-core@4, as .ci/run does): %v", err)
		}
		fmt.Fprintf(os.Stderr, "\n!!! SKIPPING %s: %s is missing (%v). Run npm install --prefix .ci/node axe-core@4, or set CI=true to make this a failure.\n\n", t.Name(), axePath, err)
		t.Skipf("axe-core is missing: %v", err)
	}
	return string(b)
}

// checkAccessibility injects axe-core into the current page and fails on
// any serious or critical violation.
func checkAccessibility(t *testing.T, ctx context.Context, axe, what string) {
	t.Helper()
	step(t, ctx, "inject axe-core", chromedp.Evaluate[chromedp.Void](axe))
	found := eval[[]string](t, ctx, `axe.run(document).then(r => r.violations
		.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', ')))`)
	for _, v := range found {
		t.Errorf("%s: %s", what, v)
	}
}

// siteScreenshots saves the page at 360 and 1280 px wide, when asked to.
func siteScreenshots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*screenshots && os.Getenv("ATSGATE_SCREENSHOTS") != "1" {
		return
	}
	for _, w := range []int64{360, 1280} {
		step(t, ctx, "resize", chromedp.EmulateViewport(w, 800))
		screenshot(t, ctx, fmt.Sprintf("site-%s-%d", name, w))
	}
	step(t, ctx, "resize", chromedp.EmulateViewport(1280, 800))
}

// siteBase is the site of the country with host on the test server:
// Chromium resolves every *.localhost name to the loopback address.
func siteBase(t *testing.T, e *env, host string) string {
	t.Helper()
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + host + ":" + u.Port()
}

// TestSiteInBrowser walks the Ghana site as a visitor on a phone would:
// the listing, a search with two filters, the next page, a job page and
// its apply link, and the page of a closed job; axe-core checks each.
func TestSiteInBrowser(t *testing.T) {
	t.Parallel()
	s := newSiteEnv(t, "postgres")
	for i := 1; i <= 23; i++ {
		s.publish(t, job(fmt.Sprintf("B%02d", i), "title", fmt.Sprintf("Bakery assistant %d", i),
			"description", "<p>Early shifts at our bakery in Accra.</p>", "states", []any{1 + i%3}))
	}
	s.publish(t, job("CHEF", "title", "Head chef", "description", "<p>Lead our <strong>kitchen</strong> in Kumasi.</p><ul><li>Menus</li><li>Team of six</li></ul>",
		"states", []any{2}, "job_type", "FULL_TIME", "salary", 6500, "deadline", "2026-08-31", "location_city", "Kumasi",
		"apply_url", "https://kofi.example/careers/chef", "min_experience", 3, "max_experience", 6))
	s.publish(t, job("COOK", "title", "Line cook", "description", "<p>Busy kitchen.</p>", "states", []any{2}, "job_type", "PART_TIME",
		"apply_email", "jobs@kofi.example"))
	gone := s.publish(t, job("OLD", "title", "Night baker"))
	s.call(t, s.emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "OLD"}).wantStatus(t, http.StatusOK)
	axe := axeSource(t)
	ctx := newBrowser(t)
	base := siteBase(t, s.env, "gh.localhost")

	step(t, ctx, "open the listing", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("ol.jobs")))
	if n := eval[int](t, ctx, `document.querySelectorAll('li.job').length`); n != 20 {
		t.Errorf("listing shows %d jobs, want 20", n)
	}
	if got := text(t, ctx, "li.job h2"); got != "Line cook" {
		t.Errorf("newest job is %q, want Line cook", got)
	}
	checkAccessibility(t, ctx, axe, "listing")
	siteScreenshots(t, ctx, "listing")

	// Paging forward keeps going back in time.
	step(t, ctx, "next page", chromedp.Click(chromedp.CSS(`a[rel="next"]`)), chromedp.WaitVisible(chromedp.CSS(`.pager a`)))
	waitFor(t, ctx, `location.search.includes('after=')`)
	if n := eval[int](t, ctx, `document.querySelectorAll('li.job').length`); n != 5 {
		t.Errorf("second page shows %d jobs, want 5", n)
	}
	if last := eval[string](t, ctx, `[...document.querySelectorAll('li.job h2')].pop().textContent.trim()`); last != "Bakery assistant 1" {
		t.Errorf("oldest job on the last page is %q", last)
	}

	// A search with two filters, through the form.
	step(t, ctx, "search", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SetValue(chromedp.ID("q"), "kitchen"),
		chromedp.SetValue(chromedp.ID("f-state"), "2"),
		chromedp.SetValue(chromedp.ID("f-job_type"), "FULL_TIME"),
		chromedp.Click(chromedp.CSS(`form.search button`)))
	waitFor(t, ctx, `location.search.includes('q=kitchen') && document.readyState === 'complete'`)
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll('li.job h2')].map(h => h.textContent.trim())`); len(got) != 1 || got[0] != "Head chef" {
		t.Errorf("search for kitchen in Ashanti, full time, found %v", got)
	}
	if v := eval[string](t, ctx, `document.getElementById('f-state').value + ' ' + document.getElementById('f-job_type').value`); v != "2 FULL_TIME" {
		t.Errorf("the form forgot the filters: %q", v)
	}
	siteScreenshots(t, ctx, "search")

	// The job page and its apply link.
	step(t, ctx, "open the job", chromedp.Click(chromedp.CSS(`li.job h2 a`)), chromedp.WaitVisible(chromedp.CSS(`article.posting`)))
	if got := text(t, ctx, "h1"); got != "Head chef" {
		t.Errorf("job page title %q", got)
	}
	if href := eval[string](t, ctx, `document.querySelector('p.apply a').href`); href != "https://kofi.example/careers/chef" {
		t.Errorf("apply link %q", href)
	}
	if typ := eval[string](t, ctx, `JSON.parse(document.querySelector('script[type="application/ld+json"]').textContent)['@type']`); typ != "JobPosting" {
		t.Errorf("JSON-LD type %q", typ)
	}
	checkAccessibility(t, ctx, axe, "job page")
	siteScreenshots(t, ctx, "job")

	// A mailto: apply link when the job has only an email.
	step(t, ctx, "open the cook's job", chromedp.Navigate(base+"/?q=cook"), chromedp.WaitVisible(chromedp.CSS(`li.job h2 a`)),
		chromedp.Click(chromedp.CSS(`li.job h2 a`)), chromedp.WaitVisible(chromedp.CSS(`p.apply a`)))
	if href := eval[string](t, ctx, `document.querySelector('p.apply a').href`); href != "mailto:jobs@kofi.example" {
		t.Errorf("apply link %q, want mailto:jobs@kofi.example", href)
	}

	// The closed job: 410 with a page a person can use.
	step(t, ctx, "open the closed job", chromedp.Navigate(base+pathOf(t, gone.PublicLink)), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := text(t, ctx, "h1"); got != "This job is no longer open" {
		t.Errorf("closed job page says %q", got)
	}
	checkAccessibility(t, ctx, axe, "410 page")
	siteScreenshots(t, ctx, "gone")
}

// xssVectors are hostile strings for every text a job carries. Each that
// ran would set top.__xss or open a dialog.
var xssVectors = []string{
	`<script>top.__xss=1</script>`,
	`<SCRIPT SRC=data:text/javascript,top.__xss=1></SCRIPT>`,
	`<img src=x onerror="top.__xss=1">`,
	`<img src="x" onerror=top.__xss=1//`,
	`<IMG """><SCRIPT>top.__xss=1</SCRIPT>">`,
	`<svg onload="top.__xss=1">`,
	`<svg><script>top.__xss=1</script></svg>`,
	`<svg><animate onbegin=top.__xss=1 attributeName=x dur=1s>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=top.__xss=1>`,
	`<body onload=top.__xss=1>`,
	`<iframe src="javascript:top.__xss=1"></iframe>`,
	`<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>`,
	`<object data="data:text/html,<script>parent.__xss=1</script>"></object>`,
	`<embed src="data:text/html,<script>parent.__xss=1</script>">`,
	`<a href="javascript:top.__xss=1" id="xss-a">click</a>`,
	`<a href="JaVaScRiPt:top.__xss=1">x</a>`,
	`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;top.__xss=1">x</a>`,
	`<a href="jav&#x09;ascript:top.__xss=1">x</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD50b3AuX194c3M9MTwvc2NyaXB0Pg==">x</a>`,
	`<form action="javascript:top.__xss=1"><button>x</button></form>`,
	`<input autofocus onfocus=top.__xss=1>`,
	`<select autofocus onfocus=top.__xss=1>`,
	`<textarea autofocus onfocus=top.__xss=1>`,
	`<details open ontoggle=top.__xss=1>`,
	`<video><source onerror="top.__xss=1">`,
	`<audio src=x onerror=top.__xss=1>`,
	`<marquee onstart=top.__xss=1>`,
	`<div style="background:url(javascript:top.__xss=1)">x</div>`,
	`<div style="width:expression(top.__xss=1)">x</div>`,
	`<style>@import 'javascript:top.__xss=1';</style>`,
	`<style>*{background:url("javascript:top.__xss=1")}</style>`,
	`<link rel=stylesheet href="javascript:top.__xss=1">`,
	`<meta http-equiv="refresh" content="0;url=javascript:top.__xss=1">`,
	`<base href="javascript:top.__xss=1//">`,
	`"><script>top.__xss=1</script>`,
	`'><script>top.__xss=1</script>`,
	`</title><script>top.__xss=1</script>`,
	`</script><script>top.__xss=1</script>`,
	`</textarea><script>top.__xss=1</script>`,
	`<!--<script>top.__xss=1</script>-->`,
	`<![CDATA[<script>top.__xss=1</script>]]>`,
	`&lt;script&gt;top.__xss=1&lt;/script&gt;`,
	`&#60;script&#62;top.__xss=1&#60;/script&#62;`,
	`\u003cscript\u003etop.__xss=1\u003c/script\u003e`,
	`<scr<script>ipt>top.__xss=1</scr</script>ipt>`,
	`<<script>script>top.__xss=1<</script>/script>`,
	`<img src=x:alert(1) onerror=eval(src.slice(2).replace('alert(1)','top.__xss=1'))>`,
	`<isindex type=image src=1 onerror=top.__xss=1>`,
	`<keygen autofocus onfocus=top.__xss=1>`,
	`<x onclick=top.__xss=1 contenteditable autofocus onfocus=top.__xss=1>x</x>`,
	`<table background="javascript:top.__xss=1">`,
	`<img src="x` + "`" + `onerror=top.__xss=1` + "`" + `">`,
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`{{7*7}}<script>top.__xss=1</script>`,
	`" onmouseover="top.__xss=1" x="`,
	`javascript:top.__xss=1`,
	`data:text/html,<script>top.__xss=1</script>`,
}

// TestSiteXSS places every vector in the title, description and company
// name of published jobs, and in their URLs, and checks in Chromium that
// none runs on the listing, the job pages and the feed. The values are
// written straight into the database, past the API's validation, so the
// pages themselves are what is tested.
func TestSiteXSS(t *testing.T) {
	t.Parallel()
	if len(xssVectors) < 50 {
		t.Fatalf("only %d vectors", len(xssVectors))
	}
	s := newSiteEnv(t, "postgres")
	var paths []string
	for i, v := range xssVectors {
		rec := s.publish(t, job(fmt.Sprintf("X%02d", i), "title", fmt.Sprintf("Job %d", i)))
		err := s.st.DB().QueryRow(`UPDATE jobs SET title = $1, description = $2, apply_url = $3, apply_email = $4,
			extras = $5 WHERE external_id = $6 RETURNING public_path`,
			v, "<p>Text</p>"+v, v, v, fmt.Sprintf(`{"company_name":%q,"company_website":%q,"location_city":%q}`, v, v, v),
			fmt.Sprintf("X%02d", i)).Scan(new(string))
		if err != nil {
			t.Fatalf("write vector %d: %v", i, err)
		}
		paths = append(paths, pathOf(t, rec.PublicLink))
	}
	ctx := newBrowser(t)
	var dialogs atomic.Int32
	// An alert that ran would also block the page, so the next step
	// would time out: either way the test fails.
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	base := siteBase(t, s.env, "gh.localhost")
	visit := func(target string) {
		t.Helper()
		step(t, ctx, "open "+target, chromedp.Navigate(base+target))
		waitFor(t, ctx, `document.readyState === 'complete'`)
		// Give timers, autofocus and media errors a moment to fire.
		time.Sleep(150 * time.Millisecond)
		if ran := eval[bool](t, ctx, `!!window.__xss`); ran {
			t.Errorf("a vector ran on %s", target)
		}
	}
	// The control: the marker is seen when a script does run.
	step(t, ctx, "control", chromedp.Navigate(`data:text/html,<script>top.__xss=1</script>`))
	if !eval[bool](t, ctx, `!!window.__xss`) {
		t.Fatal("the control script's marker is not seen: the check below would prove nothing")
	}
	visit("/")
	visit("/?after=" + url.QueryEscape(strings.Repeat("z", 3)))
	visit("/feed.xml")
	visit("/sitemap.xml")
	for _, p := range paths {
		// The title is not a usable slug; the 301 is followed.
		visit(p)
	}
	if n := dialogs.Load(); n > 0 {
		t.Errorf("%d dialogs opened", n)
	}
}
