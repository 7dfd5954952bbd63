package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultTimeout bounds each store operation when WithTimeout is not given.
const DefaultTimeout = 5 * time.Second

// WithTimeout bounds each operation a request waits on to d (see bound).
// It is also PostgreSQL's statement_timeout and SQLite's busy timeout, so
// the server and the file lock give up when the client does. Zero or less
// keeps DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// bound gives ctx the store's deadline unless it has a sooner one. Every
// operation a request waits on begins with it: a database that stops
// answering (packets dropped, a hung server, a lock held by another
// process) then costs a request at most the timeout, answered 503 by
// translate, instead of the operating system's TCP timeout of many
// minutes. Walks over unbounded data (VerifyLedger, migrations) do not
// use it; loops over batches bound each batch.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// bounded runs one step of a longer walk within the store's timeout: the
// walk as a whole may take longer, no single step may.
func (s *Store) bounded(ctx context.Context, step func(ctx context.Context) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return step(ctx)
}

// TCP settings of PostgreSQL connections. The request path is bounded by
// its context; these are for what is not: an idle pooled connection, a
// verification walk, a migration. With them a peer that vanished (a
// failed-over host, a dropped network) is noticed within about half a
// minute instead of the kernel's fifteen minutes of retransmissions or
// two hours of keepalive silence.
const (
	keepAliveIdle     = 15 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
	// userTimeout is how long sent data may stay unacknowledged before
	// the kernel drops the connection (TCP_USER_TIMEOUT, Linux only).
	userTimeout = 30 * time.Second
)

// postgresConfig parses dsn and adds what it leaves out: a connect
// timeout, TCP keepalive and user timeout, and the server-side statement
// and idle-in-transaction timeouts. Settings the DSN (or the PG*
// environment) gives explicitly are kept.
func postgresConfig(dsn string, timeout time.Duration) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		// Without one, a connect to an address that drops packets waits
		// for the kernel to give up on the SYN, about two minutes.
		cfg.ConnectTimeout = timeout
	}
	dialer := &net.Dialer{
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount},
		Control:         setUserTimeout(userTimeout),
	}
	cfg.DialFunc = dialer.DialContext
	params := map[string]time.Duration{
		// The server stops a statement the client has given up on: a
		// cancelled context closes the client's connection, but a
		// backend waiting on a lock would not notice until it is done.
		"statement_timeout": timeout,
		// A transaction whose client vanished between statements would
		// otherwise hold its row locks (a wallet's, say) until the
		// server's keepalive notices, by default hours later. atsgate's
		// transactions never wait between statements longer than their
		// own deadline; twice that leaves room for a slow moment.
		"idle_in_transaction_session_timeout": 2 * timeout,
	}
	for name, d := range params {
		if _, set := cfg.RuntimeParams[name]; !set {
			cfg.RuntimeParams[name] = strconv.FormatInt(d.Milliseconds(), 10)
		}
	}
	return cfg, nil
}

// unavailable reports whether err says the database could not be reached,
// did not answer in time, or is too busy, rather than that the request or
// atsgate is wrong: such errors are 503 with Retry-After, and the client's
// retry can succeed. The pool discards the broken connections these leave
// (pgx closes them, and database/sql drops a closed connection when it is
// next taken), so the store recovers by itself when the database returns.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// Refused, reset, unreachable, timed out: dial and read errors are
	// *net.OpError, which carry the syscall error.
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.Timeout(err) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case len(pg.Code) == 5 && pg.Code[:2] == "08": // connection exception
			return true
		case pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03": // shutting down, crashed, starting up
			return true
		case pg.Code == "53300": // too many connections
			return true
		case pg.Code == "57014": // canceled: statement_timeout, or the client's own cancel
			return true
		case pg.Code == "25P03": // idle_in_transaction_session_timeout
			return true
		}
	}
	// SQLite: the write lock stayed with another process beyond the busy
	// timeout (BUSY, or LOCKED for a shared-cache table lock), or the
	// context interrupted a statement.
	var se *gosqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqliteBusy, sqliteLocked, sqliteInterrupt:
			return true
		}
	}
	return false
}

// SQLite's primary result codes that unavailable recognises.
const (
	sqliteBusy      = 5
	sqliteLocked    = 6
	sqliteInterrupt = 9
)
