package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
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

// TestSQLiteReadsBesideTheWriter: on the embedded database reads have
// connections of their own, so a write transaction in progress (here
// held open on the store's one writer connection) does not hold them up.
// They used to share that one connection, and waited for it.
func TestSQLiteReadsBesideTheWriter(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite", fixtureOpts{balance: "1000"})
	f.create(t, "R-1")
	ctx := context.Background()
	tx, err := f.st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// The writer's transaction has written, uncommitted: readers must
	// see the last committed state, without waiting.
	if _, err := tx.ExecContext(ctx, `UPDATE wallets SET balance_minor = 0 WHERE employer_id = ?`, f.employer.ID); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := f.st.Authenticate(rctx, atsgate.HashAPIKey(f.key)); err != nil {
		t.Errorf("Authenticate beside a write transaction: %v", err)
	}
	if _, err := f.st.Job(rctx, f.employer.ID, "R-1"); err != nil {
		t.Errorf("Job beside a write transaction: %v", err)
	}
	if page, err := f.st.ListJobs(rctx, f.employer.ID, atsgate.JobFilter{}); err != nil || len(page.Jobs) != 1 {
		t.Errorf("ListJobs beside a write transaction: %v, %v", page, err)
	}
	if b, err := f.st.Balances(rctx, []int64{f.employer.ID}); err != nil || !b[f.employer.ID].Amount.Equal(dec("950")) {
		t.Errorf("Balances beside a write transaction: %v, %v; want the committed 950", b, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("four reads beside a write transaction took %v", took)
	}
}
