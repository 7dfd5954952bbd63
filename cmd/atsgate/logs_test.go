package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/wire"
)

// serveAddrs waits for serve's "atsgate serving" log line and returns the
// public and admin addresses it reports.
func serveAddrs(t *testing.T, stderr *syncBuffer, done <-chan error) (public, admin string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\n%s", err, stderr.String())
		default:
		}
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var l struct{ Msg, Addr, AdminAddr string }
			var raw map[string]any
			if json.Unmarshal(sc.Bytes(), &raw) == nil && raw["msg"] == "atsgate serving" {
				l.Addr, _ = raw["addr"].(string)
				l.AdminAddr, _ = raw["admin_addr"].(string)
				return l.Addr, l.AdminAddr
			}
		}
	}
	t.Fatalf("serve did not start:\n%s", stderr.String())
	return "", ""
}

// TestServeIntegrationLog runs the server on PostgreSQL, sends API
// requests, stops it, and reads the drained integration log back with
// `atsgate logs`. It also checks the operability endpoints of both
// listeners and that the server's own log never holds the key.
func TestServeIntegrationLog(t *testing.T) {
	vars := map[string]string{
		"DATABASE_URL":       dbtest.PostgresURL(t),
		"ATSGATE_ADDR":       "127.0.0.1:0",
		"ATSGATE_ADMIN_ADDR": "127.0.0.1:0",
		"USER":               "ops",
	}
	cli(t, vars, nil, "migrate")
	cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
		"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	var emp wire.Employer
	cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "Logged Ltd")
	id := jsonID(emp.ID)
	var key wire.IssuedKey
	cli(t, vars, &key, "key", "issue", "--employer", id)
	cli(t, vars, nil, "wallet", "topup", "--employer", id, "--amount", "500")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"atsgate", "serve"}, envOf(vars), &stdout, &stderr) }()
	public, admin := serveAddrs(t, &stderr, done)

	send := func(method, url, auth, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "gh.localhost"
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	api := "http://" + public + "/api/ats/jobs"
	for _, c := range []struct {
		method, auth, body string
		want               int
	}{
		{"POST", key.Key, `{"external_id":"CLI-1","title":"Engineer","description":"Build."}`, 201},
		{"POST", key.Key, `{"external_id":"CLI-2","title":""}`, 422},
		{"GET", "", "", 401},
	} {
		if got, body := send(c.method, api, c.auth, c.body); got != c.want {
			t.Fatalf("%s: status %d, want %d: %s", c.method, got, c.want, body)
		}
	}
	if got, _ := send("GET", "http://"+public+"/metrics", "", ""); got != 404 {
		t.Errorf("public /metrics: %d, want 404", got)
	}
	got, metrics := send("GET", "http://"+admin+"/metrics", "", "")
	if got != 200 || !strings.Contains(metrics, `atsgate_http_requests_total{operation="create",route="/api/ats/jobs",status="201"} 1`) ||
		!strings.Contains(metrics, "atsgate_integration_log_dropped_total 0") || !strings.Contains(metrics, `go_sql_open_connections{db_name="atsgate"}`) {
		t.Errorf("admin /metrics: %d\n%s", got, metrics)
	}
	for _, addr := range []string{public, admin} {
		if got, body := send("GET", "http://"+addr+"/readyz", "", ""); got != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("%s /readyz: %d %s", addr, got, body)
		}
		if got, _ := send("GET", "http://"+addr+"/healthz", "", ""); got != 200 {
			t.Errorf("%s /healthz: %d", addr, got)
		}
	}

	cancel() // SIGTERM: the servers stop, then the integration log drains
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(stderr.String(), key.Key) || strings.Contains(stderr.String(), key.Key[11:]) {
		t.Errorf("the server log holds the API key:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"integration log drained"`) {
		t.Errorf("no drain line in the server log:\n%s", stderr.String())
	}

	type entry struct {
		ID          int64  `json:"id"`
		EmployerID  int64  `json:"employer_id"`
		KeyPrefix   string `json:"key_prefix"`
		Operation   string `json:"operation"`
		ExternalID  string `json:"external_id"`
		Status      int    `json:"status"`
		ErrorCode   string `json:"error_code"`
		RequestBody string `json:"request_body"`
	}
	tests := []struct {
		name string
		args []string
		want []int // statuses, newest first
	}{
		{"all", nil, []int{401, 422, 201}},
		{"4xx", []string{"--status", "4xx"}, []int{401, 422}},
		{"exact status", []string{"--status", "422"}, []int{422}},
		{"employer", []string{"--employer", id}, []int{422, 201}},
		{"operation", []string{"--operation", "create"}, []int{422, 201}},
		{"since", []string{"--since", "1h"}, []int{401, 422, 201}},
		{"since days", []string{"--since", "1d"}, []int{401, 422, 201}},
		{"until the past", []string{"--until", "2020-01-01"}, []int{}},
		{"limit", []string{"--limit", "1"}, []int{401}},
	}
	var all []entry
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var es []entry
			cli(t, vars, &es, append([]string{"logs"}, tc.args...)...)
			statuses := []int{}
			for _, e := range es {
				statuses = append(statuses, e.Status)
			}
			if !equalInts(statuses, tc.want) {
				t.Errorf("logs %v: statuses %v, want %v", tc.args, statuses, tc.want)
			}
			if tc.name == "all" {
				all = es
			}
		})
	}
	if len(all) == 3 {
		created := all[2]
		if created.EmployerID != emp.ID || created.KeyPrefix != key.Key[:11] || created.Operation != "create" ||
			created.ExternalID != "CLI-1" || !strings.Contains(created.RequestBody, `"CLI-1"`) {
			t.Errorf("create entry: %+v", created)
		}
		if all[1].ErrorCode != "validation_failed" || all[0].ErrorCode != "unauthorized" || all[0].EmployerID != 0 {
			t.Errorf("refusals: %+v %+v", all[1], all[0])
		}
		var page []entry
		cli(t, vars, &page, "logs", "--before", jsonID(all[1].ID))
		if len(page) != 1 || page[0].ID != all[2].ID {
			t.Errorf("logs --before %d: %+v", all[1].ID, page)
		}
	}

	// The text form: a header and one line per entry, never the key.
	var text, errOut bytes.Buffer
	if err := run(context.Background(), []string{"atsgate", "logs", "--bodies"}, envOf(vars), &text, &errOut); err != nil {
		t.Fatalf("logs: %v %s", err, errOut.String())
	}
	if out := text.String(); !strings.Contains(out, "OPERATION") || !strings.Contains(out, "CLI-1") ||
		!strings.Contains(out, "validation_failed") || strings.Contains(out, key.Key) {
		t.Errorf("logs text output:\n%s", out)
	}
	// --bodies puts each body below its row, indented and marked, never a
	// literal \n inside the table.
	for _, line := range strings.Split(text.String(), "\n") {
		if strings.Contains(line, `\n`) {
			t.Errorf("logs --bodies prints a literal \\n: %q", line)
		}
	}
	if !strings.Contains(text.String(), "\n    > {") || !strings.Contains(text.String(), "\n    < {") {
		t.Errorf("logs --bodies shows no indented request and response bodies:\n%s", text.String())
	}
	if msg := cliErr(t, vars, "logs", "--operation", "fly"); !strings.Contains(msg, "must be one of create, update, close, get, list") {
		t.Errorf("logs --operation fly: %s", msg)
	}

	for _, bad := range [][]string{
		{"logs", "--status", "6xx"}, {"logs", "--status", "abc"}, {"logs", "--since", "yesterday"},
		{"logs", "--employer", "x"}, {"logs", "--limit", "0"}, {"logs", "--limit", "5000"},
	} {
		if msg := cliErr(t, vars, bad...); msg == "" {
			t.Errorf("atsgate %v: empty error", bad)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
