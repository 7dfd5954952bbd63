package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Up applies to db, in order, every migration of dialect ("postgres" or
// "sqlite") that it has not had yet; goose records what has run in its own
// table and runs each file in a transaction. The store and the tests'
// template database both migrate through it, so tests run on exactly the
// schema production gets.
func Up(ctx context.Context, db *sql.DB, dialect string) error {
	var gd goose.Dialect
	switch dialect {
	case "postgres":
		gd = goose.DialectPostgres
	case "sqlite":
		gd = goose.DialectSQLite3
	default:
		return fmt.Errorf("migrate: unknown dialect %q", dialect)
	}
	sub, err := fs.Sub(FS, dialect)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(gd, db, sub)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
