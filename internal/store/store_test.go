package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

// forEachDialect runs fn as a parallel subtest against every database the
// store supports: the contract suite.
//
// Contract tests call t.Parallel themselves: they hold one connection at a
// time. The concurrency tests do not, so they run one after another before
// the parallel ones, and their PostgreSQL pools (up to 25 connections each)
// never pile up against the server's max_connections.
func forEachDialect(t *testing.T, fn func(t *testing.T, d string)) {
	t.Helper()
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

// testTimeout is the store timeout of the contract tests. They check what
// is stored under concurrency, not how fast: a hundred creates queued on
// one wallet, on a loaded test machine under the race detector, can take
// longer than the production default, and would then fail as unavailable.
// The fault tests set short timeouts of their own.
const testTimeout = time.Minute

// openStore opens and migrates a fresh database of dialect d.
func openStore(t *testing.T, d string, opts ...store.Option) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbtest.URL(t, d), append([]store.Option{store.WithTimeout(testTimeout)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if got := st.Dialect(); got != d {
		t.Fatalf("Dialect() = %q, want %q", got, d)
	}
	return st
}

// testClock is a settable clock, safe for concurrent use.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.Set(t)
	return c
}

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

var seq atomic.Int64

// uniq returns a suffix unique within the test binary.
func uniq() int64 { return seq.Add(1) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// mustCountry creates a country with code cc (price 50 unless given).
func mustCountry(t *testing.T, st *store.Store, cc string, price string) *atsgate.Country {
	t.Helper()
	if price == "" {
		price = "50"
	}
	c, err := st.CreateCountry(context.Background(), atsgate.Country{
		Code: cc, Name: "Country " + cc, Hosts: []string{cc + ".localhost"}, Currency: "GHS",
		TimeZone: "Africa/Accra", Price: dec(price), PublicURL: "http://" + cc + ".localhost:8080",
	})
	if err != nil {
		t.Fatalf("CreateCountry(%s): %v", cc, err)
	}
	return c
}

// fixture is one country with one employer that has a key and money.
type fixture struct {
	st       *store.Store
	country  *atsgate.Country
	employer *atsgate.Employer
	p        *atsgate.Principal
	key      string
}

type fixtureOpts struct {
	price       string // employer override
	autoPublish bool
	balance     string // initial top-up; "" for none
}

// newEmployer creates an employer in c with an active key and returns the
// principal Authenticate gives for it.
func newEmployer(t *testing.T, st *store.Store, c *atsgate.Country, o fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	e, err := st.CreateEmployer(ctx, atsgate.EmployerInput{
		CountryID: c.ID, Name: fmt.Sprintf("Employer %d", uniq()), Price: o.price, AutoPublish: o.autoPublish,
	})
	if err != nil {
		t.Fatalf("CreateEmployer: %v", err)
	}
	plain, _, err := st.IssueKey(ctx, e.ID, false)
	if err != nil {
		t.Fatalf("IssueKey: %v", err)
	}
	p, err := st.Authenticate(ctx, atsgate.HashAPIKey(plain))
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if o.balance != "" {
		if _, _, err := st.TopUp(ctx, e.ID, dec(o.balance), "test", "initial", ""); err != nil {
			t.Fatalf("TopUp: %v", err)
		}
	}
	return &fixture{st: st, country: c, employer: e, p: p, key: plain}
}

// setup is a fresh store with country "gh" (price 50) and one employer.
func setup(t *testing.T, d string, o fixtureOpts, opts ...store.Option) *fixture {
	t.Helper()
	st := openStore(t, d, opts...)
	return newEmployer(t, st, mustCountry(t, st, "gh", ""), o)
}

func ptr[T any](v T) *T { return &v }

// jobInput is a valid create for externalID.
func jobInput(externalID string) atsgate.JobInput {
	return atsgate.JobInput{
		ExternalID:  externalID,
		Title:       ptr("Senior Go Engineer"),
		Description: ptr("<p>Build things.</p>"),
	}
}

func (f *fixture) create(t *testing.T, externalID string) *atsgate.Job {
	t.Helper()
	j, created, err := f.st.CreateJob(context.Background(), f.p, jobInput(externalID))
	if err != nil {
		t.Fatalf("CreateJob(%s): %v", externalID, err)
	}
	if !created {
		t.Fatalf("CreateJob(%s): created = false, want true", externalID)
	}
	return j
}

func (f *fixture) balance(t *testing.T) decimal.Decimal {
	t.Helper()
	return balanceOf(t, f.st, f.employer.ID)
}

func balanceOf(t *testing.T, st *store.Store, employerID int64) decimal.Decimal {
	t.Helper()
	b, err := st.Balances(context.Background(), []int64{employerID})
	if err != nil {
		t.Fatalf("Balances: %v", err)
	}
	return b[employerID].Amount
}

// wantCode fails unless err carries the code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := atsgate.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// fieldsOf returns the field names of a validation error.
func fieldsOf(err error) map[string]bool {
	out := map[string]bool{}
	var e *atsgate.Error
	if errors.As(err, &e) {
		for k := range e.Fields {
			out[k] = true
		}
	}
	return out
}

// entry is a ledger row as read back with raw SQL.
type entry struct {
	ID           int64
	Kind         string
	Amount       int64
	BalanceAfter int64
	JobID        *int64
}

func ledger(t *testing.T, st *store.Store, employerID int64) []entry {
	t.Helper()
	q := `SELECT id, kind, amount_minor, balance_after_minor, job_id FROM ledger_entries WHERE employer_id = $1 ORDER BY id`
	if st.Dialect() == store.SQLite {
		q = `SELECT id, kind, amount_minor, balance_after_minor, job_id FROM ledger_entries WHERE employer_id = ? ORDER BY id`
	}
	rows, err := st.DB().QueryContext(context.Background(), q, employerID)
	if err != nil {
		t.Fatalf("read ledger: %v", err)
	}
	defer rows.Close()
	var out []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.ID, &e.Kind, &e.Amount, &e.BalanceAfter, &e.JobID); err != nil {
			t.Fatalf("scan ledger: %v", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read ledger: %v", err)
	}
	return out
}

// rebind turns $n placeholders into ? for SQLite.
func rebind(st *store.Store, q string) string {
	if st.Dialect() != store.SQLite {
		return q
	}
	out := []byte{}
	for i := 0; i < len(q); i++ {
		if q[i] == '$' {
			out = append(out, '?')
			for i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
				i++
			}
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

func count(t *testing.T, st *store.Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.DB().QueryRowContext(context.Background(), rebind(st, q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func exec(t *testing.T, st *store.Store, q string, args ...any) {
	t.Helper()
	if _, err := st.DB().ExecContext(context.Background(), rebind(st, q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// statementEntries reads every entry of a statement period through
// EachStatementEntry, as the CSV export does.
func statementEntries(t *testing.T, st *store.Store, employerID int64, from, to time.Time) []atsgate.LedgerEntry {
	t.Helper()
	var out []atsgate.LedgerEntry
	if err := st.EachStatementEntry(context.Background(), employerID, from, to, 0, func(e *atsgate.LedgerEntry) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatalf("EachStatementEntry: %v", err)
	}
	return out
}

// checkLedger verifies the wallet invariants of one employer with raw SQL:
// the balance is the sum of the entries, each balance_after chains from the
// previous one starting at zero, no job is charged or refunded twice, and no
// charge left the balance negative.
func checkLedger(t *testing.T, st *store.Store, employerID int64) {
	t.Helper()
	var wallet int64
	if err := st.DB().QueryRowContext(context.Background(),
		rebind(st, `SELECT balance_minor FROM wallets WHERE employer_id = $1`), employerID).Scan(&wallet); err != nil {
		t.Fatalf("read wallet: %v", err)
	}
	entries := ledger(t, st, employerID)
	var running int64
	charges := map[int64]int{}
	refunds := map[int64]int{}
	for _, e := range entries {
		running += e.Amount
		if e.BalanceAfter != running {
			t.Errorf("entry %d (%s %d): balance_after = %d, want %d", e.ID, e.Kind, e.Amount, e.BalanceAfter, running)
			running = e.BalanceAfter // report each break once
		}
		switch e.Kind {
		case string(atsgate.EntryJobCharge):
			if e.JobID == nil {
				t.Errorf("charge %d has no job", e.ID)
			} else {
				charges[*e.JobID]++
			}
			if e.Amount > 0 {
				t.Errorf("charge %d has a positive amount %d", e.ID, e.Amount)
			}
			if e.BalanceAfter < 0 {
				t.Errorf("charge %d left the balance negative: %d", e.ID, e.BalanceAfter)
			}
		case string(atsgate.EntryJobRefund):
			if e.JobID == nil {
				t.Errorf("refund %d has no job", e.ID)
			} else {
				refunds[*e.JobID]++
			}
		}
	}
	var sum int64
	for _, e := range entries {
		sum += e.Amount
	}
	if wallet != sum {
		t.Errorf("wallet balance = %d minor, sum of %d entries = %d", wallet, len(entries), sum)
	}
	for job, n := range charges {
		if n > 1 {
			t.Errorf("job %d charged %d times", job, n)
		}
	}
	for job, n := range refunds {
		if n > 1 {
			t.Errorf("job %d refunded %d times", job, n)
		}
		if charges[job] == 0 {
			t.Errorf("job %d refunded but never charged", job)
		}
	}
}
