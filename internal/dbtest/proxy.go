package dbtest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy between the code under test and a real PostgreSQL
// or Redis, which breaks on request the ways a network and a server do,
// without touching the server the machine runs:
//
//   - Reset closes every open connection, as a server restart or a
//     firewall's reset does; new connections are forwarded again at once.
//   - Down closes every open connection and refuses new ones (connection
//     refused), as a stopped server does, until Up.
//   - Blackhole stops forwarding in both directions without closing
//     anything, as a network that drops packets does: what is sent is
//     neither answered nor refused, and new connections are accepted but
//     get no further, until Up. Then what was held is delivered, as when
//     a partition heals.
type Proxy struct {
	target string

	mu      sync.Mutex
	cond    *sync.Cond // signalled when blocked or closed change
	addr    string
	ln      net.Listener
	conns   map[net.Conn]bool
	blocked bool // black-holed
	closed  bool // the test has ended
}

// StartProxy starts a proxy to target (host:port) on a free local port;
// it is closed when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	if err := p.listen(); err != nil {
		t.Fatalf("proxy to %s: %v", target, err)
	}
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// URL is u (a postgres:// or redis:// URL) with its host replaced by the
// proxy's.
func (p *Proxy) URL(t testing.TB, u string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("proxy URL: %v", err)
	}
	pu.Host = p.Addr()
	return pu.String()
}

// Reset closes every open connection.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConns()
}

// Down closes every open connection and stops listening, so new
// connections are refused.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.closeConns()
}

// Blackhole stops forwarding, in both directions, without closing
// anything.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = true
	p.cond.Broadcast()
}

// Up ends Down (listening again on the same address) or Blackhole
// (forwarding what was held).
func (p *Proxy) Up(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	p.blocked = false
	p.cond.Broadcast()
	down := p.ln == nil
	p.mu.Unlock()
	if down {
		if err := p.listen(); err != nil {
			t.Fatalf("proxy to %s: listen again: %v", p.target, err)
		}
	}
}

func (p *Proxy) listen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.ln, p.addr = ln, ln.Addr().String()
	go p.accept(ln)
	return nil
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

// serve forwards one client connection. Held while black-holed, it dials
// the target only once forwarding resumes.
func (p *Proxy) serve(c net.Conn) {
	if !p.track(c) {
		c.Close()
		return
	}
	defer p.untrack(c)
	if !p.wait() {
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		return
	}
	if !p.track(up) {
		up.Close()
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	go func() { p.pump(up, c); done <- struct{}{} }()
	go func() { p.pump(c, up); done <- struct{}{} }()
	<-done
}

// pump copies src to dst, holding each chunk while black-holed. When src
// ends, both connections are closed (after the hold, as a FIN would be).
func (p *Proxy) pump(dst, src net.Conn) {
	defer func() { src.Close(); dst.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			p.wait()
			return
		}
	}
}

// wait blocks while the proxy is black-holed; false once it is closed.
func (p *Proxy) wait() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.blocked && !p.closed {
		p.cond.Wait()
	}
	return !p.closed
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	c.Close()
}

// closeConns closes every connection; p.mu is held.
func (p *Proxy) closeConns() {
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.cond.Broadcast()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.closeConns()
}
