package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/wire"
)

// syncBuffer is a bytes.Buffer safe to read while serve writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestServePrintsWorkingCurl is what a new user does after `make run`: copy
// the printed curl line into a shell and expect a created job.
func TestServePrintsWorkingCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	vars := map[string]string{
		"DATABASE_URL":       dbtest.SQLiteURL(t),
		"ATSGATE_ADDR":       "127.0.0.1:0",
		"ATSGATE_ADMIN_ADDR": "127.0.0.1:0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"atsgate", "serve"}, envOf(vars), &stdout, &stderr) }()

	curlRE := regexp.MustCompile(`(?s)  curl -i .*?apply/1"\}'\n`)
	var curl string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if curl = curlRE.FindString(stdout.String()); curl != "" && strings.Contains(stderr.String(), "atsgate serving") {
			break
		}
	}
	if curl == "" {
		t.Fatalf("serve printed no curl line\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	for i, want := range []string{"HTTP/1.1 201 Created", "HTTP/1.1 200 OK"} {
		out, err := exec.Command("bash", "-c", curl).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %d: %v\n%s", i, err, out)
		}
		if !strings.Contains(string(out), want) || !strings.Contains(string(out), `"external_id":"DEMO-1"`) {
			t.Fatalf("curl %d: want %q, got:\n%s", i, want, out)
		}
	}
	// The ERP source's curl line works too.
	erpCurl := regexp.MustCompile(`(?s)  curl -X POST \S+/recruitment/integration/erp/create-job/ .*?apply/2"\}'\n`).FindString(stdout.String())
	if out, err := exec.Command("bash", "-c", erpCurl).CombinedOutput(); erpCurl == "" || err != nil ||
		!strings.Contains(string(out), `"status":"success"`) || !strings.Contains(string(out), `"job_id":"DEMO-`) {
		t.Fatalf("the ERP curl line %q: %v\n%s", erpCurl, err, out)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}

	// A second start on the same database seeds nothing and prints no key.
	stdout = syncBuffer{}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- run(ctx2, []string{"atsgate", "serve"}, envOf(vars), &stdout, &stderr) }()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !strings.Contains(stdout.String(), "Every command"); {
		time.Sleep(20 * time.Millisecond)
	}
	cancel2()
	if err := <-done; err != nil {
		t.Fatalf("second serve: %v", err)
	}
	if strings.Contains(stdout.String(), "mjm_") {
		t.Fatalf("second start printed a key again:\n%s", stdout.String())
	}
	// But it says where things are, with the real addresses.
	for _, want := range []string{"atsgate is serving", "Back office: http://127.0.0.1:", "/admin/login", "admin token issue"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("second start printed no %q:\n%s", want, stdout.String())
		}
	}
}

// cli runs one command with --json and decodes its output into out.
func cli(t *testing.T, vars map[string]string, out any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"atsgate"}, append(args, "--json")...), envOf(vars), &stdout, &stderr)
	if err != nil {
		t.Fatalf("atsgate %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			t.Fatalf("atsgate %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
	}
}

// cliErr runs a command that must fail and returns its error text.
func cliErr(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"atsgate"}, args...), envOf(vars), &stdout, &stderr)
	if err == nil {
		t.Fatalf("atsgate %s succeeded, want an error; output:\n%s", strings.Join(args, " "), stdout.String())
	}
	return err.Error()
}

