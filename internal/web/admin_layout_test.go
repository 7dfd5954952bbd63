package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// TestBackOfficeFitsAt1280: every back-office page, with every details
// element open (the integration log's request and response bodies), fits
// a 1280 px wide window: nothing is cut off and the page does not scroll
// sideways.
func TestBackOfficeFitsAt1280(t *testing.T) {
	f := newBackOfficeFixture(t)
	ctx := newBrowser(t)
	step(t, ctx, "a 1280 px window", chromedp.EmulateViewport(1280, 900))
	signInBrowser(t, ctx, f.admin.URL, f.tokens[atsgate.RoleOperator], false)
	for _, page := range []string{
		"/admin/logs",
		"/admin/reviews",
		"/admin/employers",
		fmt.Sprintf("/admin/employers/%d", f.acme.ID),
		"/admin/reconciliation?month=2026-05",
		fmt.Sprintf("/admin/jobs/%d", f.approve),
	} {
		step(t, ctx, "open "+page, chromedp.Navigate(f.admin.URL+page), chromedp.WaitVisible(chromedp.CSS("h1")))
		waitFor(t, ctx, `document.readyState === "complete"`)
		eval[bool](t, ctx, `document.querySelectorAll("details").forEach(d => d.open = true), true`)
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 1280 {
			t.Errorf("%s is %d px wide in a 1280 px window", page, w)
		}
	}
}
