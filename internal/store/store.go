// Package store keeps atsgate's data in PostgreSQL (production) or SQLite
// (the embedded single-machine default) through GORM. Both databases run
// the same code and the same contract tests; where their SQL differs the
// difference is local to one helper.
//
// Money is held as integer minor units and moved by conditional updates in
// explicit transactions; unique constraints, not lookups, carry idempotency.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/migrations"
)

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Store is the GORM-backed implementation of the domain interfaces.
type Store struct {
	// db takes writes and transactions. rdb takes plain reads: on
	// PostgreSQL it is the same pool; on SQLite it is a pool of its own,
	// so reads never queue behind the one writer connection.
	db, rdb *gorm.DB
	dialect string
	now     atsgate.Clock
	timeout time.Duration         // see bound
	pg      *pgx.ConnConfig       // PostgreSQL's connection settings, for Migrate
	onWalk  func(context.Context) // test hook: VerifyLedger calls it mid-walk

	locations sync.Map     // time zone name → *time.Location
	hosts     hostTable    // every host's country; see CountryByHost
	known     knownJobs    // jobs this process has seen stored; see createJob
	counts    searchCounts // public searches' last counts of matches; see Postings

	rareMatches int    // see WithRareMatches
	sealer      Sealer // see WithSealer
	maxConns    int    // see WithMaxConns

	authChange func(context.Context) // see OnAuthChange
}

// OnAuthChange sets what the store calls after a change to what
// authentication answers has committed, before the change's method
// returns: API keys issued, rotated or disabled (and, as they come, ERP
// source keys, employers and countries a principal carries). serve and the
// CLI bump the shared authentication generation in Redis there, which
// makes every instance's authentication cache (web's AuthCache) ask the
// database again on its next request. fn reports its own failures; the
// caches' TTL bounds what a failed bump leaves stale. Set it before use.
func (s *Store) OnAuthChange(fn func(context.Context)) { s.authChange = fn }

// authChanged announces a committed change to authentication; every
// writer of keys (and of anything else a principal carries) calls it.
func (s *Store) authChanged(ctx context.Context) {
	if s.authChange != nil {
		s.authChange(context.WithoutCancel(ctx))
	}
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read time from now instead of time.Now.
func WithClock(now atsgate.Clock) Option { return func(s *Store) { s.now = now } }

// DefaultMaxConns is the PostgreSQL pool's size when WithMaxConns is not
// given (ATSGATE_DB_MAX_CONNS's default): see docs/operations.md for how it
// was chosen.
const DefaultMaxConns = 20

// WithMaxConns sizes the PostgreSQL connection pool (readers and writers
// share it); n < 1 keeps DefaultMaxConns. SQLite ignores it.
func WithMaxConns(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxConns = n
		}
	}
}

// readers is the size of SQLite's read pool: WAL lets any number of
// readers run beside the writer, each on its own connection; a few are
// plenty for a machine's cores.
const readers = 4

// Open connects to databaseURL: "postgres://…" (or "postgresql://…") or
// "sqlite://PATH". It does not migrate.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, timeout: DefaultTimeout, maxConns: DefaultMaxConns}
	for _, o := range opts {
		o(s)
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true, // transactions are explicit
		// Select the struct's columns by name, never *: PostgreSQL's jobs
		// has a search document (migration 10) no struct reads.
		QueryFields: true,
		NowFunc:     func() time.Time { return s.now().UTC() },
	}
	var dialector, reader gorm.Dialector
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		s.dialect = Postgres
		pg, err := postgresConfig(databaseURL, s.timeout)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		s.pg = pg
		dialector = postgres.New(postgres.Config{Conn: stdlib.OpenDB(*pg.Copy())})
	case strings.HasPrefix(databaseURL, "sqlite://"):
		s.dialect = SQLite
		path := strings.TrimPrefix(databaseURL, "sqlite://")
		if path == "" {
			return nil, fmt.Errorf("open database: sqlite:// needs a file path")
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open database: %w", err)
			}
		}
		// WAL lets readers run beside the writer; immediate transactions take
		// the write lock up front so concurrent writers queue instead of
		// failing to upgrade a read lock. The busy timeout is the store's
		// timeout: a write that waits longer for another process's lock
		// fails as unavailable (503), as the request's deadline would.
		//
		// No _time_format here: the driver stops reading options after it
		// (go-sqlite 1.21), which silently dropped _txlock; its default
		// format is the same "2006-01-02 15:04:05.999999999-07:00".
		busy := fmt.Sprintf("_pragma=busy_timeout(%d)", s.timeout.Milliseconds())
		dialector = sqlite.Open("file:" + path + "?" + busy +
			"&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		// The readers cannot write (query_only), and their transactions
		// are deferred: a read transaction takes no lock, and sees one
		// snapshot from its first read to its end.
		reader = sqlite.Open("file:" + path + "?" + busy + "&_pragma=foreign_keys(1)&_pragma=query_only(1)")
	default:
		return nil, fmt.Errorf("open database: DATABASE_URL must start with postgres:// or sqlite://")
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if s.dialect == SQLite {
		// One writer connection: SQLite has one writer anyway, and this
		// makes write transactions queue here, in turn and within their
		// deadline, rather than poll the file lock.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(s.maxConns)
		sqlDB.SetMaxIdleConns(s.maxConns)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pctx, cancel := s.bound(ctx)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	s.db, s.rdb = db, db
	if reader != nil {
		// Opened after the writer's first connection, which has put the
		// file in WAL mode.
		rdb, err := gorm.Open(reader, cfg)
		if err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		rsql, err := rdb.DB()
		if err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("open database: %w", err)
		}
		rsql.SetMaxOpenConns(readers)
		rsql.SetMaxIdleConns(readers)
		s.rdb = rdb
	}
	return s, nil
}

