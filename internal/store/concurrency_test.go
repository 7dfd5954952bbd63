package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// result is what one concurrent call returned.
type result struct {
	i       int
	job     *atsgate.Job
	created bool
	err     error
}

// race runs n calls of fn at once (released together by a gate) and
// returns their results in call order.
func race(t *testing.T, n int, fn func(ctx context.Context, i int) result) []result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	gate := make(chan struct{})
	out := make(chan result, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			r := fn(ctx, i)
			r.i = i
			out <- r
		}()
	}
	close(gate)
	wg.Wait()
	close(out)
	results := make([]result, n)
	for r := range out {
		results[r.i] = r
	}
	return results
}

func TestConcurrentIdenticalCreates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{balance: "1000", price: "7.25"})
		const n = 100
		results := race(t, n, func(ctx context.Context, i int) result {
			j, created, err := f.st.CreateJob(ctx, f.p, jobInput("SAME-1"))
			return result{job: j, created: created, err: err}
		})
		var createdCount int
		ids := map[int64]int{}
		for _, r := range results {
			if r.err != nil {
				t.Errorf("call %d: %v", r.i, r.err)
				continue
			}
			if r.created {
				createdCount++
			}
			ids[r.job.ID]++
		}
		if createdCount != 1 {
			t.Errorf("created=true %d times, want exactly 1", createdCount)
		}
		if len(ids) != 1 {
			t.Errorf("calls returned %d different job IDs: %v", len(ids), ids)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM jobs WHERE employer_id = $1`, f.employer.ID); got != 1 {
			t.Errorf("jobs = %d, want 1", got)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM ledger_entries WHERE employer_id = $1 AND kind = 'job_charge'`, f.employer.ID); got != 1 {
			t.Errorf("job_charge entries = %d, want 1", got)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM job_events`); got != 1 {
			t.Errorf("job events = %d, want 1", got)
		}
		if b := f.balance(t); !b.Equal(dec("992.75")) {
			t.Errorf("balance = %s, want 992.75 (one charge of 7.25)", b)
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestConcurrentCreatesDrainWallet(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		const (
			n      = 200
			afford = 37
		)
		price := dec("13.37")
		f := setup(t, d, fixtureOpts{price: price.String(), balance: price.Mul(decimal.NewFromInt(afford)).String()})
		// A second employer of the same country drains its own wallet at
		// the same time: wallets must not leak into each other.
		g := newEmployer(t, f.st, f.country, fixtureOpts{price: "1", balance: "10"})
		results := race(t, n, func(ctx context.Context, i int) result {
			fx := f
			if i%10 == 9 {
				fx = g
			}
			j, created, err := fx.st.CreateJob(ctx, fx.p, jobInput(fmt.Sprintf("DRAIN-%03d", i)))
			return result{job: j, created: created, err: err}
		})
		var ok, refused, okG, refusedG int
		for _, r := range results {
			mine := r.i%10 != 9
			switch code := atsgate.ErrorCode(r.err); {
			case code == "" && r.created:
				if mine {
					ok++
				} else {
					okG++
				}
			case code == atsgate.EFUNDS:
				if mine {
					refused++
				} else {
					refusedG++
				}
			default:
				t.Errorf("call %d: created %v, err %v", r.i, r.created, r.err)
			}
		}
		if ok != afford || refused != n-n/10-afford {
			t.Errorf("employer 1: %d created, %d refused; want %d and %d", ok, refused, afford, n-n/10-afford)
		}
		if okG != 10 || refusedG != n/10-10 {
			t.Errorf("employer 2: %d created, %d refused; want 10 and %d", okG, refusedG, n/10-10)
		}
		for _, fx := range []*fixture{f, g} {
			if b := fx.balance(t); !b.IsZero() {
				t.Errorf("employer %d: balance = %s, want 0", fx.employer.ID, b)
			}
			checkLedger(t, fx.st, fx.employer.ID)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM jobs WHERE employer_id = $1`, f.employer.ID); got != afford {
			t.Errorf("jobs = %d, want %d", got, afford)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM ledger_entries WHERE employer_id = $1 AND kind = 'job_charge'`, f.employer.ID); got != afford {
			t.Errorf("charges = %d, want %d", got, afford)
		}
		// Every refused external_id left nothing behind.
		for _, r := range results {
			if r.err != nil && r.i%10 != 9 {
				if _, err := f.st.Job(context.Background(), f.employer.ID, fmt.Sprintf("DRAIN-%03d", r.i)); atsgate.ErrorCode(err) != atsgate.ENOTFOUND {
					t.Errorf("refused DRAIN-%03d: Job err = %v, want not_found", r.i, err)
				}
			}
		}
	})
}

func TestConcurrentDisapprove(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{balance: "100", price: "45.5"})
		j := f.create(t, "DIS-RACE")
		other := f.create(t, "DIS-OTHER")
		const n = 20
		results := race(t, n, func(ctx context.Context, i int) result {
			got, err := f.st.Disapprove(ctx, j.ID, fmt.Sprintf("admin:r%d", i), fmt.Sprintf("reason %d", i))
			return result{job: got, err: err}
		})
		reasons := map[string]bool{}
		for _, r := range results {
			if r.err != nil {
				t.Errorf("call %d: %v", r.i, r.err)
				continue
			}
			if r.job.ID != j.ID || r.job.State != atsgate.StateDisapproved {
				t.Errorf("call %d returned job %d in state %s", r.i, r.job.ID, r.job.State)
			}
			reasons[r.job.DisapprovalReason] = true
		}
		if len(reasons) != 1 {
			t.Errorf("calls saw %d different reasons, want the one that won: %v", len(reasons), reasons)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM ledger_entries WHERE kind = 'job_refund'`); got != 1 {
			t.Errorf("refunds = %d, want 1", got)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM job_events WHERE job_id = $1 AND to_state = 'disapproved'`, j.ID); got != 1 {
			t.Errorf("disapproval events = %d, want 1", got)
		}
		if b := f.balance(t); !b.Equal(dec("54.5")) {
			t.Errorf("balance = %s, want 54.5 (one refund of 45.5)", b)
		}
		if o, _ := f.st.JobByID(context.Background(), other.ID); o.State != atsgate.StatePending {
			t.Errorf("the other job is %s, want pending_review", o.State)
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestConcurrentApproveAndDisapprove(t *testing.T) {
	// Reviewers racing to approve and disapprove the same jobs: each job
	// ends in exactly one state, refunded once if and only if disapproved.
	forEachDialect(t, func(t *testing.T, d string) {
		const jobs = 10
		f := setup(t, d, fixtureOpts{balance: "100", price: "3"})
		var ids []int64
		for i := 0; i < jobs; i++ {
			ids = append(ids, f.create(t, fmt.Sprintf("AD-%d", i)).ID)
		}
		results := race(t, jobs*6, func(ctx context.Context, i int) result {
			id := ids[i%jobs]
			if i/jobs%2 == 0 {
				j, err := f.st.Approve(ctx, id, "admin:a")
				return result{job: j, err: err}
			}
			j, err := f.st.Disapprove(ctx, id, "admin:d", "no")
			return result{job: j, err: err}
		})
		for _, r := range results {
			if code := atsgate.ErrorCode(r.err); code != "" && code != atsgate.ECONFLICT {
				t.Errorf("call %d: %v", r.i, r.err)
			}
		}
		var disapproved int
		for _, id := range ids {
			j, err := f.st.JobByID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			refunds := count(t, f.st, `SELECT COUNT(*) FROM ledger_entries WHERE job_id = $1 AND kind = 'job_refund'`, id)
			transitions := count(t, f.st, `SELECT COUNT(*) FROM job_events WHERE job_id = $1 AND from_state <> ''`, id)
			switch j.State {
			case atsgate.StateDisapproved:
				disapproved++
				if refunds != 1 {
					t.Errorf("disapproved job %d refunded %d times", id, refunds)
				}
			case atsgate.StatePublished:
				if refunds != 0 {
					t.Errorf("published job %d refunded %d times", id, refunds)
				}
			default:
				t.Errorf("job %d ended %s", id, j.State)
			}
			if transitions != 1 {
				t.Errorf("job %d has %d transitions, want 1", id, transitions)
			}
		}
		want := dec("70").Add(dec("3").Mul(decimal.NewFromInt(int64(disapproved))))
		if b := f.balance(t); !b.Equal(want) {
			t.Errorf("balance = %s, want %s", b, want)
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestConcurrentTopUpsAndCharges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		// Of 200 calls released at once, every 10th is an adjustment of
		// -1.11 (20), every other 3rd a top-up of 7.77 (60), and the rest
		// creates at 5 (120); with an empty wallet to start, the charges
		// race the top-ups that pay for them.
		const n = 200
		f := setup(t, d, fixtureOpts{price: "5"})
		results := race(t, n, func(ctx context.Context, i int) result {
			switch {
			case i%10 == 0:
				_, _, err := f.st.Adjust(ctx, f.employer.ID, dec("-1.11"), "cli:root", "fee", "")
				return result{err: err}
			case i%3 == 0:
				_, _, err := f.st.TopUp(ctx, f.employer.ID, dec("7.77"), "cli:root", fmt.Sprint(i), "")
				return result{err: err}
			default:
				j, created, err := f.st.CreateJob(ctx, f.p, jobInput(fmt.Sprintf("MIX-%03d", i)))
				return result{job: j, created: created, err: err}
			}
		})
		var charged, refused, topped, adjusted int
		for _, r := range results {
			switch code := atsgate.ErrorCode(r.err); {
			case code == atsgate.EFUNDS:
				refused++
			case code != "":
				t.Errorf("call %d: %v", r.i, r.err)
			case r.created:
				charged++
			case r.job != nil:
				t.Errorf("call %d: a distinct external_id replayed job %d", r.i, r.job.ID)
			}
		}
		entries := ledger(t, f.st, f.employer.ID)
		for _, e := range entries {
			switch e.Kind {
			case "topup":
				topped++
			case "adjustment":
				adjusted++
			}
		}
		if topped != 60 || adjusted != 20 || charged+refused != 120 {
			t.Errorf("%d top-ups, %d adjustments, %d charges + %d refusals; want 60, 20 and 120", topped, adjusted, charged, refused)
		}
		if len(entries) != topped+adjusted+charged {
			t.Errorf("ledger has %d entries, want %d", len(entries), topped+adjusted+charged)
		}
		want := dec("7.77").Mul(decimal.NewFromInt(int64(topped))).
			Sub(dec("1.11").Mul(decimal.NewFromInt(int64(adjusted)))).
			Sub(dec("5").Mul(decimal.NewFromInt(int64(charged))))
		if b := f.balance(t); !b.Equal(want) {
			t.Errorf("balance = %s, want %s", b, want)
		}
		t.Logf("%s: %d top-ups, %d adjustments, %d charged, %d refused", d, topped, adjusted, charged, refused)
		checkLedger(t, f.st, f.employer.ID)
	})
}

// TestConcurrentSameReference: a top-up sent many times at once under one
// reference (a double click, retries racing a slow first attempt, several
// instances) posts exactly once, and every call gets that entry back; the
// adjustments racing them under the same reference are a different
// request, so whichever kind posted first, every call of the other kind is
// a conflict, never a second posting.
func TestConcurrentSameReference(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{})
		const n = 60
		if d == "postgres" {
			// Open the pool's connections first: otherwise dialling them
			// spaces the calls out, the first commits before the others
			// begin, and the race this test is about never happens.
			race(t, n, func(ctx context.Context, i int) result {
				_, err := f.st.DB().ExecContext(ctx, `SELECT pg_sleep(0.05)`)
				return result{err: err}
			})
		}
		isAdjust := func(i int) bool { return i%10 == 9 }
		entries := make([]*atsgate.LedgerEntry, n)
		results := race(t, n, func(ctx context.Context, i int) result {
			var (
				e       *atsgate.LedgerEntry
				created bool
				err     error
			)
			if isAdjust(i) {
				e, created, err = f.st.Adjust(ctx, f.employer.ID, dec("-3"), "cli:root", "fee", "SAME-REF")
			} else {
				e, created, err = f.st.TopUp(ctx, f.employer.ID, dec("12.34"), "cli:root", "transfer", "SAME-REF")
			}
			entries[i] = e
			return result{created: created, err: err}
		})
		var winner *atsgate.LedgerEntry
		for _, r := range results {
			if r.err == nil && r.created {
				if winner != nil {
					t.Fatalf("calls posted entries %d and %d under one reference", winner.ID, entries[r.i].ID)
				}
				winner = entries[r.i]
			}
		}
		if winner == nil {
			t.Fatalf("no call posted: %+v", results)
		}
		var replayed, conflicts int
		for _, r := range results {
			sameKind := isAdjust(r.i) == (winner.Kind == atsgate.EntryAdjustment)
			switch {
			case r.created:
			case sameKind && r.err == nil && entries[r.i].ID == winner.ID:
				replayed++
			case !sameKind && atsgate.ErrorCode(r.err) == atsgate.ECONFLICT:
				conflicts++
			default:
				t.Errorf("call %d (adjustment %v): entry %+v, err %v; want entry %d back or a conflict",
					r.i, isAdjust(r.i), entries[r.i], r.err, winner.ID)
			}
		}
		if b := f.balance(t); !b.Equal(winner.Amount) {
			t.Errorf("balance = %s, want %s (posted once)", b, winner.Amount)
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM ledger_entries WHERE employer_id = $1`, f.employer.ID); got != 1 {
			t.Errorf("ledger entries = %d, want 1", got)
		}
		t.Logf("%s: the %s posted first; %d replayed, %d conflicts", d, winner.Kind, replayed, conflicts)
		checkLedger(t, f.st, f.employer.ID)
		mustVerify(t, f.st)
	})
}

