package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
)

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	first := e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("IDEM-1", "deadline", "2030-01-01")).wantStatus(t, http.StatusCreated)
	if h := first.Header.Get("Idempotent-Replayed"); h != "" {
		t.Errorf("a new job carries Idempotent-Replayed: %q", h)
	}
	e.clock.Advance(time.Hour)
	defer e.clock.Set(t0)
	cases := []struct {
		name, target string
		body         map[string]any
	}{
		{"same body", "/api/ats/jobs", job("IDEM-1", "deadline", "2030-01-01")},
		{"same body on jobs.php", "/api/ats/jobs.php", job("IDEM-1", "deadline", "2030-01-01")},
		{"different title and deadline", "/api/ats/jobs", job("IDEM-1", "title", "Another title", "deadline", "2031-01-01")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call(t, emp, http.MethodPost, tc.target, tc.body).wantStatus(t, http.StatusOK)
			if h := res.Header.Get("Idempotent-Replayed"); h != "true" {
				t.Errorf("Idempotent-Replayed = %q, want true", h)
			}
			if diff := cmp.Diff(first.record(t), res.record(t)); diff != "" {
				t.Errorf("replay differs from the original (-want +got):\n%s", diff)
			}
		})
	}
	s := e.statement(t, emp.ID)
	if len(s.Entries) != 2 || !s.Balance.Equal(decimal.NewFromInt(950)) {
		t.Errorf("balance %s with %d entries, want 950 after one charge", s.Balance, len(s.Entries))
	}
	if j := e.storedJob(t, emp.ID, "IDEM-1"); j.Title != "Software Engineer" || j.Deadline != "2030-01-01" {
		t.Errorf("a replay changed the job: %+v", j)
	}
}

// TestReplayWithEmptyWallet: idempotency comes before the wallet, and a
// refused create leaves nothing behind, so a corrected retry works.
func TestReplayWithEmptyWallet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "50")
	e.create(t, emp, job("PAID-1"))
	if s := e.statement(t, emp.ID); !s.Balance.IsZero() {
		t.Fatalf("balance = %s, want 0", s.Balance)
	}
	res := e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("PAID-1")).wantStatus(t, http.StatusOK)
	if res.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed = %q, want true", res.Header.Get("Idempotent-Replayed"))
	}

	refused := e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("UNPAID-1")).wantError(t, http.StatusPaymentRequired, "insufficient_funds")
	if refused.Error.Balance != "0" || refused.Error.Price != "50" || refused.Error.Currency != "GHS" {
		t.Errorf("402 body: balance %q, price %q, currency %q; want 0, 50, GHS", refused.Error.Balance, refused.Error.Price, refused.Error.Currency)
	}
	if j := e.storedJob(t, emp.ID, "UNPAID-1"); j != nil {
		t.Fatalf("a 402 stored the job: %+v", j)
	}
	e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id=UNPAID-1", nil).wantError(t, http.StatusNotFound, "not_found")

	e.topUp(t, emp.ID, "30")
	refused = e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("UNPAID-1")).wantError(t, http.StatusPaymentRequired, "insufficient_funds")
	if refused.Error.Balance != "30" {
		t.Errorf("402 balance = %q, want 30", refused.Error.Balance)
	}
	e.topUp(t, emp.ID, "20")
	e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("UNPAID-1")).wantStatus(t, http.StatusCreated)

	// A negative balance refuses even a free job.
	free := e.employer(t, "gh", "Free Ltd", "0", price("0"))
	e.create(t, free, job("FREE-1"))
	if _, _, err := e.st.Adjust(context.Background(), free.ID, decimal.NewFromInt(-5), "test", "correction", ""); err != nil {
		t.Fatal(err)
	}
	neg := e.call(t, free, http.MethodPost, "/api/ats/jobs", job("FREE-2")).wantError(t, http.StatusPaymentRequired, "insufficient_funds")
	if neg.Error.Balance != "-5" || neg.Error.Price != "0" {
		t.Errorf("402 body: balance %q, price %q; want -5, 0", neg.Error.Balance, neg.Error.Price)
	}
	e.call(t, free, http.MethodPost, "/api/ats/jobs", job("FREE-1")).wantStatus(t, http.StatusOK)
}

func TestRefusedCreateThenCorrectedRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	checkInvalid(t, e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("RETRY-1", "apply_url", "/apply")), []string{"apply_url"})
	checkInvalid(t, e.call(t, emp, http.MethodPost, "/api/ats/jobs", job("RETRY-1", "states", []any{999})), []string{"states"})
	rec := e.create(t, emp, job("RETRY-1", "apply_url", "https://example.com/apply"))
	if rec.ExternalID != "RETRY-1" {
		t.Errorf("record = %+v", rec)
	}
	if s := e.statement(t, emp.ID); len(s.Entries) != 2 {
		t.Errorf("%d ledger entries, want top-up and one charge", len(s.Entries))
	}
}

// result is what one concurrent request got.
type result struct {
	status   int
	replayed string
	body     []byte
	err      error
}

// storm sends n requests at once (released together) and returns what each got.
func (e *env) storm(t *testing.T, n int, req func(i int) *http.Request) []result {
	t.Helper()
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = req(i)
	}
	out := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			res, err := e.client.Do(reqs[i])
			if err != nil {
				out[i].err = err
				return
			}
			defer res.Body.Close()
			out[i].body, out[i].err = io.ReadAll(res.Body)
			out[i].status = res.StatusCode
			out[i].replayed = res.Header.Get("Idempotent-Replayed")
		}(i)
	}
	close(start)
	wg.Wait()
	for i, r := range out {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
		if r.status >= 500 {
			t.Errorf("request %d: status %d: %s", i, r.status, r.body)
		}
	}
	return out
}

// checkLedger checks the wallet invariants: balance = sum of entries, and
// each entry's balance after chains from the previous one.
func checkLedger(t *testing.T, s *ledgerView) {
	t.Helper()
	sum := decimal.Zero
	for i, en := range s.Entries {
		sum = sum.Add(en.Amount)
		if !en.BalanceAfter.Equal(sum) {
			t.Errorf("entry %d (%s %s): balance after %s, want %s", i, en.Kind, en.Amount, en.BalanceAfter, sum)
		}
	}
	if !sum.Equal(s.Balance) {
		t.Errorf("entries sum to %s, balance is %s", sum, s.Balance)
	}
}

func TestIdempotencyStorm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	body, _ := json.Marshal(job("STORM-1"))
	out := e.storm(t, 100, func(int) *http.Request {
		return e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key, bytes.NewReader(body))
	})
	counts := map[int]int{}
	var original []byte
	for i, r := range out {
		counts[r.status]++
		switch r.status {
		case http.StatusCreated:
			original = r.body
			if r.replayed != "" {
				t.Errorf("request %d: 201 with Idempotent-Replayed %q", i, r.replayed)
			}
		case http.StatusOK:
			if r.replayed != "true" {
				t.Errorf("request %d: 200 with Idempotent-Replayed %q, want true", i, r.replayed)
			}
		}
	}
	if diff := cmp.Diff(map[int]int{201: 1, 200: 99}, counts); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	for i, r := range out {
		if r.status == http.StatusOK && !bytes.Equal(r.body, original) {
			t.Errorf("request %d: replay %s differs from the original %s", i, r.body, original)
		}
	}
	list := e.call(t, emp, http.MethodGet, "/api/ats/jobs?limit=200", nil).wantStatus(t, http.StatusOK).list(t)
	if len(list.Jobs) != 1 {
		t.Errorf("%d jobs, want 1", len(list.Jobs))
	}
	s := e.statement(t, emp.ID)
	checkLedger(t, s)
	charges := 0
	for _, en := range s.Entries {
		if en.Kind == atsgate.EntryJobCharge {
			charges++
		}
	}
	if charges != 1 || !s.Balance.Equal(decimal.NewFromInt(950)) {
		t.Errorf("%d charges, balance %s; want 1 charge, balance 950", charges, s.Balance)
	}
}

