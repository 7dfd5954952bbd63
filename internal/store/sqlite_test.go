package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

// TestSQLiteTransactionsTakeTheWriteLock: on the embedded database a
// transaction takes the write lock when it begins, so a second process's
// writer waits for it instead of racing it. (A deferred transaction that
// reads first and then writes fails with SQLITE_BUSY when another writer
// committed in between, which is what concurrent reconciliation runs hit.)
func TestSQLiteTransactionsTakeTheWriteLock(t *testing.T) {
	ctx := context.Background()
	url := dbtest.SQLiteURL(t)
	a, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tx, err := a.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := b.DB().ExecContext(ctx, `INSERT INTO countries (code, name, currency, time_zone, price_minor, public_url, created_at)
VALUES ('zz', 'Z', 'ZZZ', 'UTC', 1, 'http://z.test', '2026-01-01 00:00:00+00:00')`)
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("another connection wrote while a transaction was open (err %v): transactions are deferred", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the waiting writer failed after the lock was released: %v", err)
	}
}
