package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/seal"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/web"
	"github.com/atsgate/atsgate/internal/wire"
)

func cmdMigrate(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := e.open(ctx)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	return e.print(wire.Migration{Migrated: true, Dialect: string(st.Dialect())}, func(w io.Writer) {
		fmt.Fprintf(w, "%s database is up to date\n", st.Dialect())
	})
}

// cmdServe wires the server in order: configuration, logger, database,
// services, HTTP; then serves until ctx ends and drains.
func cmdServe(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := e.cfg.CheckServe(); err != nil {
		return err
	}
	cfg, log := e.cfg, e.logger
	setMemoryLimit(e.getenv) // memory.go
	box, err := seal.New(cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("ATSGATE_SECRET_KEY: %w", err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithTimeout(cfg.DBTimeout), store.WithSealer(box), store.WithMaxConns(cfg.DBMaxConns))
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log) // pprof; debug.go
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	if cfg.Env == "dev" {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
	}
	// Metrics and the integration log (observe.go). The deferred stop runs
	// after the HTTP servers have stopped, and drains the log.
	obs := startObservability(ctx, cfg, log, st)
	defer obs.stop()
	lim, err := newLimiter(cfg, log) // Redis, with the in-process limiter as fallback; limiter.go
	if err != nil {
		return err
	}
	defer lim.Close()
	if lim.client != nil {
		announceAuthChanges(st, lim.client, log) // key changes reach every instance's auth cache
	}
	limCtx, stopLimiter := context.WithCancel(context.Background())
	defer stopLimiter()
	go lim.Run(limCtx) // probes Redis: degraded on failure, back within a second of recovery
	go lim.reportMode(limCtx, obs.metrics.SetLimiterMode)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.Env == "dev" && st.Dialect() == store.SQLite {
		if err := seedDev(ctx, e, st, ln.Addr()); err != nil {
			ln.Close()
			return fmt.Errorf("seed development data: %w", err)
		}
	}
	hooks, err := newWebhooks(cfg, st)
	if err != nil {
		ln.Close()
		return err
	}
	deps := web.Deps{
		Directory:      st,
		Jobs:           st,
		ERPSources:     st,
		ERPJobs:        st,
		Site:           st,
		Taxonomy:       config.Taxonomy,
		Logger:         log,
		Now:            time.Now,
		TrustedProxies: cfg.TrustedProxies,
		BackOffice:     st,
		Webhooks:       hooks,
		IntegrationLog: obs.recorder,
		Metrics:        obs.metrics,
		PingDatabase:   st.Ping,

		Limiter:          lim,
		RateLimit:        cfg.RateLimit,
		AuthFailureLimit: cfg.AuthFailureLimit,
		LimiterMode:      lim.Mode,
		PingRedis:        lim.ping(),
		AuthGeneration:   lim.authGeneration(),
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on %s: %w", cfg.AdminAddr, err)
	}
	servers := []*http.Server{newHTTPServer(web.NewPublic(deps)), newHTTPServer(web.NewAdmin(deps))}
	listeners := []net.Listener{ln, adminLn}
	stopSchedule := startSchedule(ctx, st, log, obs.metrics) // expiry and minimum spend; see schedule.go
	defer stopSchedule()
	stopWebhooks := startWebhooks(ctx, cfg, st, log, obs.metrics) // the delivery worker; see webhooks.go
	defer stopWebhooks()
	log.Info("atsgate serving", "addr", ln.Addr().String(), "admin_addr", adminLn.Addr().String(),
		"database", st.Dialect(), "env", cfg.Env)
	if cfg.Env == "dev" {
		printWhere(e, ln.Addr(), adminLn.Addr())
	}
	errc := make(chan error, len(servers))
	for i := range servers {
		go func(i int) { errc <- servers[i].Serve(listeners[i]) }(i)
	}
	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var shutdownErr error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			shutdownErr = fmt.Errorf("shutdown: %w", err)
		}
	}
	for range servers {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && shutdownErr == nil {
			shutdownErr = err
		}
	}
	if shutdownErr != nil {
		return shutdownErr
	}
	log.Info("stopped")
	return nil
}

// httpLimits are the http.Server settings that keep slow, idle or
// oversized clients from holding connections and memory.
type httpLimits struct {
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
}

// serveLimits are the production limits: a client must send its headers
// within 5 s and its whole request within 30 s, a response must be written
// within 30 s, an idle keep-alive connection is closed after 120 s, and
// headers are capped at 32 KiB (431 beyond). Tests use shorter ones
// through newHTTPServerWith.
var serveLimits = httpLimits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      30 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    32 << 10,
}

// newHTTPServer is an http.Server for h with the production limits.
func newHTTPServer(h http.Handler) *http.Server { return newHTTPServerWith(h, serveLimits) }

