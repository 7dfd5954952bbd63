package store_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

// insertEntry appends a ledger row behind the store's back, as only a bug
// or a hand-edit could: inserts are allowed, updates are not.
func insertEntry(t *testing.T, st *store.Store, employerID int64, kind string, amount, balanceAfter int64, jobID any) int64 {
	t.Helper()
	exec(t, st, `INSERT INTO ledger_entries (employer_id, kind, amount_minor, balance_after_minor, job_id, actor, note, created_at)
VALUES ($1, $2, $3, $4, $5, 'test', 'inserted by hand', $6)`, employerID, kind, amount, balanceAfter, jobID, time.Now().UTC())
	return count(t, st, `SELECT MAX(id) FROM ledger_entries`)
}

// lastBalance is the balance after the employer's last entry, in minor units.
func lastBalance(t *testing.T, st *store.Store, employerID int64) int64 {
	t.Helper()
	l := ledger(t, st, employerID)
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].BalanceAfter
}

func moveWallet(t *testing.T, st *store.Store, employerID, amount int64) {
	t.Helper()
	exec(t, st, `UPDATE wallets SET balance_minor = balance_minor + $1 WHERE employer_id = $2`, amount, employerID)
}

func rulesOf(bs []atsgate.Breach) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.Rule)
	}
	sort.Strings(out)
	return out
}

// healthyLedger gives an employer every kind of entry the store posts:
// top-up, charges, a refund, an adjustment and a minimum-spend debit.
func healthyLedger(t *testing.T, d string) (*fixture, *fixture) {
	t.Helper()
	ctx := context.Background()
	clk := newTestClock(time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC))
	st := openStore(t, d, store.WithClock(clk.Now))
	ke := kenya(t, st)
	f := committedEmployer(t, st, ke, "500", "2026-10", "300")
	other := newEmployer(t, st, ke, fixtureOpts{balance: "100"})
	f.create(t, "A")
	b := f.create(t, "B")
	other.create(t, "O-1")
	if _, err := st.Disapprove(ctx, b.ID, "admin:test", "spam"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Adjust(ctx, f.employer.ID, dec("-12.34"), "test", "bank fee", ""); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	if _, err := st.Reconcile(ctx, "2026-10", 0, "system"); err != nil {
		t.Fatal(err)
	}
	return f, other
}

// TestVerifyLedgerHealthy: a ledger built only through the store passes,
// as a whole and per employer, even with a negative balance.
func TestVerifyLedgerHealthy(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		f, other := healthyLedger(t, d)
		st := f.st
		if got := f.balance(t); !got.IsNegative() {
			t.Fatalf("balance %s: the fixture should end below zero", got)
		}
		for _, id := range []int64{0, f.employer.ID, other.employer.ID} {
			bs, err := st.VerifyLedger(context.Background(), id)
			if err != nil || len(bs) != 0 {
				t.Fatalf("VerifyLedger(%d) = %+v, %v; want no breach", id, bs, err)
			}
		}
		_, err := st.VerifyLedger(context.Background(), 999999)
		wantCode(t, err, atsgate.ENOTFOUND)
	})
}

