package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/dbtest"
)

// servingLine is serve's "atsgate serving" log line, which names the
// listeners' real addresses (tests listen on port 0).
type servingLine struct {
	Addr      string `json:"addr"`
	AdminAddr string `json:"admin_addr"`
}

// waitServing waits for the "atsgate serving" line in a JSON log.
func waitServing(t testing.TB, logs interface{ String() string }, timeout time.Duration) servingLine {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if !strings.Contains(line, `"atsgate serving"`) {
				continue
			}
			var s servingLine
			if err := json.Unmarshal([]byte(line), &s); err == nil && s.Addr != "" {
				return s
			}
		}
	}
	t.Fatalf("no \"atsgate serving\" line within %v; log:\n%s", timeout, logs.String())
	return servingLine{}
}

// waitLog waits until logs contain s.
func waitLog(t testing.TB, logs interface{ String() string }, s string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(logs.String(), s) {
			return
		}
	}
	t.Fatalf("%q not logged within %v; log:\n%s", s, timeout, logs.String())
}

var devKeyRE = regexp.MustCompile(`mjm_ng_[A-Za-z0-9_-]+`)

// devKey is the demo key serve printed on a fresh embedded database.
func devKey(t testing.TB, stdout interface{ String() string }) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if k := devKeyRE.FindString(stdout.String()); k != "" {
			return k
		}
	}
	t.Fatalf("serve printed no key:\n%s", stdout.String())
	return ""
}

// slowCreate starts a create whose chunked body trickles in over about
// a second, and returns once the server holds the request; finish sends
// the rest of the body and returns the response status.
func slowCreate(t testing.TB, addr, key, externalID string) (finish func() (int, error)) {
	t.Helper()
	body := fmt.Sprintf(`{"external_id":%q,"title":"Night Nurse","description":"Trickled in while the server stops."}`, externalID)
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/ats/jobs", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "ng.localhost"
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		res, err := client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		done <- result{status: res.StatusCode}
	}()
	if _, err := pw.Write([]byte(body[:10])); err != nil {
		t.Fatalf("start the body: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let the server accept it and enter the handler
	return func() (int, error) {
		rest := body[10:]
		for len(rest) > 0 {
			n := min(len(rest), 10)
			if _, err := pw.Write([]byte(rest[:n])); err != nil {
				return 0, fmt.Errorf("trickle the body: %w", err)
			}
			rest = rest[n:]
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
		select {
		case r := <-done:
			return r.status, r.err
		case <-time.After(10 * time.Second):
			return 0, errors.New("no response 10 s after the body ended")
		}
	}
}

// wantRefused checks that nothing accepts connections on addr any more.
func wantRefused(t testing.TB, addr string) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, time.Second); err != nil {
			break
		}
		c.Close()
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("new connection to %s after shutdown began: %v, want connection refused", addr, err)
	}
}

// TestServeDrainsOnShutdown is SIGTERM as main delivers it, through ctx:
// the listener closes at once, a request already in flight (its body still
// trickling in) completes with 201, and run returns cleanly.
func TestServeDrainsOnShutdown(t *testing.T) {
	vars := map[string]string{
		"DATABASE_URL":             dbtest.SQLiteURL(t),
		"ATSGATE_ADDR":             "127.0.0.1:0",
		"ATSGATE_ADMIN_ADDR":       "127.0.0.1:0",
		"ATSGATE_SHUTDOWN_TIMEOUT": "10s",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"atsgate", "serve"}, envOf(vars), &stdout, &stderr) }()
	srv := waitServing(t, &stderr, 20*time.Second)
	key := devKey(t, &stdout)

	finish := slowCreate(t, srv.Addr, key, "DRAIN-1")
	cancel()
	stopping := time.Now()
	waitLog(t, &stderr, "shutting down", 5*time.Second)
	wantRefused(t, srv.Addr)
	status, err := finish()
	if err != nil || status != http.StatusCreated {
		t.Errorf("in-flight create during shutdown: status %d, err %v; want 201", status, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10 s of shutdown")
	}
	t.Logf("run returned %v after shutdown began", time.Since(stopping).Round(time.Millisecond))
}

// buildBinary builds atsgate into a temporary directory.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "atsgate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is an atsgate serve process.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{} // closed when the process has exited
	exitErr        error         // cmd.Wait's result, once exited is closed
	serving        servingLine
}

