package web_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/ratelimit"
	"github.com/atsgate/atsgate/internal/web"
)

// TestHeaderSpelling: on the wire, the rate-limit and request-ID headers
// are spelled as the docs spell them (X-RateLimit-Limit, RateLimit-Policy,
// X-Request-ID), not in Go's canonical form, for clients that match names
// case-sensitively.
func TestHeaderSpelling(t *testing.T) {
	base := newEnv(t)
	e := base.withDeps(t, func(d *web.Deps) {
		d.Limiter = ratelimit.NewLocal(nil)
		d.RateLimit = 120
	})
	emp := e.employer(t, "gh", "Acme", "0")
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /api/ats/jobs HTTP/1.1\r\nHost: " + emp.Host + "\r\nAuthorization: Bearer " + emp.Key + "\r\nConnection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	r := bufio.NewReader(conn)
	status, _ := r.ReadString('\n')
	if !strings.Contains(status, " 200 ") {
		t.Fatalf("status line %q", status)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
		name, _, _ := strings.Cut(line, ":")
		names[name] = true
	}
	for _, want := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit", "X-Request-ID"} {
		if !names[want] {
			t.Errorf("no header spelled %q on the wire; got %v", want, names)
		}
		if c := http.CanonicalHeaderKey(want); c != want && names[c] {
			t.Errorf("header sent as %q, want %q", c, want)
		}
	}
}
