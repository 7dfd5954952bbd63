package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// TestHelpAndMisuse: help asked for goes to stdout and exits 0; a misuse
// (no command, an unknown command or flag, a missing flag, a group with no
// command) exits 2 with one message; every command has a purpose, its
// flags and an example in its --help.
func TestHelpAndMisuse(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite://" + t.TempDir() + "/help.db"}
	call := func(args ...string) (stdout, stderr string, code int) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"atsgate"}, args...), envOf(vars), &out, &errOut)
		if err != nil {
			code = exitCode(err)
			errOut.WriteString("atsgate: " + err.Error() + "\n")
		}
		return out.String(), errOut.String(), code
	}
	for _, tc := range []struct {
		args       []string
		code       int
		wantOut    string // in stdout
		wantErr    string // in stderr
		stderrOnce string // must appear exactly once in stderr
	}{
		{args: nil, code: 2, wantErr: "no command given"},
		{args: []string{"--help"}, code: 0, wantOut: "wallet topup"},
		{args: []string{"help"}, code: 0, wantOut: "ledger verify"},
		{args: []string{"wallet", "--help"}, code: 0, wantOut: "atsgate wallet COMMAND"},
		{args: []string{"admin", "token", "-h"}, code: 0, wantOut: "admin token revoke"},
		{args: []string{"wallet"}, code: 2, wantErr: "needs a command"},
		{args: []string{"wallet", "topup", "--help"}, code: 0, wantOut: "example:\n  atsgate wallet topup"},
		{args: []string{"help", "key", "issue"}, code: 0, wantOut: "usage: atsgate key issue --employer ID"},
		{args: []string{"wallet", "topup", "--bogus"}, code: 2, stderrOnce: "flag provided but not defined: -bogus"},
		{args: []string{"wallet", "topup"}, code: 2, wantErr: "missing --employer, --amount; see 'atsgate wallet topup --help'"},
		{args: []string{"country", "list", "extra"}, code: 2, wantErr: `unexpected argument "extra"`},
		{args: []string{"fly"}, code: 2, wantErr: `unknown command "fly"`},
	} {
		name := strings.Join(tc.args, " ")
		stdout, stderr, code := call(tc.args...)
		if code != tc.code {
			t.Errorf("atsgate %s: exit %d, want %d\nstdout: %s\nstderr: %s", name, code, tc.code, stdout, stderr)
		}
		if tc.code == 0 && stderr != "" {
			t.Errorf("atsgate %s: help wrote to stderr: %s", name, stderr)
		}
		if !strings.Contains(stdout, tc.wantOut) {
			t.Errorf("atsgate %s: stdout lacks %q:\n%s", name, tc.wantOut, stdout)
		}
		if !strings.Contains(stderr, tc.wantErr) {
			t.Errorf("atsgate %s: stderr lacks %q:\n%s", name, tc.wantErr, stderr)
		}
		if tc.stderrOnce != "" && strings.Count(stderr, tc.stderrOnce) != 1 {
			t.Errorf("atsgate %s: %q appears %d times in stderr, want once:\n%s", name, tc.stderrOnce, strings.Count(stderr, tc.stderrOnce), stderr)
		}
	}

	// Every command's help has its purpose, every flag and an example.
	for name, cmd := range commands() {
		if cmd.purpose == "" || cmd.example == "" || !strings.HasPrefix(cmd.example, "atsgate "+name) && !strings.Contains(cmd.example, " atsgate "+name) {
			t.Errorf("%s: purpose %q, example %q", name, cmd.purpose, cmd.example)
		}
		stdout, stderr, code := call(append(strings.Fields(name), "--help")...)
		if code != 0 || !strings.Contains(stdout, cmd.purpose) || !strings.Contains(stdout, "--json") || !strings.Contains(stdout, cmd.example) {
			t.Errorf("atsgate %s --help: exit %d\n%s%s", name, code, stdout, stderr)
		}
	}
}

// TestCLIActor: money entries name who posted them: --actor, else
// ATSGATE_ACTOR, else $USER, else the OS account; never a bare "cli".
func TestCLIActor(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite://" + t.TempDir() + "/actor.db"}
	cli(t, vars, nil, "migrate")
	cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
		"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	var emp wire.Employer
	cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "Acme")
	id := jsonID(emp.ID)
	topup := func(extra ...string) string {
		t.Helper()
		var le wire.LedgerEntry
		cli(t, vars, &le, append([]string{"wallet", "topup", "--employer", id, "--amount", "1"}, extra...)...)
		return le.Actor
	}
	if got := topup(); !strings.HasPrefix(got, "cli:") || len(got) <= len("cli:") {
		t.Errorf("with no USER or ATSGATE_ACTOR: actor %q, want cli:<OS user>", got)
	}
	vars["USER"] = "ama"
	if got := topup(); got != "cli:ama" {
		t.Errorf("USER=ama: actor %q", got)
	}
	vars["ATSGATE_ACTOR"] = "finance-bot"
	if got := topup(); got != "cli:finance-bot" {
		t.Errorf("ATSGATE_ACTOR=finance-bot: actor %q", got)
	}
	if got := topup("--actor", "kofi"); got != "cli:kofi" {
		t.Errorf("--actor kofi: actor %q", got)
	}
}