// wait waits up to timeout for the process to exit and returns how it did.
func (p *process) wait(timeout time.Duration) (exited bool, err error) {
	select {
	case <-p.exited:
		return true, p.exitErr
	case <-time.After(timeout):
		return false, nil
	}
}

// startServe starts bin serve with exactly the environment vars (plus
// PATH and HOME) and waits until it listens.
func startServe(t testing.TB, bin string, vars map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	// Wait returns at most this long after the process ends, even if
	// something still holds its output pipes.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				t.Errorf("serve (pid %d) did not exit 10 s after SIGKILL", cmd.Process.Pid)
			}
		}
		if t.Failed() {
			t.Logf("serve (pid %d) stderr:\n%s", cmd.Process.Pid, tail(p.stderr.String(), 30))
		}
	})
	p.serving = waitServing(t, p.stderr, 20*time.Second)
	return p
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestSIGTERMDrainsTheProcess sends a real SIGTERM to a real atsgate
// process with a request in flight: the request completes, new
// connections are refused, and the process exits 0 soon after.
func TestSIGTERMDrainsTheProcess(t *testing.T) {
	bin := buildBinary(t)
	p := startServe(t, bin, map[string]string{
		"DATABASE_URL":             dbtest.SQLiteURL(t),
		"ATSGATE_ADDR":             "127.0.0.1:0",
		"ATSGATE_ADMIN_ADDR":       "127.0.0.1:0",
		"ATSGATE_SHUTDOWN_TIMEOUT": "10s",
	})
	key := devKey(t, p.stdout)
	finish := slowCreate(t, p.serving.Addr, key, "SIGTERM-1")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	waitLog(t, p.stderr, "shutting down", 5*time.Second)
	wantRefused(t, p.serving.Addr)
	if status, err := finish(); err != nil || status != http.StatusCreated {
		t.Errorf("in-flight create during SIGTERM: status %d, err %v; want 201", status, err)
	}
	ok, err := p.wait(15 * time.Second)
	if !ok {
		t.Fatal("atsgate still running 15 s after SIGTERM")
	}
	if err != nil {
		t.Errorf("atsgate exited with %v after SIGTERM, want status 0", err)
	}
	t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
}

// TestSlowHeadersAreCutOff: a client trickling its headers is
// disconnected once ReadHeaderTimeout passes, not when it pleases.
func TestSlowHeadersAreCutOff(t *testing.T) {
	lim := serveLimits
	lim.ReadHeaderTimeout = 300 * time.Millisecond
	srv := newHTTPServerWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), lim)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, c) // returns when the server closes
		closed <- time.Since(start)
	}()
	fmt.Fprint(c, "GET /api/ats/jobs HTTP/1.1\r\nHost: ng.localhost\r\n")
	// One header line every 100 ms, for up to 5 s: each keeps the
	// connection busy, none finishes the headers.
	for i := 0; i < 50; i++ {
		select {
		case d := <-closed:
			if d > 2*time.Second {
				t.Errorf("cut off after %v, want about %v", d, lim.ReadHeaderTimeout)
			}
			t.Logf("slow client cut off after %v (ReadHeaderTimeout %v)", d.Round(time.Millisecond), lim.ReadHeaderTimeout)
			return
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := fmt.Fprintf(c, "X-Slow-%d: drip\r\n", i); err != nil {
			t.Logf("write refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
			return
		}
	}
	t.Fatalf("a client trickling headers kept its connection for %v", time.Since(start))
}

// TestServerLimits: the production limits are set, and headers beyond
// MaxHeaderBytes are refused with 431.
func TestServerLimits(t *testing.T) {
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second || srv.WriteTimeout != 30*time.Second ||
		srv.IdleTimeout != 120*time.Second || srv.MaxHeaderBytes != 32<<10 {
		t.Errorf("server limits: read header %v, read %v, write %v, idle %v, max header bytes %d",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	for _, tc := range []struct {
		size int
		want int
	}{{16 << 10, http.StatusNoContent}, {64 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: ng.localhost\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", tc.size))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Fatalf("%d-byte header: %v", tc.size, err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%d-byte header: status %d, want %d", tc.size, res.StatusCode, tc.want)
		}
	}
}
