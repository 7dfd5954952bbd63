package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// TestAdminAPINoStore: no answer of the admin API may be kept by a cache,
// whatever the route, the outcome or the caller: balances, ledgers and,
// once, each newly issued API key would outlive the token that read them.
// Every registered /admin/api route is called, signed in and not.
func TestAdminAPINoStore(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	jobID := itoa(a.pending(t, "NS-1"))
	check := func(t *testing.T, res response, what string) {
		t.Helper()
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: status %d, Cache-Control = %q, want no-store", what, res.Status, got)
		}
	}

	var issued struct{ Key string }
	res := a.api(t, atsgate.RoleOperator, "POST", "/admin/api/employers/"+itoa(a.lagos.ID)+"/keys", nil).wantStatus(t, http.StatusCreated)
	res.decode(t, &issued)
	if issued.Key == "" {
		t.Fatalf("no key in %s", res.Body)
	}
	check(t, res, "a newly issued key")

	routes := a.handler.(*echo.Echo).Routes()
	seen := 0
	for _, r := range routes {
		if !strings.HasPrefix(r.Path, "/admin/api/") || strings.Contains(r.Path, "*") {
			continue
		}
		seen++
		path := strings.ReplaceAll(r.Path, ":id", itoa(a.acme.ID))
		if strings.HasPrefix(r.Path, "/admin/api/jobs/") {
			path = strings.ReplaceAll(r.Path, ":id", jobID)
		}
		what := r.Method + " " + r.Path
		for _, role := range append([]atsgate.Role{""}, roles...) {
			check(t, a.api(t, role, r.Method, path, nil), fmt.Sprintf("%s as %q", what, role))
		}
	}
	if seen < 15 {
		t.Errorf("only %d admin API routes found", seen)
	}
	for _, tt := range []struct{ method, path string }{
		{"GET", "/admin/api/nope"},
		{"GET", "/admin/api/employers/" + itoa(a.acme.ID) + "/topup"}, // 405
		{"GET", "/admin/api/employers/999999"},
		{"POST", "/admin/api/employers/" + itoa(a.acme.ID) + "/topup"}, // 422
	} {
		check(t, a.api(t, atsgate.RoleOperator, tt.method, tt.path, nil), tt.method+" "+tt.path)
	}
}