// TestCLIRefusesWhatItCannotMean: a reversed statement period and money in
// exponent notation are refused (exit 2), and admin token issue names the
// real back-office address, not a placeholder.
func TestCLIRefusesWhatItCannotMean(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite://" + t.TempDir() + "/refuse.db", "ATSGATE_ADMIN_ADDR": "0.0.0.0:9181"}
	cli(t, vars, nil, "migrate")
	cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
		"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	var emp wire.Employer
	cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "Acme")
	id := jsonID(emp.ID)
	if msg := cliErr(t, vars, "wallet", "show", "--employer", id, "--from", "2026-12-01", "--to", "2026-11-01"); !strings.Contains(msg, "--to must be a later day") {
		t.Errorf("reversed period: %s", msg)
	}
	if msg := cliErr(t, vars, "wallet", "topup", "--employer", id, "--amount", "1e3"); !strings.Contains(msg, "not a plain decimal") {
		t.Errorf("--amount 1e3: %s", msg)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"atsgate", "admin", "token", "issue", "--role", "finance", "--name", "fi"}, envOf(vars), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "http://127.0.0.1:9181/admin/login") || strings.Contains(out.String(), "<ATSGATE_ADMIN_ADDR>") {
		t.Errorf("admin token issue says:\n%s", out.String())
	}
}

// TestCLIEmployerSameName: a second employer with the same name (in any
// case) in the same country is refused unless the operator says it is
// another company; another country may use the name.
func TestCLIEmployerSameName(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite://" + t.TempDir() + "/names.db"}
	cli(t, vars, nil, "migrate")
	for _, cc := range []string{"gh", "ng"} {
		cli(t, vars, nil, "country", "add", "--code", cc, "--name", cc, "--host", cc+".localhost",
			"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	}
	cli(t, vars, nil, "employer", "add", "--country", "gh", "--name", "Acme Ltd")
	if msg := cliErr(t, vars, "employer", "add", "--country", "gh", "--name", "ACME LTD"); !strings.Contains(msg, "already named") {
		t.Errorf("same name: %s", msg)
	}
	cli(t, vars, nil, "employer", "add", "--country", "ng", "--name", "Acme Ltd")
	cli(t, vars, nil, "employer", "add", "--country", "gh", "--name", "Acme Ltd", "--allow-same-name")
	var emps []wire.Employer
	cli(t, vars, &emps, "employer", "list", "--country", "gh")
	if len(emps) != 2 {
		t.Errorf("%d employers in gh, want 2 (the first and the one allowed)", len(emps))
	}
}

// TestCLIReviewWords: review list names the zone of its times; a second
// disapproval says the job was already disapproved and refunded, and
// when, instead of refunding "again", and keeps the first reason.
func TestCLIReviewWords(t *testing.T) {
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": "sqlite://" + t.TempDir() + "/review.db", "USER": "rita"}
	cli(t, vars, nil, "migrate")
	cli(t, vars, nil, "country", "add", "--code", "ng", "--name", "Nigeria", "--host", "ng.localhost",
		"--currency", "NGN", "--timezone", "Africa/Lagos", "--price", "5000")
	var emp wire.Employer
	cli(t, vars, &emp, "employer", "add", "--country", "ng", "--name", "Acme")
	var key wire.IssuedKey
	cli(t, vars, &key, "key", "issue", "--employer", jsonID(emp.ID))
	cli(t, vars, nil, "wallet", "topup", "--employer", jsonID(emp.ID), "--amount", "10000")
	st, err := store.Open(ctx, vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Authenticate(ctx, atsgate.HashAPIKey(key.Key))
	if err != nil {
		t.Fatal(err)
	}
	title, desc := "Cashier", "Till work"
	j, _, err := st.CreateJob(ctx, p, atsgate.JobInput{ExternalID: "C-1", Title: &title, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	text := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, append([]string{"atsgate"}, args...), envOf(vars), &out, &errOut); err != nil {
			t.Fatalf("atsgate %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
		}
		return out.String()
	}
	if got := text("review", "list"); !strings.Contains(got, "RECEIVED (LOCAL)") || !strings.Contains(got, "Africa/Lagos") {
		t.Errorf("review list:\n%s", got)
	}
	first := text("review", "disapprove", "--job", jsonID(j.ID), "--reason", "no salary")
	if !strings.Contains(first, "its charge of 5,000.00 NGN is refunded") {
		t.Errorf("first disapproval: %s", first)
	}
	second := text("review", "disapprove", "--job", jsonID(j.ID), "--reason", "changed my mind")
	for _, want := range []string{"already disapproved on ", "(Africa/Lagos)", `(reason: "no salary")`, "refunded then", "new reason was not recorded"} {
		if !strings.Contains(second, want) {
			t.Errorf("second disapproval lacks %q: %s", want, second)
		}
	}
	var after wire.Statement
	cli(t, vars, &after, "wallet", "show", "--employer", jsonID(emp.ID))
	refunds := 0
	for _, le := range after.Entries {
		if le.Kind == "job_refund" {
			refunds++
		}
	}
	if refunds != 1 {
		t.Errorf("%d refunds after two disapprovals, want 1", refunds)
	}
}