// newHTTPServerWith is an http.Server for h with limits lim.
func newHTTPServerWith(h http.Handler, lim httpLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
	}
}

// seedDev fills an empty embedded database with the development countries
// and a demo employer with money, and prints a key and a curl line that
// works as printed. It does nothing on a database that has countries.
func seedDev(ctx context.Context, e *env, st *store.Store, addr net.Addr) error {
	empty, err := st.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	seeds, err := config.DevCountries()
	if err != nil {
		return err
	}
	port := "8080"
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(ta.Port)
	}
	var ng *atsgate.Country
	for _, s := range seeds {
		price, err := atsgate.ParseAmount(s.Price)
		if err != nil {
			return fmt.Errorf("country %s: %w", s.Code, err)
		}
		c, err := st.CreateCountry(ctx, atsgate.Country{Code: s.Code, Name: s.Name, Hosts: s.Hosts, Currency: s.Currency,
			TimeZone: s.TimeZone, Price: price, PublicURL: fmt.Sprintf("http://%s:%s", s.Hosts[0], port)})
		if err != nil {
			return err
		}
		if c.Code == "ng" || ng == nil {
			ng = c
		}
	}
	emp, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: ng.ID, Name: "Demo Employer Ltd", Code: "DEMO"})
	if err != nil {
		return err
	}
	if _, _, err := st.TopUp(ctx, emp.ID, ng.Price.Mul(decimal.NewFromInt(100)), "seed", "development credit: 100 jobs", ""); err != nil {
		return err
	}
	key, _, err := st.IssueKey(ctx, emp.ID, false)
	if err != nil {
		return err
	}
	_, erpKey, _, err := st.CreateERPSource(ctx, atsgate.ERPSourceInput{EmployerID: emp.ID, Name: "Main_ERP",
		Description: "development ERP source"})
	if err != nil {
		return err
	}
	deadline := ng.Local(time.Now()).AddDate(0, 1, 0).Format(atsgate.DateLayout)
	defer fmt.Fprintf(e.stdout, `Or as its ERP system would (source Main_ERP, key shown once; docs/erp.md):

  curl -X POST http://127.0.0.1:%s/recruitment/integration/erp/create-job/ \
    -H 'Host: %s' \
    -H 'X-API-Key: %s' \
    -H 'Content-Type: application/json' \
    -d '{"action":"create_job","source_name":"Main_ERP","title":"ERP Analyst","application_url":"https://example.com/apply/2"}'

`, port, ng.Hosts[0], erpKey)
	fmt.Fprintf(e.stdout, `
atsgate: a fresh development database was created (%s).
  Countries: ng, gh, ke, za on ng.localhost, gh.localhost, ke.localhost, za.localhost
  Demo employer: #%d %q in %s, wallet %s %s (100 jobs)
  Its API key (shown once; "atsgate key rotate --employer %d" makes a new one):

    %s

Create a job:

  curl -i -X POST http://127.0.0.1:%s/api/ats/jobs \
    -H 'Host: %s' \
    -H 'Authorization: Bearer %s' \
    -H 'Content-Type: application/json' \
    -d '{"external_id":"DEMO-1","title":"Backend Engineer","description":"<p>Build our job API.</p>","deadline":"%s","apply_url":"https://example.com/apply/1"}'

`, e.cfg.DatabaseURL, emp.ID, emp.Name, ng.Code, ng.Price.Mul(decimal.NewFromInt(100)).StringFixed(2), ng.Currency,
		emp.ID, key, port, ng.Hosts[0], key, deadline)
	return nil
}

// printWhere tells a developer, at every start in dev and not only the
// first, where things are: the API, the back office, and the commands that
// give a key and a sign-in token (which were printed once, at seeding).
func printWhere(e *env, api, admin net.Addr) {
	fmt.Fprintf(e.stdout, `atsgate is serving (%s, ATSGATE_ENV=dev):
  ATS API:     http://%s/api/ats/jobs  (send the country's host: -H 'Host: ng.localhost')
  ERP API:     http://%[2]s/recruitment/integration/erp/
  Back office: http://%s/admin/login
  A sign-in token:        ./bin/atsgate admin token issue --role operator --name you
  A new demo API key:     ./bin/atsgate key rotate --employer 1
  Every command:          ./bin/atsgate help
`, e.cfg.DatabaseURL, loopback(api), loopback(admin))
}

// loopback is addr as a browser on this machine reaches it: a wildcard
// listener ("[::]:8080", "0.0.0.0:8080") is 127.0.0.1.
func loopback(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	if ta.IP == nil || ta.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(ta.Port))
	}
	return ta.String()
}
