package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/web"
)

// TestERPDatabaseDown: with PostgreSQL unreachable, an ERP request is a
// 503 UNAVAILABLE in the envelope with Retry-After, quickly, and health
// says unhealthy; both recover by themselves.
func TestERPDatabaseDown(t *testing.T) {
	pg := dbtest.PostgresURL(t)
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	proxy := dbtest.StartProxy(t, u.Host)
	ctx := context.Background()
	st, err := store.Open(ctx, proxy.URL(t, pg), store.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateCountry(ctx, atsgate.Country{Code: "gh", Name: "Ghana", Hosts: []string{"gh.localhost"},
		Currency: "GHS", TimeZone: "Africa/Accra", Price: decimal.NewFromInt(50), PublicURL: "https://gh.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	emp, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: c.ID, Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.TopUp(ctx, emp.ID, decimal.NewFromInt(500), "test", "", ""); err != nil {
		t.Fatal(err)
	}
	_, key, _, err := st.CreateERPSource(ctx, atsgate.ERPSourceInput{EmployerID: emp.ID, Name: "Main_ERP"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewPublic(web.Deps{Directory: st, Jobs: st, ERPSources: st, ERPJobs: st,
		Taxonomy: config.Taxonomy, PingDatabase: st.Ping, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	e := &erpEnv{env: &env{srv: srv, client: srv.Client()}}
	src := erpSource{Key: key, Host: "gh.localhost"}

	e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "Before")).wantERP(t, 201, "")
	proxy.Down()
	start := time.Now()
	res := e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "During"))
	res.wantERP(t, http.StatusServiceUnavailable, "UNAVAILABLE")
	if res.Header.Get("Retry-After") == "" || time.Since(start) > 10*time.Second {
		t.Errorf("503 after %s, Retry-After %q", time.Since(start), res.Header.Get("Retry-After"))
	}
	e.send(t, e.request(t, "GET", "/recruitment/integration/erp/health/", "gh.localhost", "", nil)).wantStatus(t, http.StatusServiceUnavailable)
	proxy.Up(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := e.erpCall(t, src, "POST", "create-job/", erpJob("Main_ERP", "After"))
		if res.Status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered: %d %s", res.Status, res.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