func TestWalletStorm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const affordable, sent = 37, 200
	emp := e.employer(t, "gh", "Acme", fmt.Sprint(affordable*50))
	out := e.storm(t, sent, func(i int) *http.Request {
		return e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key, bodyOf(t, job(fmt.Sprintf("WALLET-%03d", i))))
	})
	counts := map[int]int{}
	created := map[string]bool{}
	for i, r := range out {
		counts[r.status]++
		switch r.status {
		case http.StatusCreated:
			var rec record
			if err := json.Unmarshal(r.body, &rec); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			created[rec.ExternalID] = true
		case http.StatusPaymentRequired:
			var ae apiError
			if err := json.Unmarshal(r.body, &ae); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if ae.Error.Code != "insufficient_funds" || ae.Error.Balance == "" || ae.Error.Price != "50" {
				t.Errorf("request %d: 402 body %s, want insufficient_funds with balance and price 50", i, r.body)
			}
			if b, err := decimal.NewFromString(ae.Error.Balance); err != nil || !b.LessThan(decimal.NewFromInt(50)) {
				t.Errorf("request %d: 402 with balance %q, which covers the price", i, ae.Error.Balance)
			}
		}
	}
	if diff := cmp.Diff(map[int]int{201: affordable, 402: sent - affordable}, counts); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	s := e.statement(t, emp.ID)
	if !s.Balance.IsZero() {
		t.Errorf("final balance %s, want 0", s.Balance)
	}
	checkLedger(t, s)
	charged := map[int64]bool{}
	for _, en := range s.Entries {
		if en.Kind == atsgate.EntryJobCharge {
			if charged[en.JobID] {
				t.Errorf("job %d charged twice", en.JobID)
			}
			charged[en.JobID] = true
		}
	}
	if len(charged) != affordable || len(s.Entries) != affordable+1 {
		t.Errorf("%d charges in %d entries, want %d charges and one top-up", len(charged), len(s.Entries), affordable)
	}
	list := e.call(t, emp, http.MethodGet, "/api/ats/jobs?limit=200", nil).wantStatus(t, http.StatusOK).list(t)
	got := map[string]bool{}
	for _, r := range list.Jobs {
		got[r.ExternalID] = true
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("listed jobs differ from the 201s (-created +listed):\n%s", diff)
	}
}

