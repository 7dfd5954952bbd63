package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", the store's SQLite

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/migrations"
)

// schema maps each table to its column names, sorted. Types are left out
// on purpose: the dialects spell them differently (BIGINT and INTEGER,
// TIMESTAMPTZ and TEXT) for the same data.
type schema map[string][]string

// TestDialectsDefineOneSchema enforces what each SQLite migration's "keep
// the two in step" comment asks: both trees, fully applied, define the
// same tables with the same columns, so the one store runs the same
// queries on either database. goose's bookkeeping table is not part of
// the schema, nor are SQLite's internal and full-text-search tables,
// which have no PostgreSQL counterpart by name. Under CI a missing
// PostgreSQL fails this test (dbtest.PostgresURL).
func TestDialectsDefineOneSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lite := sqliteSchema(ctx, t)
	pg := postgresSchema(ctx, t)
	if len(pg["jobs"]) == 0 {
		t.Fatalf("PostgreSQL schema has no jobs table: %v", pg)
	}
	// The one exception, and it must exist: each is a column of one
	// database whose counterpart in the other is not a column.
	for table, cols := range postgresOnly {
		for _, col := range cols {
			i := sort.SearchStrings(pg[table], col)
			if i == len(pg[table]) || pg[table][i] != col {
				t.Errorf("the exception %s.%s is not in the PostgreSQL schema; remove it from postgresOnly", table, col)
				continue
			}
			pg[table] = append(pg[table][:i:i], pg[table][i+1:]...)
		}
	}
	if diff := cmp.Diff(pg, lite); diff != "" {
		t.Errorf("tables and columns differ between the migration trees (-postgres +sqlite):\n%s", diff)
	}
}

// postgresOnly are the columns only PostgreSQL has, each with its
// counterpart on SQLite. Keep it this narrow: a column the store reads or
// writes through GORM must exist in both trees.
var postgresOnly = map[string][]string{
	// jobs.search_doc (migration 10) is the stored tsvector behind the
	// public sites' search and filters, generated from the row, so no
	// store code writes it and only the site's search reads it; SQLite's
	// counterpart is the FTS5 table job_search (with its facets column),
	// which the schema reading above leaves out as a virtual table.
	"jobs": {"search_doc"},
}

// TestUpTwice: applying the migrations to an up-to-date database changes
// nothing and is no error, as every serve in dev does.
func TestUpTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSQLite(t)
	for i := 0; i < 2; i++ {
		if err := migrations.Up(ctx, db, "sqlite"); err != nil {
			t.Fatalf("Up, run %d: %v", i+1, err)
		}
	}
	if err := migrations.Up(ctx, db, "oracle"); err == nil {
		t.Error(`Up(dialect "oracle") = nil error`)
	}
}

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sqliteSchema(ctx context.Context, t *testing.T) schema {
	t.Helper()
	db := openSQLite(t)
	if err := migrations.Up(ctx, db, "sqlite"); err != nil {
		t.Fatalf("migrate SQLite: %v", err)
	}
	// pragma_table_list's type is 'table' only for ordinary tables: FTS
	// tables are 'virtual' and their storage 'shadow'.
	return readSchema(ctx, t, db, `
SELECT l.name, c.name
FROM pragma_table_list AS l, pragma_table_info(l.name) AS c
WHERE l.schema = 'main' AND l.type = 'table' AND l.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND l.name <> ?`)
}

func postgresSchema(ctx context.Context, t *testing.T) schema {
	t.Helper()
	// A database cloned from dbtest's template, which migrations.Up built.
	db, err := sql.Open("pgx", dbtest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return readSchema(ctx, t, db, `
SELECT c.table_name, c.column_name
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> $1`)
}

// readSchema runs a query of (table, column) rows that takes goose's table
// name as its one argument.
func readSchema(ctx context.Context, t *testing.T, db *sql.DB, query string) schema {
	t.Helper()
	rows, err := db.QueryContext(ctx, query, goose.DefaultTablename)
	if err != nil {
		t.Fatalf("read schema: %v", err)
	}
	defer rows.Close()
	s := schema{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatalf("read schema: %v", err)
		}
		s[table] = append(s[table], column)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema: %v", err)
	}
	for _, cols := range s {
		sort.Strings(cols)
	}
	return s
}

