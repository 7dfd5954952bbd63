package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeBlock is a fenced block of README.md: a shell block, and what the
// README shows it prints (a json or text block right after it), if
// anything.
type readmeBlock struct {
	sh, lang, want string
}

// readmeWalkthrough extracts the shell blocks of README.md's "Five
// minutes with the API", each with the output block that follows it.
func readmeWalkthrough(t *testing.T) []readmeBlock {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "## Five minutes with the API")
	end := strings.Index(doc, "## The back office")
	if start < 0 || end < start {
		t.Fatal("README.md has no \"Five minutes with the API\" section before \"The back office\"")
	}
	fence := regexp.MustCompile("(?s)```(sh|json|text)\n(.*?)```")
	var blocks []readmeBlock
	for _, m := range fence.FindAllStringSubmatch(doc[start:end], -1) {
		switch lang, body := m[1], m[2]; {
		case lang == "sh":
			blocks = append(blocks, readmeBlock{sh: body})
		case len(blocks) > 0 && blocks[len(blocks)-1].lang == "":
			blocks[len(blocks)-1].lang, blocks[len(blocks)-1].want = lang, body
		default:
			t.Fatalf("README.md: a %s block follows no shell block:\n%s", lang, body)
		}
	}
	if len(blocks) < 8 {
		t.Fatalf("README.md walkthrough: %d shell blocks, want the whole walkthrough", len(blocks))
	}
	return blocks
}

// TestReadmeWalkthrough follows README.md's walkthrough literally, as a
// new user would: a fresh `make run` (the binary as ./bin/atsgate, the
// embedded database under var/), the curl line it prints, then every shell
// block of the section in order in one shell. Each block must succeed and
// print what the README shows after it: JSON compared field by field
// (dates only for being set or empty), text line by line. The test breaks
// whenever the README drifts from the product.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	blocks := readmeWalkthrough(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "atsgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// make run is "./bin/atsgate serve" from the checkout: the default
	// database, sqlite://var/atsgate.db, relative to the working directory.
	srv := exec.Command(bin, "serve")
	srv.Dir = dir
	srv.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"ATSGATE_ADDR=127.0.0.1:0", "ATSGATE_ADMIN_ADDR=127.0.0.1:0"}
	p := &process{cmd: srv, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	srv.Stdout, srv.Stderr = p.stdout, p.stderr
	srv.WaitDelay = 5 * time.Second
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exitErr = srv.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("serve stderr:\n%s", tail(p.stderr.String(), 30))
		}
	})
	p.serving = waitServing(t, p.stderr, 20*time.Second)
	key := devKey(t, p.stdout)
	curl := regexp.MustCompile(`(?s)  curl -i .*?'\n\n`).FindString(p.stdout.String())
	if curl == "" {
		t.Fatalf("make run printed no curl line:\n%s", p.stdout.String())
	}

	// The README's addresses are the defaults; this server listens on a
	// free port.
	_, port, _ := strings.Cut(p.serving.Addr, ":")
	localize := func(s string) string {
		s = strings.ReplaceAll(s, "127.0.0.1:8080", p.serving.Addr)
		return strings.ReplaceAll(s, "ng.localhost:8080", "ng.localhost:"+port)
	}
	var script strings.Builder
	script.WriteString("set -eu\ncd " + dir + "\n")
	script.WriteString(curl + "\necho\n")
	for i, b := range blocks {
		sh := localize(b.sh)
		if i == 0 {
			if !strings.Contains(sh, "KEY=mjm_ng_…") {
				t.Fatalf("the walkthrough's first block does not set KEY=mjm_ng_…:\n%s", b.sh)
			}
			sh = strings.Replace(sh, "KEY=mjm_ng_…", "KEY="+key, 1)
		}
		fmt.Fprintf(&script, "echo '@@@block %d'\n%s\necho\n", i, sh)
	}
	script.WriteString("echo '@@@end'\n")
	out, err := exec.Command("bash", "-c", script.String()).CombinedOutput()
	parts := strings.Split(string(out), "@@@block ")
	if err != nil || !strings.Contains(string(out), "@@@end") {
		t.Fatalf("the walkthrough failed at block %d (%v):\n%s\noutput of that block:\n%s",
			len(parts)-2, err, blocks[max(0, len(parts)-2)].sh, parts[len(parts)-1])
	}
	if !strings.Contains(parts[0], `"external_id":"DEMO-1"`) || !strings.Contains(parts[0], "201 Created") {
		t.Errorf("the make run curl line did not create DEMO-1:\n%s", parts[0])
	}
	for i, b := range blocks {
		got := strings.TrimPrefix(parts[i+1], fmt.Sprint(i)+"\n")
		got = strings.TrimSuffix(got, "@@@end\n")
		switch b.lang {
		case "json":
			checkReadmeJSON(t, i, b, localize(b.want), got)
		case "text":
			for _, line := range strings.Split(strings.TrimSpace(localize(b.want)), "\n") {
				if !strings.Contains(got, strings.TrimSpace(line)) {
					t.Errorf("block %d printed no line %q:\n%s\noutput:\n%s", i, line, b.sh, got)
				}
			}
		}
	}
}

// checkReadmeJSON compares the last JSON object block i printed with the
// README's: the same keys, the same values, except that dates (keys ending
// in _date) only need to be set where the README's are.
func checkReadmeJSON(t *testing.T, i int, b readmeBlock, want, got string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("README block after shell block %d is not JSON: %v\n%s", i, err, want)
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	var g map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &g); err != nil {
		t.Errorf("block %d printed no JSON object last (%v):\n%s\noutput:\n%s", i, err, b.sh, got)
		return
	}
	for k, wv := range w {
		gv, ok := g[k]
		switch {
		case !ok:
			t.Errorf("block %d: no %q in %s", i, k, lines[len(lines)-1])
		case strings.HasSuffix(k, "_date"):
			if (wv == "") != (gv == "") {
				t.Errorf("block %d: %s is %q, the README shows %q", i, k, gv, wv)
			}
		case !reflect.DeepEqual(wv, gv):
			t.Errorf("block %d: %s is %v, the README shows %v", i, k, gv, wv)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("block %d: the README does not show %q (%v)", i, k, g[k])
		}
	}
}