func TestTenancy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.employer(t, "gh", "Employer A", "1000")
	b := e.employer(t, "gh", "Employer B", "1000")
	ngEmp := e.employer(t, "ng", "Employer NG", "100000")

	t.Run("same external_id under two employers makes two jobs", func(t *testing.T) {
		ra := e.create(t, a, job("SHARED-1", "title", "A's job"))
		rb := e.create(t, b, job("SHARED-1", "title", "B's job"))
		if ra.Title != "A's job" || rb.Title != "B's job" {
			t.Errorf("titles %q, %q", ra.Title, rb.Title)
		}
		ja, jb := e.storedJob(t, a.ID, "SHARED-1"), e.storedJob(t, b.ID, "SHARED-1")
		if ja == nil || jb == nil || ja.ID == jb.ID {
			t.Fatalf("want two distinct jobs, got %+v and %+v", ja, jb)
		}
		if got := e.call(t, a, http.MethodGet, "/api/ats/jobs?external_id=SHARED-1", nil).wantStatus(t, 200).record(t); got.Title != "A's job" {
			t.Errorf("A gets %q", got.Title)
		}
		if got := e.call(t, b, http.MethodGet, "/api/ats/jobs?external_id=SHARED-1", nil).wantStatus(t, 200).record(t); got.Title != "B's job" {
			t.Errorf("B gets %q", got.Title)
		}
		for _, emp := range []employer{a, b} {
			if s := e.statement(t, emp.ID); !s.Balance.Equal(decimal.NewFromInt(950)) {
				t.Errorf("employer %d balance %s, want 950", emp.ID, s.Balance)
			}
		}
	})

	e.create(t, a, job("A-ONLY", "title", "Private to A"))
	before := e.storedJob(t, a.ID, "A-ONLY")
	others := []struct {
		name string
		emp  employer
	}{{"another employer", b}, {"an employer of another country", ngEmp}}
	for _, o := range others {
		t.Run(o.name+" cannot see or touch the job", func(t *testing.T) {
			e.call(t, o.emp, http.MethodGet, "/api/ats/jobs?external_id=A-ONLY", nil).wantError(t, http.StatusNotFound, "not_found")
			e.call(t, o.emp, http.MethodPut, "/api/ats/jobs", map[string]any{"external_id": "A-ONLY", "title": "Hijacked"}).
				wantError(t, http.StatusNotFound, "not_found")
			e.call(t, o.emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "A-ONLY"}).
				wantError(t, http.StatusNotFound, "not_found")
			for _, r := range e.call(t, o.emp, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, 200).list(t).Jobs {
				if r.ExternalID == "A-ONLY" {
					t.Errorf("listed A's job")
				}
			}
			if diff := cmp.Diff(before, e.storedJob(t, a.ID, "A-ONLY"), jobCmp); diff != "" {
				t.Errorf("A's job changed (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("another employer's create with the same external_id is its own job", func(t *testing.T) {
		e.create(t, b, job("A-ONLY", "title", "B's own"))
		if diff := cmp.Diff(before, e.storedJob(t, a.ID, "A-ONLY"), jobCmp); diff != "" {
			t.Errorf("A's job changed (-before +after):\n%s", diff)
		}
	})
}

func TestUpdateAndClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	emp := e.employer(t, "gh", "Acme", "1000")
	pub := e.employer(t, "gh", "Published Ltd", "1000", autoPublish)
	put := func(emp employer, body map[string]any) response {
		return e.call(t, emp, http.MethodPut, "/api/ats/jobs", body)
	}
	closeJob := func(emp employer, id string) response {
		return e.call(t, emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": id})
	}

	e.create(t, emp, job("UPD-1", "deadline", "2030-09-30", "salary", 100))
	t.Run("absent fields stay", func(t *testing.T) {
		rec := put(emp, map[string]any{"external_id": "UPD-1", "title": "Renamed"}).wantStatus(t, http.StatusOK).record(t)
		if rec.Title != "Renamed" || rec.Deadline != "2030-09-30" || rec.State != "pending_review" {
			t.Errorf("record = %+v", rec)
		}
		j := e.storedJob(t, emp.ID, "UPD-1")
		if j.Description != job("")["description"] || j.Salary != 100 {
			t.Errorf("stored = %+v", j)
		}
	})
	t.Run("update of an unknown job", func(t *testing.T) {
		put(emp, map[string]any{"external_id": "NOPE", "title": "x"}).wantError(t, http.StatusNotFound, "not_found")
	})
	t.Run("update of a published job", func(t *testing.T) {
		e.create(t, pub, job("PUB-1"))
		rec := put(pub, map[string]any{"external_id": "PUB-1", "title": "Still open"}).wantStatus(t, http.StatusOK).record(t)
		if rec.State != "published" || rec.Title != "Still open" {
			t.Errorf("record = %+v", rec)
		}
	})
	t.Run("close twice", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		first := closeJob(emp, "UPD-1").wantStatus(t, http.StatusOK).record(t)
		if first.State != "closed" || first.ClosedDate == "" {
			t.Errorf("first close = %+v", first)
		}
		e.clock.Advance(time.Minute)
		second := closeJob(emp, "UPD-1").wantStatus(t, http.StatusOK).record(t)
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("second close changed the record (-first +second):\n%s", diff)
		}
		closeJob(pub, "PUB-1").wantStatus(t, http.StatusOK)
	})
	t.Run("update of a closed job", func(t *testing.T) {
		before := e.storedJob(t, emp.ID, "UPD-1")
		put(emp, map[string]any{"external_id": "UPD-1", "title": "Too late"}).wantError(t, http.StatusConflict, "conflict")
		put(pub, map[string]any{"external_id": "PUB-1", "title": "Too late"}).wantError(t, http.StatusConflict, "conflict")
		if diff := cmp.Diff(before, e.storedJob(t, emp.ID, "UPD-1"), jobCmp); diff != "" {
			t.Errorf("a refused update changed the job (-before +after):\n%s", diff)
		}
	})
	t.Run("update of a disapproved job", func(t *testing.T) {
		e.create(t, emp, job("DIS-1"))
		j := e.storedJob(t, emp.ID, "DIS-1")
		if _, err := e.st.Disapprove(ctx, j.ID, "test", "Spam"); err != nil {
			t.Fatal(err)
		}
		put(emp, map[string]any{"external_id": "DIS-1", "title": "Appeal"}).wantError(t, http.StatusConflict, "conflict")
		rec := closeJob(emp, "DIS-1").wantStatus(t, http.StatusOK).record(t)
		if rec.State != "disapproved" {
			t.Errorf("closing a disapproved job made it %q", rec.State)
		}
	})
	t.Run("close of an unknown job", func(t *testing.T) {
		closeJob(emp, "NOPE").wantError(t, http.StatusNotFound, "not_found")
	})
	t.Run("close without external_id", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"external_id": ""}`, `{"external_id": null}`, `{"title": "x"}`} {
			checkInvalid(t, e.call(t, emp, http.MethodPost, "/api/ats/jobs?action=close", body), []string{"external_id"})
		}
	})
	t.Run("get of an unknown job", func(t *testing.T) {
		e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id=NOPE", nil).wantError(t, http.StatusNotFound, "not_found")
		e.call(t, emp, http.MethodGet, "/api/ats/jobs.php?external_id=NOPE", nil).wantError(t, http.StatusNotFound, "not_found")
	})
	t.Run("get with an empty external_id", func(t *testing.T) {
		checkInvalid(t, e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id=", nil), []string{"external_id"})
	})
	t.Run("get finds multi-byte and numeric external ids", func(t *testing.T) {
		e.create(t, emp, job("Ünïcødé/ジョブ 1&2"))
		e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id=%C3%9Cn%C3%AFc%C3%B8d%C3%A9%2F%E3%82%B8%E3%83%A7%E3%83%96%201%262", nil).
			wantStatus(t, http.StatusOK)
		e.call(t, emp, http.MethodPost, "/api/ats/jobs", `{"external_id": 777, "title": "t", "description": "d"}`).wantStatus(t, http.StatusCreated)
		e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id=777", nil).wantStatus(t, http.StatusOK)
	})
	s := e.statement(t, emp.ID)
	checkLedger(t, s)
	charges := 0
	for _, en := range s.Entries {
		if en.Kind == atsgate.EntryJobCharge {
			charges++
		}
	}
	if charges != 4 {
		t.Errorf("%d charges, want 4 (updates and closes charge nothing)", charges)
	}
}

// TestOrderOfChecks: host → auth → parse/validate → idempotency → wallet.
func TestOrderOfChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "50")
	e.create(t, emp, job("ORDER-1")) // the wallet is now empty
	cases := []struct {
		name, host, key, body string
		status                int
		code                  string
	}{
		{"unknown host before auth", "nowhere.test", "", `{`, 404, "unknown_host"},
		{"unknown host before a valid key", "nowhere.test", emp.Key, `{`, 404, "unknown_host"},
		{"auth before parsing", "gh.localhost", "", `{`, 401, "unauthorized"},
		{"auth before validation", "gh.localhost", "mjm_gh_" + strings.Repeat("B", 43), `{"external_id": ""}`, 401, "unauthorized"},
		{"parsing before the wallet", "gh.localhost", emp.Key, `{`, 400, "invalid_json"},
		{"validation before the wallet", "gh.localhost", emp.Key, `{"external_id": "ORDER-2", "title": "t"}`, 422, "validation_failed"},
		{"validation before idempotency", "gh.localhost", emp.Key, `{"external_id": "ORDER-1", "title": "t"}`, 422, "validation_failed"},
		{"idempotency before the wallet", "gh.localhost", emp.Key, `{"external_id": "ORDER-1", "title": "t", "description": "d"}`, 200, ""},
		{"the wallet", "gh.localhost", emp.Key, `{"external_id": "ORDER-2", "title": "t", "description": "d"}`, 402, "insufficient_funds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.send(t, e.request(t, http.MethodPost, "/api/ats/jobs", tc.host, tc.key, strings.NewReader(tc.body)))
			if tc.code == "" {
				res.wantStatus(t, tc.status)
				return
			}
			res.wantError(t, tc.status, tc.code)
		})
	}
	if s := e.statement(t, emp.ID); len(s.Entries) != 2 || !s.Balance.IsZero() {
		t.Errorf("balance %s with %d entries, want 0 after one charge", s.Balance, len(s.Entries))
	}
}

// TestEveryDialect runs the main flow, both storms in small, and the
// wallet invariants on every store, so the embedded SQLite default keeps
// the same HTTP contract as PostgreSQL.
func TestEveryDialect(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			e := newEnvOn(t, dialect)
			emp := e.employer(t, "gh", "Acme", fmt.Sprint(7*50))
			rec := e.create(t, emp, job("D-1", "deadline", "30 September 2030"))
			if rec.Deadline != "2030-09-30" || rec.ReceivedDate != "2026-06-18 09:14:32" || rec.AmountCharged != "50" {
				t.Errorf("record = %+v", rec)
			}
			body, _ := json.Marshal(job("D-STORM"))
			counts := map[int]int{}
			for _, r := range e.storm(t, 20, func(int) *http.Request {
				return e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key, bytes.NewReader(body))
			}) {
				counts[r.status]++
			}
			if diff := cmp.Diff(map[int]int{201: 1, 200: 19}, counts); diff != "" {
				t.Errorf("identical creates (-want +got):\n%s", diff)
			}
			counts = map[int]int{}
			for _, r := range e.storm(t, 30, func(i int) *http.Request {
				return e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key, bodyOf(t, job(fmt.Sprintf("D-W-%02d", i))))
			}) {
				counts[r.status]++
			}
			if diff := cmp.Diff(map[int]int{201: 5, 402: 25}, counts); diff != "" {
				t.Errorf("distinct creates (-want +got):\n%s", diff)
			}
			s := e.statement(t, emp.ID)
			checkLedger(t, s)
			if !s.Balance.IsZero() {
				t.Errorf("balance %s, want 0", s.Balance)
			}
			e.call(t, emp, http.MethodPut, "/api/ats/jobs", map[string]any{"external_id": "D-1", "title": "Renamed"}).wantStatus(t, http.StatusOK)
			e.call(t, emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "D-1"}).wantStatus(t, http.StatusOK)
			e.call(t, emp, http.MethodPut, "/api/ats/jobs", map[string]any{"external_id": "D-1", "title": "Again"}).wantError(t, http.StatusConflict, "conflict")
			got := e.call(t, emp, http.MethodGet, "/api/ats/jobs?external_id=D-1", nil).wantStatus(t, http.StatusOK).record(t)
			if got.Title != "Renamed" || got.State != "closed" {
				t.Errorf("record = %+v", got)
			}
			var seen []string
			cursor := ""
			for {
				res := e.call(t, emp, http.MethodGet, "/api/ats/jobs?limit=2&cursor="+cursor, nil).wantStatus(t, http.StatusOK).list(t)
				seen = append(seen, externalIDs(res.Jobs)...)
				if cursor = res.NextCursor; cursor == "" {
					break
				}
			}
			if len(seen) != 7 || seen[len(seen)-1] != "D-1" {
				t.Errorf("paged %v, want 7 jobs ending with D-1", seen)
			}
		})
	}
}