// TestActiveTokenNamesMadeUnique: 00004 makes active admin tokens' names
// unique. A database from before it may hold active duplicates (unnamed
// tokens took their role's name), and the migration must not fail on
// them: the oldest keeps the name, the others become name#ID, revoked
// tokens keep theirs. Run down to 00003 and up again, on both databases.
func TestActiveTokenNamesMadeUnique(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		dialect string
		gd      goose.Dialect
		open    func(t *testing.T) *sql.DB
	}{
		{"sqlite", goose.DialectSQLite3, openSQLite},
		{"postgres", goose.DialectPostgres, func(t *testing.T) *sql.DB {
			db, err := sql.Open("pgx", dbtest.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	} {
		t.Run(tt.dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := tt.open(t)
			if err := migrations.Up(ctx, db, tt.dialect); err != nil {
				t.Fatal(err)
			}
			sub, err := fs.Sub(migrations.FS, tt.dialect)
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(tt.gd, db, sub)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 3); err != nil {
				t.Fatalf("down to 00003: %v", err)
			}
			rows := []struct {
				name    string
				revoked bool
			}{{"ops", true}, {"ops", false}, {"rita", false}, {"ops", false}, {"ops", false}}
			for i, r := range rows {
				var revoked any
				if r.revoked {
					revoked = "2026-01-01 00:00:00"
				}
				q := `INSERT INTO admin_tokens (id, name, role, hash, prefix, created_at, revoked_at)
VALUES ($1, $2, 'operator', $3, 'atsadm_x', '2026-01-01 00:00:00', $4)`
				if _, err := db.ExecContext(ctx, q, i+1, r.name, fmt.Sprintf("%064d", i), revoked); err != nil {
					t.Fatalf("insert token: %v", err)
				}
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up from 00003 with duplicate names: %v", err)
			}
			got := map[int]string{}
			res, err := db.QueryContext(ctx, `SELECT id, name FROM admin_tokens ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Close()
			for res.Next() {
				var id int
				var name string
				if err := res.Scan(&id, &name); err != nil {
					t.Fatal(err)
				}
				got[id] = name
			}
			want := map[int]string{1: "ops", 2: "ops", 3: "rita", 4: "ops#4", 5: "ops#5"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("token names after 00004 (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConcurrentUpOnPostgres is several "serve" processes in dev starting
// at once on one empty PostgreSQL database: each migrates, and each must
// succeed, with the schema applied once. Without a lock they race on
// goose's own table and on the first migration's CREATE TABLEs, and all
// but one fail. A few databases are tried at once, as a race may be
// missed once.
func TestConcurrentUpOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	want := postgresSchema(ctx, t)
	files, err := fs.Glob(migrations.FS, "postgres/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no PostgreSQL migrations: %v", err)
	}
	const migrators = 3
	for d := 1; d <= 3; d++ {
		t.Run(fmt.Sprintf("database %d", d), func(t *testing.T) {
			t.Parallel()
			url := dbtest.EmptyPostgresURL(t)
			errs := make(chan error, migrators)
			start := make(chan struct{})
			for m := 0; m < migrators; m++ {
				// A pool of its own each, as separate processes have.
				db, err := sql.Open("pgx", url)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				go func() {
					<-start
					errs <- migrations.Up(ctx, db, "postgres")
				}()
			}
			close(start)
			for m := 0; m < migrators; m++ {
				if err := <-errs; err != nil {
					t.Errorf("one of %d concurrent migrations failed: %v", migrators, err)
				}
			}
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			got := readSchema(ctx, t, db, `
SELECT c.table_name, c.column_name
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> $1`)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("schema after concurrent migrations (-template +got):\n%s", diff)
			}
			var applied int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+goose.DefaultTablename+` WHERE version_id > 0`).Scan(&applied); err != nil {
				t.Fatal(err)
			}
			if applied != len(files) {
				t.Errorf("goose recorded %d applied migrations, want %d (each once)", applied, len(files))
			}
		})
	}
}
