package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Up applies to db, in order, every migration of dialect ("postgres" or
// "sqlite") that it has not had yet; goose records what has run in its own
// table and runs each file in a transaction. The store and the tests'
// template database both migrate through it, so tests run on exactly the
// schema production gets.
//
// On PostgreSQL the whole run holds a session advisory lock: several
// serve processes starting at once in dev (or a migrate beside one) would
// otherwise all read "version 0" and all run the first migration, and all
// but one would fail. The others wait for the lock, then find nothing left
// to do.
func Up(ctx context.Context, db *sql.DB, dialect string) error {
	var gd goose.Dialect
	var opts []goose.ProviderOption
	switch dialect {
	case "postgres":
		gd = goose.DialectPostgres
		// Polled once a second for up to 10 minutes: long enough for any
		// migration another process is running, short enough to notice
		// a waiter. The lock ends with its session, so a migrator that
		// dies does not leave it behind.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case "sqlite":
		gd = goose.DialectSQLite3
	default:
		return fmt.Errorf("migrate: unknown dialect %q", dialect)
	}
	sub, err := fs.Sub(FS, dialect)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
