package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

// hostile is text an integrator or a careless operator could get into the
// database, each piece something a terminal would act on: OSC (window
// title, ended by BEL), clear screen and cursor home, the 8-bit CSI as a
// C1 rune and as a lone byte, DEL, a right-to-left override and isolate,
// a line separator, and a CR and LF that would forge a line of the table.
const hostile = "A\x1b]0;owned\x07B\x1b[2J\x1b[HC\u009b31mD\x9bE\x7fF\u202eG\u2066H\u2028I\r\nFAKE\tROW"

// terminalSafe fails the test when out holds anything a terminal acts on
// but the tabs and newlines of the layout.
func terminalSafe(t *testing.T, what, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: output is not UTF-8:\n%q", what, out)
	}
	for _, r := range out {
		if r != '\t' && r != '\n' && unsafeRune(r) {
			t.Errorf("%s: output holds %U:\n%q", what, r, out)
			return
		}
	}
	if strings.Contains(out, "\nFAKE") {
		t.Errorf("%s: a value forged a line of its own:\n%q", what, out)
	}
}

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ in, clean, kept string }{
		{"plain Ünïcödé, 求人 ✓", "plain Ünïcödé, 求人 ✓", "plain Ünïcödé, 求人 ✓"},
		{"a\tb\nc", `a\tb\nc`, "a\tb\nc"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`, `\x1b[31mred\x1b[0m`},
		{"csi\u009b1m c1 \u0085 del\x7f", `csi\u009b1m c1 \u0085 del\x7f`, `csi\u009b1m c1 \u0085 del\x7f`},
		{"lone \x9b byte \xff", `lone \x9b byte \xff`, `lone \x9b byte \xff`},
		{"gpj.exe\u202e", `gpj.exe\u202e`, `gpj.exe\u202e`},
		{"\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a", `\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a`, `\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a`},
		{"cr\rnul\x00sep\u2028", `cr\rnul\x00sep\u2028`, `cr\rnul\x00sep\u2028`},
	} {
		if got := clean(tt.in); got != tt.clean {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.clean)
		}
		if got := escape(tt.in, layout); got != tt.kept {
			t.Errorf("escape(%q, layout) = %q, want %q", tt.in, got, tt.kept)
		}
	}
}

func TestPrintError(t *testing.T) {
	var out bytes.Buffer
	printError(&out, errors.New("no job \"X\x1b[2J\u202e\" of employer 1"))
	if want := "atsgate: no job \"X\\x1b[2J\\u202e\" of employer 1\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestSafeWriterSplitRunes: a rune split across writes is put back
// together, an unsafe one is escaped whole, and a rune never completed is
// escaped byte by byte at Close.
func TestSafeWriterSplitRunes(t *testing.T) {
	var out bytes.Buffer
	w := &safeWriter{w: &out}
	in := []byte("ok ✓ \u202e \u009b\tend\n")
	for i := range in {
		if _, err := w.Write(in[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	w.Write([]byte("\xe2\x80"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "ok ✓ \\u202e \\u009b\tend\n\\xe2\\x80"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestCLIHumanOutputIsTerminalSafe puts hostile text in every field the
// CLI's tables print (a job's title and external ID, an employer's name,
// a note, an admin token's name, request bodies, the integration log's
// fields) and checks that no human output lets a control character
// through, while --json still carries the text as it is.
func TestCLIHumanOutputIsTerminalSafe(t *testing.T) {
	ctx := context.Background()
	url := dbtest.SQLiteURL(t)
	vars := map[string]string{"DATABASE_URL": url, "USER": "ops"}
	cli(t, vars, nil, "migrate")
	cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
		"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gh, err := st.Country(ctx, "gh")
	if err != nil {
		t.Fatal(err)
	}
	emp, err := st.CreateEmployer(ctx, atsgate.EmployerInput{CountryID: gh.ID, Name: "Evil " + hostile, Code: "EVIL",
		MinMonthlySpend: "10", CommitmentStart: "2020-01"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.TopUp(ctx, emp.ID, decimal.NewFromInt(500), "cli:"+hostile, "note "+hostile, ""); err != nil {
		t.Fatal(err)
	}
	plain, _, err := st.IssueKey(ctx, emp.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Authenticate(ctx, atsgate.HashAPIKey(plain))
	if err != nil {
		t.Fatal(err)
	}
	title, desc := "Title "+hostile, "<p>"+hostile+"</p>"
	// External IDs refuse control characters, not a bidi override.
	job, _, err := st.CreateJob(ctx, p, atsgate.JobInput{ExternalID: "X-\u202eexe.GPJ", Title: &title, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	// Token names refuse tabs and newlines, not escapes.
	if _, _, err := st.IssueAdminToken(ctx, "rita \x1b]0;owned\x07\u009b2J", atsgate.RoleReviewer); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendLogs(ctx, []atsgate.LogEntry{{Time: time.Now().UTC(), CountryID: gh.ID, EmployerID: emp.ID,
		KeyPrefix: atsgate.KeyPrefix(plain), Dialect: atsgate.DialectATS, Operation: "create", ExternalID: hostile,
		Status: 422, ErrorCode: "validation_failed", ClientIP: "10.0.0.1", RequestID: "r-" + hostile,
		Method: "POST", Path: "/api/ats/jobs/" + hostile, RequestBody: `{"title":"` + hostile + `"}`, ResponseBody: hostile}}); err != nil {
		t.Fatal(err)
	}

	id := jsonID(emp.ID)
	for _, tt := range []struct {
		args  []string
		shows bool // prints a hostile value, escaped
	}{
		{[]string{"review", "list"}, true},
		{[]string{"employer", "list"}, true},
		{[]string{"country", "list"}, false},
		{[]string{"wallet", "show", "--employer", id}, true},
		{[]string{"admin", "token", "list"}, true},
		{[]string{"logs", "--bodies"}, true},
		{[]string{"reconcile", "--month", "2020-01", "--employer", id}, false},
		{[]string{"review", "disapprove", "--job", jsonID(job.ID), "--reason", "no " + hostile}, false},
	} {
		name := strings.Join(tt.args[:2], " ")
		var stdout, stderr bytes.Buffer
		if err := run(ctx, append([]string{"atsgate"}, tt.args...), envOf(vars), &stdout, &stderr); err != nil {
			t.Fatalf("atsgate %s: %v\n%q", name, err, stderr.String())
		}
		terminalSafe(t, name, stdout.String())
		if tt.shows && !strings.Contains(stdout.String(), `\x1b]0;owned\x07`) {
			t.Errorf("%s: the hostile text is not shown escaped:\n%q", name, stdout.String())
		}
	}
	var out []map[string]any
	cli(t, vars, &out, "admin", "token", "list")
	if !strings.Contains(out[len(out)-1]["name"].(string), "\x1b]0;owned\x07") {
		t.Errorf("--json changed the text: %q", out[len(out)-1]["name"])
	}
}