// TestVerifyLedgerBreaches breaks a healthy ledger in one way at a time and
// expects exactly that breach, on the broken employer only.
func TestVerifyLedgerBreaches(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(t *testing.T, f *fixture)
		want    []string
	}{
		{"balance after does not chain", func(t *testing.T, f *fixture) {
			prev := lastBalance(t, f.st, f.employer.ID)
			insertEntry(t, f.st, f.employer.ID, "topup", 10000, prev+20000, nil)
			moveWallet(t, f.st, f.employer.ID, 10000)
		}, []string{atsgate.RuleBalanceChain}},
		{"wallet differs from the sum", func(t *testing.T, f *fixture) {
			prev := lastBalance(t, f.st, f.employer.ID)
			insertEntry(t, f.st, f.employer.ID, "topup", 10000, prev+10000, nil)
		}, []string{atsgate.RuleBalanceSum}},
		{"wallet moved without an entry", func(t *testing.T, f *fixture) {
			moveWallet(t, f.st, f.employer.ID, 1)
		}, []string{atsgate.RuleBalanceSum}},
		{"job charged twice", func(t *testing.T, f *fixture) {
			exec(t, f.st, `DROP INDEX ledger_one_charge`)
			if _, _, err := f.st.TopUp(context.Background(), f.employer.ID, dec("1000"), "test", "covers the charge", ""); err != nil {
				t.Fatal(err)
			}
			j, err := f.st.Job(context.Background(), f.employer.ID, "A")
			if err != nil {
				t.Fatal(err)
			}
			prev := lastBalance(t, f.st, f.employer.ID)
			insertEntry(t, f.st, f.employer.ID, "job_charge", -5000, prev-5000, j.ID)
			moveWallet(t, f.st, f.employer.ID, -5000)
		}, []string{atsgate.RuleOneCharge}},
		{"job refunded twice", func(t *testing.T, f *fixture) {
			exec(t, f.st, `DROP INDEX ledger_one_refund`)
			j, err := f.st.Job(context.Background(), f.employer.ID, "B")
			if err != nil {
				t.Fatal(err)
			}
			prev := lastBalance(t, f.st, f.employer.ID)
			insertEntry(t, f.st, f.employer.ID, "job_refund", 5000, prev+5000, j.ID)
			moveWallet(t, f.st, f.employer.ID, 5000)
		}, []string{atsgate.RuleOneRefund}},
		{"charge overdraws", func(t *testing.T, f *fixture) {
			prev := lastBalance(t, f.st, f.employer.ID)
			insertEntry(t, f.st, f.employer.ID, "job_charge", -5000, prev-5000, nil)
			moveWallet(t, f.st, f.employer.ID, -5000)
		}, []string{atsgate.RuleChargeCovered}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, d string) {
				f, other := healthyLedger(t, d)
				tc.breakIt(t, f)
				bs, err := f.st.VerifyLedger(context.Background(), 0)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, rulesOf(bs)); diff != "" {
					t.Fatalf("breaches (-want +got):\n%s\n%+v", diff, bs)
				}
				for _, b := range bs {
					if b.EmployerID != f.employer.ID || b.Message == "" {
						t.Errorf("breach names employer %d, want %d: %+v", b.EmployerID, f.employer.ID, b)
					}
				}
				if bs, err := f.st.VerifyLedger(context.Background(), f.employer.ID); err != nil || len(bs) != len(tc.want) {
					t.Fatalf("VerifyLedger(broken employer) = %+v, %v", bs, err)
				}
				if bs, err := f.st.VerifyLedger(context.Background(), other.employer.ID); err != nil || len(bs) != 0 {
					t.Fatalf("VerifyLedger(other employer) = %+v, %v; want none", bs, err)
				}
			})
		})
	}
}

// TestVerifyBesideWrites is "ledger verify" run from the CLI while the
// server takes creates: a second store on the same database verifies,
// and while it is mid-walk (its snapshot taken, half its entries still
// to read) the server's creates and top-ups all succeed within the
// store's timeout. The verification reports no breach: it read one
// snapshot, not the wallets before the writes and the entries after.
// (On SQLite it used to hold the write lock for its whole walk, so writes
// waited for it and then failed with "database is locked".)
func TestVerifyBesideWrites(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		url := dbtest.URL(t, d)
		const timeout = 2 * time.Second
		st, err := store.Open(ctx, url, store.WithTimeout(timeout))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		f := newEmployer(t, st, mustCountry(t, st, "gh", ""), fixtureOpts{balance: "10000"})
		for i := 0; i < 5; i++ {
			f.create(t, fmt.Sprintf("BEFORE-%d", i))
		}

		midWalk, release := make(chan struct{}), make(chan struct{})
		cli, err := store.Open(ctx, url, store.WithWalkHook(func(context.Context) {
			close(midWalk)
			select {
			case <-release:
			case <-time.After(20 * time.Second):
			}
		}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		type result struct {
			breaches []atsgate.Breach
			err      error
		}
		verified := make(chan result, 1)
		go func() {
			b, err := cli.VerifyLedger(ctx, 0)
			verified <- result{b, err}
		}()
		select {
		case <-midWalk:
		case r := <-verified:
			t.Fatalf("VerifyLedger returned before its walk: %v", r.err)
		case <-time.After(10 * time.Second):
			t.Fatal("VerifyLedger did not start its walk within 10 s")
		}

		var slowest time.Duration
		for i := 0; i < 20; i++ {
			start := time.Now()
			if _, _, err := st.CreateJob(ctx, f.p, jobInput(fmt.Sprintf("DURING-%d", i))); err != nil {
				t.Errorf("create %d while a verification is mid-walk: %v", i, err)
			}
			if i%5 == 0 {
				if _, _, err := st.TopUp(ctx, f.employer.ID, dec("10"), "test", "during verify", ""); err != nil {
					t.Errorf("top-up while a verification is mid-walk: %v", err)
				}
			}
			slowest = max(slowest, time.Since(start))
		}
		close(release)
		r := <-verified
		if r.err != nil || len(r.breaches) != 0 {
			t.Errorf("VerifyLedger beside writes: breaches %v, err %v; want none", r.breaches, r.err)
		}
		if slowest > timeout/2 {
			t.Errorf("the slowest write beside the verification took %v", slowest)
		}
		t.Logf("20 creates and 4 top-ups while a verification held its snapshot; slowest %v", slowest.Round(time.Millisecond))
		checkLedger(t, st, f.employer.ID)
		if b, err := st.VerifyLedger(ctx, 0); err != nil || len(b) != 0 {
			t.Errorf("VerifyLedger after: %v %v", b, err)
		}
	})
}
