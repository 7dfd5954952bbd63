package web_test

import (
	"net/url"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// TestAdminBadQueryNever500 sweeps junk query and path values over the
// admin API and pages: each is a 4xx, never an internal error. ?country=
// that is neither a code nor an integer used to reach PostgreSQL as a
// bigint comparison and fail with 500.
func TestAdminBadQueryNever500(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	acme := itoa(a.acme.ID)
	bad := []string{"abc", "xyz", "1e5", "99999999999999999999", "-1", "0", "\x00", "é", "%", "1.5", " ", "gh ", "GH", "9223372036854775807"}
	for _, v := range bad {
		q := url.QueryEscape(v)
		targets := []string{
			"/admin/api/employers?country=" + q,
			"/admin/api/reviews?country=" + q,
			"/admin/api/reconciliation?month=2026-05&country=" + q,
			"/admin/api/reconciliation?month=" + q,
			"/admin/api/employers?after=" + q,
			"/admin/api/employers?limit=" + q,
			"/admin/api/employers/" + q,
			"/admin/api/employers/" + acme + "/statement?from=" + q,
			"/admin/api/employers/" + acme + "/statement?to=" + q,
			"/admin/api/logs?employer=" + q,
			"/admin/api/logs?before=" + q,
			"/admin/api/logs?operation=" + q,
			"/admin/api/logs?status=" + q,
			"/admin/api/logs?since=" + q,
			"/admin/api/jobs/" + q,
		}
		for _, tg := range targets {
			r := a.api(t, atsgate.RoleOperator, "GET", tg, nil)
			if r.Status >= 500 {
				t.Errorf("GET %s: %d %s", tg, r.Status, r.Body)
			}
		}
		for _, tg := range []string{"/admin/api/reconciliation?month=" + q, "/admin/api/reconciliation?month=2026-05&employer=" + q} {
			r := a.api(t, atsgate.RoleOperator, "POST", tg, nil)
			if r.Status >= 500 {
				t.Errorf("POST %s: %d %s", tg, r.Status, r.Body)
			}
		}
	}
	for _, d := range []string{"0001-01-01", "9999-12-31", "0000-01-01", "2026-02-30"} {
		for _, tg := range []string{"/admin/api/employers/" + acme + "/statement?from=" + d, "/admin/api/employers/" + acme + "/statement?to=" + d,
			"/admin/api/logs?since=" + d, "/admin/api/logs?until=" + d, "/admin/api/logs?since=" + d + "T00:00:00%2B14:00"} {
			r := a.api(t, atsgate.RoleOperator, "GET", tg, nil)
			if r.Status >= 500 {
				t.Errorf("GET %s: %d %s", tg, r.Status, r.Body)
			}
		}
	}
	for _, m := range []string{"9999-12", "2000-01", "1999-12", "0000-01"} {
		r := a.api(t, atsgate.RoleOperator, "POST", "/admin/api/reconciliation?month="+m, nil)
		if r.Status >= 500 {
			t.Errorf("POST recon %s: %d %s", m, r.Status, r.Body)
		}
		r = a.api(t, atsgate.RoleOperator, "GET", "/admin/api/reconciliation?month="+m, nil)
		if r.Status >= 500 {
			t.Errorf("GET recon %s: %d %s", m, r.Status, r.Body)
		}
	}
	// money bodies
	for _, body := range []string{`{"amount":"1e3"}`, `{"amount":1e400}`, `{"amount":"99999999999999999999"}`, `{"amount":"-0"}`, `{"amount":"0.001"}`, `{"amount":[1]}`, `{"amount":"NaN"}`, `{"amount":"１"}`, `{"amount":"1","note":"\u0000"}`, `[]`, `"x"`} {
		for _, p := range []string{"/topup", "/adjust"} {
			r := a.api(t, atsgate.RoleOperator, "POST", "/admin/api/employers/"+acme+p, body)
			if r.Status >= 500 {
				t.Errorf("POST %s %s: %d %s", p, body, r.Status, r.Body)
			}
		}
	}
	// pages
	b := a.browser(t)
	b.signIn(a.tokens[atsgate.RoleOperator])
	for _, v := range bad {
		q := url.QueryEscape(v)
		for _, tg := range []string{"/admin/employers?country=" + q, "/admin/reviews?country=" + q, "/admin/reconciliation?country=" + q,
			"/admin/reconciliation?month=" + q, "/admin/employers/" + acme + "?from=" + q, "/admin/employers/" + acme + "?page=" + q,
			"/admin/logs?since=" + q, "/admin/jobs/" + q, "/admin/employers/" + q, "/admin/employers/" + acme + "/statement.csv?to=" + q} {
			st, body := b.page(tg)
			if st >= 500 {
				t.Errorf("page %s: %d %.300s", tg, st, body)
			}
		}
	}
}