// TestCLIOperatorFlow provisions a country, an employer, a key and money
// from the CLI, as an operator would, on each database.
func TestCLIOperatorFlow(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			vars := map[string]string{"DATABASE_URL": dbtest.URL(t, dialect), "USER": "ops"}
			cli(t, vars, nil, "migrate")

			var c wire.Country
			cli(t, vars, &c, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
				"--host", "GH.Example.test", "--currency", "ghs", "--timezone", "Africa/Accra", "--price", "50")
			if c.Code != "gh" || c.Currency != "GHS" || c.Price != "50.00" || len(c.Hosts) != 2 || c.Hosts[1] != "gh.example.test" {
				t.Fatalf("country add: %+v", c)
			}
			if msg := cliErr(t, vars, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "x.test",
				"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50"); !strings.Contains(msg, "conflict") {
				t.Fatalf("duplicate country: %s", msg)
			}
			var countries []wire.Country
			cli(t, vars, &countries, "country", "list")
			if len(countries) != 1 {
				t.Fatalf("country list: %+v", countries)
			}

			var emp wire.Employer
			cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "Acme Ltd", "--price", "40",
				"--min-monthly-spend", "500", "--commitment-start", "2026-10")
			if emp.Code != "ACMELTD" || emp.Price != "40.00" || emp.PriceOverride == nil || *emp.PriceOverride != "40.00" || emp.MinMonthlySpend != "500.00" {
				t.Fatalf("employer add: %+v", emp)
			}
			if msg := cliErr(t, vars, "employer", "add", "--country", "gh", "--name", "X", "--commitment-start", "2026-10"); !strings.Contains(msg, "min-monthly-spend") {
				t.Fatalf("commitment without minimum: %s", msg)
			}
			id := jsonID(emp.ID)

			var k1, k2 wire.IssuedKey
			cli(t, vars, &k1, "key", "issue", "--employer", id)
			cli(t, vars, &k2, "key", "rotate", "--employer", id)
			if !strings.HasPrefix(k1.Key, "mjm_gh_") || len(k1.Key) < 7+43 || k1.Key == k2.Key {
				t.Fatalf("keys: %q then %q", k1.Key, k2.Key)
			}
			cli(t, vars, nil, "key", "disable", "--employer", id)
			if msg := cliErr(t, vars, "key", "rotate", "--employer", id); !strings.Contains(msg, "no active key") {
				t.Fatalf("rotate after disable: %s", msg)
			}

			var e1, e2 wire.LedgerEntry
			cli(t, vars, &e1, "wallet", "topup", "--employer", id, "--amount", "100.50", "--note", "bank transfer 123")
			cli(t, vars, &e2, "wallet", "adjust", "--employer", id, "--amount", "-0.50", "--note", "fee")
			if e1.RunningBalance != "100.50" || e2.RunningBalance != "100.00" || e2.Actor != "cli:ops" {
				t.Fatalf("entries: %+v %+v", e1, e2)
			}
			if msg := cliErr(t, vars, "wallet", "adjust", "--employer", id, "--amount", "5"); !strings.Contains(msg, "note") {
				t.Fatalf("adjust without note: %s", msg)
			}
			if msg := cliErr(t, vars, "wallet", "topup", "--employer", id, "--amount", "1.005"); !strings.Contains(msg, "decimal places") {
				t.Fatalf("three decimals: %s", msg)
			}
			var st wire.Statement
			cli(t, vars, &st, "wallet", "show", "--employer", id)
			if st.Balance != "100.00" || len(st.Entries) != 2 || st.Totals["topup"] != "100.50" || st.Currency != "GHS" {
				t.Fatalf("wallet show: %+v", st)
			}
			var emps []wire.Employer
			cli(t, vars, &emps, "employer", "list", "--country", "gh")
			if len(emps) != 1 || emps[0].Balance != "100.00" {
				t.Fatalf("employer list: %+v", emps)
			}
		})
	}
}

func jsonID(id int64) string { return strings.TrimSpace(string(must(json.Marshal(id)))) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCLIRefusesBadInvocations(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": dbtest.SQLiteURL(t)}
	for name, args := range map[string][]string{
		"unknown command":  {"frobnicate"},
		"missing flags":    {"country", "add", "--code", "gh"},
		"stray argument":   {"country", "list", "extra"},
		"bad employer id":  {"key", "issue", "--employer", "abc"},
		"review both ways": {"review", "approve", "--job", "1", "--employer", "1"},
		"prod on sqlite":   {"serve"},
	} {
		t.Run(name, func(t *testing.T) {
			v := vars
			if name == "prod on sqlite" {
				v = map[string]string{"DATABASE_URL": vars["DATABASE_URL"], "ATSGATE_ENV": "prod"}
			}
			if msg := cliErr(t, v, args...); msg == "" {
				t.Fatal("empty error")
			}
		})
	}
}
