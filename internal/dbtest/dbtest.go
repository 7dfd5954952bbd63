// Package dbtest gives tests real databases: a fresh PostgreSQL database
// cloned from a migrated template (fast, and isolated per test), a fresh
// SQLite file, and the address of a real Redis.
//
// When PostgreSQL or Redis is missing a test skips loudly on a developer's
// machine and fails when CI is set, so CI can never go green by skipping.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/atsgate/atsgate/migrations"
)

// PostgresAdminURL is the server the tests create databases on.
func PostgresAdminURL() string {
	if u := os.Getenv("ATSGATE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL returns the Redis the tests use, after checking it answers.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("ATSGATE_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	pu, err := url.Parse(u)
	if err == nil {
		var c net.Conn
		c, err = net.DialTimeout("tcp", pu.Host, 2*time.Second)
		if err == nil {
			c.Close()
		}
	}
	if err != nil {
		Missing(t, "Redis", err)
	}
	return u
}

// Missing fails the test under CI and skips it, loudly, elsewhere.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI and is not reachable: %v", what, err)
	}
	fmt.Fprintf(os.Stderr, "\n!!! SKIPPING %s: %s is not reachable (%v). Start it, or set CI=true to make this a failure.\n\n", t.Name(), what, err)
	t.Skipf("%s is not reachable: %v", what, err)
}

var (
	tplOnce sync.Once
	tplName string
	tplErr  error
)

// PostgresURL creates a new database from the migrated template and
// returns its URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return createPostgres(t, true)
}

// EmptyPostgresURL creates a new database with no schema at all (not
// even goose's table), for tests of migrating itself, and returns its
// URL; the database is dropped when the test ends.
func EmptyPostgresURL(t testing.TB) string {
	t.Helper()
	return createPostgres(t, false)
}

// createPostgres creates a test database, a clone of the migrated
// template when migrated is set, and drops it when the test ends.
func createPostgres(t testing.TB, migrated bool) string {
	t.Helper()
	admin, err := sql.Open("pgx", PostgresAdminURL())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		Missing(t, "PostgreSQL", err)
	}
	defer admin.Close()
	create := "CREATE DATABASE %s"
	if migrated {
		tplOnce.Do(func() { tplName, tplErr = ensureTemplate(admin) })
		if tplErr != nil {
			t.Fatalf("prepare template database: %v", tplErr)
		}
		create += " TEMPLATE " + tplName
	}
	name := "atsgate_t_" + randomHex(6)
	ctx := context.Background()
	var lastErr error
	for i := 0; i < 20; i++ { // the template may be busy being cloned by another package
		if _, lastErr = admin.ExecContext(ctx, fmt.Sprintf(create, name)); lastErr == nil {
			break
		}
		time.Sleep(time.Duration(50+i*25) * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("create test database: %v", lastErr)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", PostgresAdminURL())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	u, _ := url.Parse(PostgresAdminURL())
	u.Path = "/" + name
	return u.String()
}

// ensureTemplate creates, once per schema version and across concurrent
// test processes, a database with every migration applied.
func ensureTemplate(admin *sql.DB) (string, error) {
	ctx := context.Background()
	name := "atsgate_tpl_" + migrationsHash()[:12]
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(724100)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(724100)`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	build := name + "_build"
	_, _ = conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, build))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, build)); err != nil {
		return "", err
	}
	u, _ := url.Parse(PostgresAdminURL())
	u.Path = "/" + build
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return "", err
	}
	err = migrations.Up(ctx, db, "postgres")
	db.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	// Renaming last makes the template appear only when complete.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, build, name)); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	var paths []string
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	for _, p := range paths {
		b, _ := fs.ReadFile(migrations.FS, p)
		h.Write([]byte(p))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SQLiteURL returns the URL of a new, empty SQLite database file in the
// test's temporary directory. The store migrates it.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "atsgate.db")
}

// Dialects lists the databases a contract test runs against.
var Dialects = []string{"postgres", "sqlite"}

// URL returns a fresh database of the named dialect.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "postgres":
		return PostgresURL(t)
	case "sqlite":
		return SQLiteURL(t)
	}
	t.Fatalf("unknown dialect %q", dialect)
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