func TestConcurrentKeyIssue(t *testing.T) {
	// Operators (or instances) issuing and rotating one employer's key at
	// once: every call succeeds, each in turn revoking the previous key,
	// and exactly one key, the last issued, stays active.
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{})
		const n = 20
		var mu sync.Mutex
		plains := map[string]bool{}
		results := race(t, n, func(ctx context.Context, i int) result {
			plain, _, err := f.st.IssueKey(ctx, f.employer.ID, i%2 == 0) // even: rotate
			if err == nil {
				mu.Lock()
				plains[plain] = true
				mu.Unlock()
			}
			return result{err: err}
		})
		for _, r := range results {
			if r.err != nil {
				t.Errorf("call %d: %v", r.i, r.err)
			}
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM api_keys WHERE employer_id = $1 AND revoked_at IS NULL`, f.employer.ID); got != 1 {
			t.Errorf("active keys = %d, want 1", got)
		}
		var accepted int
		for plain := range plains {
			if _, err := f.st.Authenticate(context.Background(), atsgate.HashAPIKey(plain)); err == nil {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("%d of the %d issued keys authenticate, want 1", accepted, len(plains))
		}
	})
}

func TestConcurrentIdenticalCreatesRefused(t *testing.T) {
	// Identical creates against a wallet that cannot pay: each waits for
	// the one before it to roll back, is refused in turn, and nothing is
	// left behind for the retry after a top-up.
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{balance: "4.99", price: "5"})
		results := race(t, 30, func(ctx context.Context, i int) result {
			j, created, err := f.st.CreateJob(ctx, f.p, jobInput("BROKE-1"))
			return result{job: j, created: created, err: err}
		})
		for _, r := range results {
			if atsgate.ErrorCode(r.err) != atsgate.EFUNDS || r.job != nil || r.created {
				t.Errorf("call %d: job %v, created %v, err %v; want insufficient_funds", r.i, r.job, r.created, r.err)
			}
		}
		if got := count(t, f.st, `SELECT COUNT(*) FROM jobs`); got != 0 {
			t.Errorf("jobs = %d, want 0", got)
		}
		if _, _, err := f.st.TopUp(context.Background(), f.employer.ID, dec("0.01"), "cli:root", "", ""); err != nil {
			t.Fatal(err)
		}
		results = race(t, 30, func(ctx context.Context, i int) result {
			j, created, err := f.st.CreateJob(ctx, f.p, jobInput("BROKE-1"))
			return result{job: j, created: created, err: err}
		})
		var created int
		for _, r := range results {
			if r.err != nil {
				t.Errorf("call %d after the top-up: %v", r.i, r.err)
			} else if r.created {
				created++
			}
		}
		if created != 1 || !f.balance(t).IsZero() {
			t.Errorf("after the top-up: %d created, balance %s; want 1 and 0", created, f.balance(t))
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}

// TestConcurrentEmployersSameName: employers created at once under one
// name all succeed, each with its own derived code.
func TestConcurrentEmployersSameName(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		st := openStore(t, d)
		c := mustCountry(t, st, "gh", "")
		const n = 8
		codes := make(chan string, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e, err := st.CreateEmployer(context.Background(), atsgate.EmployerInput{CountryID: c.ID, Name: "Same Name Ltd"})
				if err != nil {
					errs <- err
					return
				}
				codes <- e.Code
			}()
		}
		wg.Wait()
		close(codes)
		close(errs)
		for err := range errs {
			t.Errorf("CreateEmployer: %v", err)
		}
		seen := map[string]bool{}
		for code := range codes {
			if seen[code] {
				t.Errorf("code %s given twice", code)
			}
			seen[code] = true
		}
		if len(seen) != n || !seen["SAMENAMELT"] {
			t.Fatalf("codes %v; want %d distinct, starting with SAMENAMELT (the name cut to 10)", seen, n)
		}
	})
}
