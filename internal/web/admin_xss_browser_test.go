package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// injectedJS lists what a hostile job text would have put into a
// back-office page: event-handler attributes, script-capable URLs
// (javascript:, vbscript:, data:) in any URL attribute, and elements the
// pages never use themselves (scripts, frames, objects, base, meta
// refresh, inline styles and style sheets, SVG and MathML, forms posting
// anywhere but the back office). Empty means inert.
const injectedJS = `(() => {
  const bad = [];
  const urlAttrs = ["href", "src", "action", "formaction", "data", "srcdoc", "background", "poster", "xlink:href", "content", "srcset"];
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      const v = a.value.toLowerCase().replace(/[\u0000-\u0020]/g, "");
      if (n.startsWith("on")) bad.push(el.tagName + " " + n);
      if (n === "style") bad.push(el.tagName + " style=" + a.value);
      if (urlAttrs.includes(n) && /(^|[;=,])(javascript|vbscript|data):/.test(v)) bad.push(el.tagName + " " + n + "=" + a.value);
    }
  }
  const foreign = "script, iframe, frame, object, embed, applet, base, meta[http-equiv], style, svg, math, " +
    "link:not([rel=stylesheet][href='/admin/static/admin.css']), form:not([action^='/admin/'])";
  for (const el of document.querySelectorAll(foreign)) bad.push("<" + el.tagName.toLowerCase() + ">");
  return bad;
})()`

// TestBackOfficeXSS puts every hostile string of xssVectors in the title,
// description and company of jobs waiting for review, and in edits of
// published jobs (through the ATS API, as an integrator would send them),
// then opens the review queue, its next pages and each job's page with
// its diff in Chromium as a reviewer: no script runs (a vector that ran
// would set top.__xss), no dialog opens, and nothing executable is in the
// DOM (injectedJS).
func TestBackOfficeXSS(t *testing.T) {
	t.Parallel()
	if len(xssVectors) < 50 {
		t.Fatalf("only %d vectors", len(xssVectors))
	}
	a := newAdminEnv(t)
	if _, _, err := a.st.TopUp(context.Background(), a.acme.ID, decimal.NewFromInt(10_000), "test", "room for the vectors' jobs", ""); err != nil {
		t.Fatal(err)
	}
	var pending, edited []int64
	for i, v := range xssVectors {
		// A job waiting for review, its text written past the API's
		// validation, so the pages themselves are what is tested.
		ext := fmt.Sprintf("XP%02d", i)
		id := a.pending(t, ext)
		if _, err := a.st.DB().Exec(`UPDATE jobs SET title = $1, description = $2, apply_url = $3, extras = $4 WHERE id = $5`,
			v, "<p>Text</p>"+v, v, fmt.Sprintf(`{"company_name":%q,"company_website":%q}`, v, v), id); err != nil {
			t.Fatalf("write vector %d: %v", i, err)
		}
		pending = append(pending, id)

		// A published job and an edit of it carrying the vector.
		ext = fmt.Sprintf("XE%02d", i)
		id = a.pending(t, ext, "title", "Store clerk", "description", "<p>Serve customers.</p>")
		a.api(t, atsgate.RoleReviewer, "POST", "/admin/api/jobs/"+itoa(id)+"/approve", nil).wantStatus(t, http.StatusOK)
		a.clock.Advance(time.Second)
		a.call(t, a.acme, http.MethodPut, "/api/ats/jobs", map[string]any{"external_id": ext, "title": "Clerk " + v,
			"description": "<p>Serve customers.</p>" + v, "company_name": v, "apply_url": "https://example.com/apply"}).wantStatus(t, http.StatusOK)
		edited = append(edited, id)
	}

	ctx := newBrowser(t)
	var dialogs atomic.Int32
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	// The control: the marker is seen when a script does run.
	step(t, ctx, "control", chromedp.Navigate(`data:text/html,<script>top.__xss=1</script>`))
	if !eval[bool](t, ctx, `!!window.__xss`) {
		t.Fatal("the control script's marker is not seen: the check below would prove nothing")
	}
	signInBrowser(t, ctx, a.admin.URL, a.tokens[atsgate.RoleReviewer], false)
	seen := map[string]bool{}
	check := func(target string) {
		t.Helper()
		step(t, ctx, "open "+target, chromedp.Navigate(a.admin.URL+target))
		waitFor(t, ctx, `document.readyState === "complete"`)
		// Give timers, autofocus, toggles and media errors a moment.
		time.Sleep(150 * time.Millisecond)
		if ran := eval[bool](t, ctx, `!!window.__xss`); ran {
			t.Errorf("a vector ran on %s", target)
		}
		if bad := eval[[]string](t, ctx, injectedJS); len(bad) > 0 {
			t.Errorf("%s carries injected markup: %q", target, bad)
		}
		if title := eval[string](t, ctx, `document.title`); !strings.Contains(title, "atsgate back office") {
			t.Errorf("%s: the page's title is %q", target, title)
		}
	}
	// The queue, with every description opened, and every page of it.
	for next := "/admin/reviews"; next != "" && !seen[next]; {
		seen[next] = true
		check(next)
		step(t, ctx, "open the descriptions", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`))
		time.Sleep(100 * time.Millisecond)
		if ran := eval[bool](t, ctx, `!!window.__xss`); ran {
			t.Errorf("a vector ran on %s once the descriptions were opened", next)
		}
		next = eval[string](t, ctx, `(() => { const a = [...document.querySelectorAll("nav.pager a")].find(a => a.textContent.includes("Next page")); return a ? a.getAttribute("href") : ""; })()`)
	}
	if len(seen) < 2 {
		t.Errorf("the queue had %d page(s); the vectors should fill more than one", len(seen))
	}
	shown := eval[int](t, ctx, `document.querySelectorAll("section.edit table.diff").length`)
	if shown == 0 && len(seen) == 1 {
		t.Error("no edit's diff was on the queue")
	}
	// Each job's page: the pending job's, and the edited job's with its diff.
	for i := range xssVectors {
		check(fmt.Sprintf("/admin/jobs/%d", pending[i]))
		check(fmt.Sprintf("/admin/jobs/%d", edited[i]))
		if n := eval[int](t, ctx, `document.querySelectorAll("table.diff").length`); n != 1 {
			t.Errorf("job %d's page shows %d diffs, want its pending edit's", edited[i], n)
		}
	}
	if n := dialogs.Load(); n > 0 {
		t.Errorf("%d dialogs opened", n)
	}
}