// Dialect is Postgres or SQLite.
func (s *Store) Dialect() string { return s.dialect }

// DB is the underlying connection pool (on SQLite, the writer's), for
// health checks and pool metrics.
func (s *Store) DB() *sql.DB {
	db, _ := s.db.DB()
	return db
}

// pgxRead runs fn on a connection of the pool as the bare pgx connection
// under database/sql (PostgreSQL only, where readers and writers share one
// pool): for the few hottest statements, which skip GORM and
// database/sql's scanning but share the pool, its size and its settings.
// pgx prepares each statement once per connection and reuses it.
func (s *Store) pgxRead(ctx context.Context, fn func(*pgx.Conn) error) error {
	db, err := s.rdb.DB()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: pgxRead on a %T connection", dc)
		}
		return fn(c.Conn())
	})
}

// pgxRows runs a query through pgx itself (see pgxRead) and reads each
// row into a new T, where scan says each column goes; size is the rows
// expected, for the slice's first allocation (0 if unknown).
func pgxRows[T any](ctx context.Context, s *Store, size int, query string, args []any, scan func(*T) []any) ([]T, error) {
	out := make([]T, 0, size)
	err := s.pgxRead(ctx, func(c *pgx.Conn) error {
		res, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer res.Close()
		for res.Next() {
			out = append(out, *new(T))
			if err := res.Scan(scan(&out[len(out)-1])...); err != nil {
				return err
			}
		}
		return res.Err()
	})
	return out, err
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.DB().PingContext(ctx)
}

// Close releases the connections.
func (s *Store) Close() error {
	if s.rdb != s.db {
		if r, err := s.rdb.DB(); err == nil {
			r.Close()
		}
	}
	return s.DB().Close()
}

// Migrate applies every pending migration of the store's dialect. It is
// not bounded by the store's timeout: a migration takes what it takes.
// On PostgreSQL it runs on a connection of its own without the statement
// timeout, which would cut a long index build short.
func (s *Store) Migrate(ctx context.Context) error {
	if s.dialect != Postgres {
		return migrations.Up(ctx, s.DB(), s.dialect)
	}
	cfg := s.pg.Copy()
	cfg.RuntimeParams["statement_timeout"] = "0"
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "0"
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	return migrations.Up(ctx, db, s.dialect)
}

// Empty reports whether the database has no country yet (a fresh install).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	if err := s.rdb.WithContext(ctx).Table("countries").Count(&n).Error; err != nil {
		return false, translate(err, "count countries")
	}
	return n == 0, nil
}

// transact runs fn in a transaction, retrying a few times when PostgreSQL
// reports a serialization failure or deadlock. The attempts together are
// bounded by the store's timeout (bound).
func (s *Store) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = s.db.WithContext(ctx).Transaction(fn)
		if !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// badText reports PostgreSQL's refusal of NUL bytes or invalid UTF-8.
func badText(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "22021" || pg.Code == "22P05")
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// forUpdate locks the selected rows until the transaction ends. SQLite has
// no row locks and needs none: its transactions already run one at a time.
func (s *Store) forUpdate(tx *gorm.DB) *gorm.DB {
	if s.dialect == Postgres {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// translate turns driver errors into domain errors; what stays unexplained
// becomes an internal error wrapped with what was being done.
func translate(err error, what string) error {
	var e *atsgate.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return atsgate.Errorf(atsgate.ENOTFOUND, "%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return &atsgate.Error{Code: atsgate.ECONFLICT, Message: what + " already exists", Err: err}
	case badText(err):
		// A safety net: validation should have refused such text already.
		return &atsgate.Error{Code: atsgate.EINVALID, Message: "a text field holds characters that cannot be stored",
			Fields: map[string]string{"body": "contains NUL or invalid UTF-8 characters"}, Err: err}
	case errors.Is(err, context.Canceled):
		return &atsgate.Error{Code: atsgate.EUNAVAILABLE, Message: "the request was cancelled", Err: err}
	case unavailable(err):
		return &atsgate.Error{Code: atsgate.EUNAVAILABLE, Message: "the database is unavailable; retry shortly",
			Err: fmt.Errorf("%s: %w", what, err)}
	default:
		return atsgate.Internal(fmt.Errorf("%s: %w", what, err))
	}
}

// Money is stored as integer minor units.
func toMinor(d decimal.Decimal) int64 { return d.Shift(atsgate.MoneyScale).IntPart() }

func fromMinor(m int64) decimal.Decimal { return decimal.New(m, -atsgate.MoneyScale) }

func nullFromMinor(m *int64) decimal.NullDecimal {
	if m == nil {
		return decimal.NullDecimal{}
	}
	return decimal.NewNullDecimal(fromMinor(*m))
}

func nullToMinor(d decimal.NullDecimal) *int64 {
	if !d.Valid {
		return nil
	}
	m := toMinor(d.Decimal)
	return &m
}

func (s *Store) location(name string) *time.Location {
	if loc, ok := s.locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	s.locations.Store(name, loc)
	return loc
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
