package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/settings"
	"github.com/atsgate/atsgate/internal/store"
)

// TestDeployMetricsExist keeps deploy/'s alert rules and dashboard in step
// with what serve exports: every metric name they query must be on
// /metrics as serve wires it (startObservability), once each labelled
// series has been touched. A renamed metric fails here, not silently on a
// dashboard.
func TestDeployMetricsExist(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, dbtest.SQLiteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	obs := startObservability(ctx, settings.Config{IntegrationLogRetention: time.Hour}, slog.New(slog.DiscardHandler), st)
	defer obs.stop()
	m := obs.metrics
	// What a running server does sooner or later.
	m.ObserveRequest("/api/ats/jobs", "create", 201, time.Millisecond)
	m.RateLimitDecision("allowed")
	m.SetLimiterMode("redis")
	m.WebhookAttempt("retry", "network", time.Millisecond)
	m.SetWebhookBacklog(1, time.Second)
	m.ReconciliationRun(true)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	exported := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		exported[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}

	name := regexp.MustCompile(`\b(?:atsgate|go|process)_[a-z0-9_]+\b`)
	used := map[string][]string{}
	rules, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(rules), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, n := range name.FindAllString(line, -1) {
			used[n] = append(used[n], "alerts.yml")
		}
	}
	raw, err := os.ReadFile("../../deploy/grafana/atsgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct{ List []struct{ Definition string } }
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("atsgate.json: %v", err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				used[n] = append(used[n], "dashboard panel "+p.Title)
			}
		}
	}
	for _, v := range dash.Templating.List {
		for _, n := range name.FindAllString(v.Definition, -1) {
			used[n] = append(used[n], "dashboard variable")
		}
	}
	if len(used) < 10 {
		t.Fatalf("found only %d metric names in deploy/: %v", len(used), used)
	}
	var missing []string
	for n, where := range used {
		if !exported[n] {
			missing = append(missing, n+" (in "+strings.Join(where, ", ")+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("deploy/ queries metrics /metrics does not export:\n  %s", strings.Join(missing, "\n  "))
	}
}
