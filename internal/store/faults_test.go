package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

// TestTranslateFaults: what a driver says when the database is away, slow
// or busy becomes unavailable (503, retry), not internal (500); what is
// the request's or atsgate's fault stays as it was.
func TestTranslateFaults(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), atsgate.EUNAVAILABLE},
		{"cancelled", context.Canceled, atsgate.EUNAVAILABLE},
		{"connection refused", refused, atsgate.EUNAVAILABLE},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), atsgate.EUNAVAILABLE},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), atsgate.EUNAVAILABLE},
		{"EOF", fmt.Errorf("receive message: %w", io.EOF), atsgate.EUNAVAILABLE},
		{"unexpected EOF", io.ErrUnexpectedEOF, atsgate.EUNAVAILABLE},
		{"bad connection", driver.ErrBadConn, atsgate.EUNAVAILABLE},
		{"conn closed", fmt.Errorf("begin: %w", pgconn.ErrConnClosed), atsgate.EUNAVAILABLE},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, atsgate.EUNAVAILABLE},
		{"starting up", &pgconn.PgError{Code: "57P03"}, atsgate.EUNAVAILABLE},
		{"connection failure", &pgconn.PgError{Code: "08006"}, atsgate.EUNAVAILABLE},
		{"too many connections", &pgconn.PgError{Code: "53300"}, atsgate.EUNAVAILABLE},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, atsgate.EUNAVAILABLE},
		{"idle in transaction timeout", &pgconn.PgError{Code: "25P03"}, atsgate.EUNAVAILABLE},
		{"syntax error", &pgconn.PgError{Code: "42601"}, atsgate.EINTERNAL},
		{"division by zero", &pgconn.PgError{Code: "22012"}, atsgate.EINTERNAL},
		{"anything else", errors.New("boom"), atsgate.EINTERNAL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := atsgate.ErrorCode(store.Translate(tt.err, "job X")); got != tt.want {
				t.Errorf("translate(%v) code %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// faultTimeout is the store timeout of the fault tests: short, so they
// run quickly, and long enough for a loaded machine's normal operations.
const faultTimeout = 700 * time.Millisecond

// slack is what a faulted operation may take beyond the timeout on a busy
// machine before the test calls it unbounded.
const slack = 1500 * time.Millisecond

// TestPostgresFaults puts a proxy between the store and PostgreSQL and
// breaks it: the database stopped (connections closed, new ones
// refused), connections reset under an idle pool, and the network
// black-holed (nothing answered, nothing closed). Every operation
// returns unavailable within the store's timeout, never internal and
// never a hang, and the store recovers by itself once the database is
// back: the pool drops the broken connections.
func TestPostgresFaults(t *testing.T) {
	t.Parallel()
	pg := dbtest.PostgresURL(t)
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	proxy := dbtest.StartProxy(t, u.Host)
	ctx := context.Background()
	st, err := store.Open(ctx, proxy.URL(t, pg), store.WithTimeout(faultTimeout))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	f := newEmployer(t, st, mustCountry(t, st, "gh", ""), fixtureOpts{balance: "100000"})
	hash := atsgate.HashAPIKey(f.key)

	n := 0
	ops := []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"authenticate", func(ctx context.Context) error { _, err := st.Authenticate(ctx, hash); return err }},
		{"create", func(ctx context.Context) error {
			n++
			_, _, err := st.CreateJob(ctx, f.p, jobInput(fmt.Sprintf("FAULT-%d", n)))
			return err
		}},
		{"list", func(ctx context.Context) error {
			_, err := st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{})
			return err
		}},
		{"top-up", func(ctx context.Context) error {
			_, _, err := st.TopUp(ctx, f.employer.ID, dec("1"), "test", "fault", "")
			return err
		}},
		{"ping", st.Ping},
	}
	// faulted runs every operation and wants each to fail as unavailable
	// within the timeout.
	faulted := func(t *testing.T) {
		t.Helper()
		for _, o := range ops {
			start := time.Now()
			err := o.op(ctx)
			took := time.Since(start)
			if o.name == "ping" {
				if err == nil {
					t.Errorf("%s: no error with the database away", o.name)
				}
			} else if code := atsgate.ErrorCode(err); code != atsgate.EUNAVAILABLE {
				t.Errorf("%s: code %q, want unavailable (err: %v)", o.name, code, err)
			}
			if took > faultTimeout+slack {
				t.Errorf("%s took %v with the database away; the bound is %v", o.name, took, faultTimeout)
			}
			t.Logf("%s: %v after %v", o.name, err, took.Round(time.Millisecond))
		}
	}
	// recovered wants every operation to work again, allowing each one
	// failure (unavailable) on a pooled connection that broke unseen.
	recovered := func(t *testing.T) {
		t.Helper()
		for _, o := range ops {
			err := o.op(ctx)
			if err != nil && atsgate.ErrorCode(err) == atsgate.EUNAVAILABLE {
				err = o.op(ctx)
			}
			if err != nil {
				t.Errorf("%s after recovery: %v", o.name, err)
			}
		}
		// And now at once, every time.
		for i := 0; i < 3; i++ {
			for _, o := range ops {
				if err := o.op(ctx); err != nil {
					t.Errorf("%s, %d after recovery: %v", o.name, i+1, err)
				}
			}
		}
	}

	t.Run("database down", func(t *testing.T) {
		proxy.Down()
		faulted(t)
		proxy.Up(t)
		recovered(t)
	})
	t.Run("connections reset", func(t *testing.T) {
		proxy.Reset()
		for _, o := range ops {
			if err := o.op(ctx); err != nil && atsgate.ErrorCode(err) != atsgate.EUNAVAILABLE {
				t.Errorf("%s on a reset connection: %v, want success or unavailable", o.name, err)
			}
		}
		recovered(t)
	})
	t.Run("network black-holed", func(t *testing.T) {
		proxy.Blackhole()
		faulted(t)
		proxy.Up(t)
		recovered(t)
	})
	checkLedger(t, st, f.employer.ID)
	breaches, err := st.VerifyLedger(ctx, 0)
	if err != nil || len(breaches) != 0 {
		t.Errorf("VerifyLedger: %v %v", breaches, err)
	}
}

// TestSQLiteLockedIsUnavailable: another process holding the embedded
// database's write lock beyond the busy timeout (the store's timeout)
// makes a write unavailable, a 503 to retry, not an internal error; and
// the write waits no longer than that.
func TestSQLiteLockedIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.SQLiteURL(t)
	other, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, url, store.WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newEmployer(t, st, mustCountry(t, st, "gh", ""), fixtureOpts{balance: "1000"})

	tx, err := other.DB().BeginTx(ctx, nil) // an immediate transaction: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	start := time.Now()
	_, _, err = st.CreateJob(context.Background(), f.p, jobInput("LOCKED-1"))
	took := time.Since(start)
	wantCode(t, err, atsgate.EUNAVAILABLE)
	if took > 300*time.Millisecond+slack {
		t.Errorf("the create waited %v for the lock; the timeout is 300ms", took)
	}
	t.Logf("create with the write lock held elsewhere: %v after %v", err, took.Round(time.Millisecond))
	// Reads are not held up by the lock.
	if _, err := st.ListJobs(ctx, f.employer.ID, atsgate.JobFilter{}); err != nil {
		t.Errorf("ListJobs with the write lock held elsewhere: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	f.create(t, "LOCKED-1")
	checkLedger(t, st, f.employer.ID)
}

// TestPostgresSessionTimeouts: the store's sessions carry the server-side
// timeouts, so PostgreSQL itself ends a statement, or an idle transaction,
// that its client has given up on; a DSN that sets one keeps its own.
func TestPostgresSessionTimeouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := dbtest.PostgresURL(t)
	show := func(st *store.Store, name string) string {
		t.Helper()
		var v string
		if err := st.DB().QueryRowContext(ctx, "SHOW "+name).Scan(&v); err != nil {
			t.Fatalf("SHOW %s: %v", name, err)
		}
		return v
	}
	st, err := store.Open(ctx, pg, store.WithTimeout(700*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := show(st, "statement_timeout"); got != "700ms" {
		t.Errorf("statement_timeout = %q, want 700ms", got)
	}
	if got := show(st, "idle_in_transaction_session_timeout"); got != "1400ms" {
		t.Errorf("idle_in_transaction_session_timeout = %q, want 1400ms", got)
	}
	// Without a client deadline, the server still stops the statement.
	start := time.Now()
	_, err = st.DB().ExecContext(ctx, "SELECT pg_sleep(10)")
	if took := time.Since(start); err == nil || took > 700*time.Millisecond+slack {
		t.Errorf("pg_sleep(10): %v after %v, want the statement timeout", err, took)
	}
	wantCode(t, store.Translate(err, "sleep"), atsgate.EUNAVAILABLE)

	own, err := store.Open(ctx, pg+"&statement_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if got := show(own, "statement_timeout"); got != "0" {
		t.Errorf("statement_timeout with the DSN's own 0 = %q", got)
	}
}
