package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

func TestTopUpAndAdjust(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		f := setup(t, d, fixtureOpts{}, store.WithClock(newTestClock(now).Now))
		id := f.employer.ID

		t.Run("refused", func(t *testing.T) {
			tests := []struct {
				name   string
				post   func() (*atsgate.LedgerEntry, bool, error)
				code   string
				fields []string
			}{
				{"top-up zero", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, decimal.Zero, "cli:root", "", "")
				}, atsgate.EINVALID, []string{"amount"}},
				{"top-up negative", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("-5"), "cli:root", "", "")
				}, atsgate.EINVALID, []string{"amount"}},
				{"top-up sub-minor", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("0.001"), "cli:root", "", "")
				}, atsgate.EINVALID, []string{"amount"}},
				{"top-up beyond int64 minor units", func() (*atsgate.LedgerEntry, bool, error) {
					// 2^63 minor units: converted unchecked it wraps to a debit.
					return f.st.TopUp(ctx, id, dec("92233720368547758.08"), "cli:root", "", "")
				}, atsgate.EINVALID, []string{"amount"}},
				{"top-up too large", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("1000000000000000.01"), "cli:root", "", "")
				}, atsgate.EINVALID, []string{"amount"}},
				{"adjust too large", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.Adjust(ctx, id, dec("-92233720368547758.09"), "cli:root", "why", "")
				}, atsgate.EINVALID, []string{"amount"}},
				{"top-up unknown employer", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, 999999, dec("5"), "cli:root", "", "")
				}, atsgate.ENOTFOUND, nil},
				{"adjust without note", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.Adjust(ctx, id, dec("-5"), "cli:root", "  ", "")
				}, atsgate.EINVALID, []string{"note"}},
				{"adjust zero", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.Adjust(ctx, id, decimal.Zero, "cli:root", "why", "")
				}, atsgate.EINVALID, []string{"amount"}},
				{"adjust zero without note", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.Adjust(ctx, id, decimal.Zero, "cli:root", "", "")
				}, atsgate.EINVALID, []string{"amount", "note"}},
				{"top-up reference too long", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("5"), "cli:root", "", strings.Repeat("r", atsgate.MaxReferenceLength+1))
				}, atsgate.EINVALID, []string{"reference"}},
				{"adjust reference with a control character", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.Adjust(ctx, id, dec("5"), "cli:root", "why", "bank\x1b[2J")
				}, atsgate.EINVALID, []string{"reference"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e, created, err := tt.post()
					wantCode(t, err, tt.code)
					if e != nil || created {
						t.Errorf("refused post returned an entry: %+v, created %v", e, created)
					}
					want := map[string]bool{}
					for _, k := range tt.fields {
						want[k] = true
					}
					if diff := cmp.Diff(want, fieldsOf(err)); diff != "" {
						t.Errorf("fields (-want +got):\n%s", diff)
					}
				})
			}
			if n := len(ledger(t, f.st, id)); n != 0 {
				t.Errorf("refused posts left %d entries", n)
			}
		})

		t.Run("post", func(t *testing.T) {
			top, _, err := f.st.TopUp(ctx, id, dec("100.50"), "cli:root", " bank transfer 123 ", "")
			if err != nil {
				t.Fatalf("TopUp: %v", err)
			}
			want := atsgate.LedgerEntry{ID: top.ID, EmployerID: id, Kind: atsgate.EntryTopup, Amount: dec("100.50"),
				BalanceAfter: dec("100.50"), Actor: "cli:root", Note: "bank transfer 123", CreatedAt: now}
			if diff := cmp.Diff(want, *top, jobCmp); diff != "" {
				t.Errorf("TopUp (-want +got):\n%s", diff)
			}
			adj, _, err := f.st.Adjust(ctx, id, dec("-150.75"), "cli:root", "chargeback", "")
			if err != nil {
				t.Fatalf("Adjust: %v", err)
			}
			want = atsgate.LedgerEntry{ID: adj.ID, EmployerID: id, Kind: atsgate.EntryAdjustment, Amount: dec("-150.75"),
				BalanceAfter: dec("-50.25"), Actor: "cli:root", Note: "chargeback", CreatedAt: now}
			if diff := cmp.Diff(want, *adj, jobCmp); diff != "" {
				t.Errorf("Adjust (-want +got):\n%s", diff)
			}
			if b := f.balance(t); !b.Equal(dec("-50.25")) {
				t.Errorf("balance = %s, want -50.25", b)
			}
			if _, _, err := f.st.Adjust(ctx, id, dec("0.25"), "cli:root", "rounding", ""); err != nil {
				t.Fatalf("Adjust: %v", err)
			}
			if _, _, err := f.st.TopUp(ctx, id, dec("1000000000000000"), "cli:root", "the largest amount", ""); err != nil {
				t.Fatalf("TopUp of the largest amount: %v", err)
			}
			if b := f.balance(t); !b.Equal(dec("999999999999950")) {
				t.Errorf("balance = %s, want 999999999999950", b)
			}
			checkLedger(t, f.st, id)
		})
	})
}

// TestReferences: SPEC section 4's idempotent top-ups and adjustments. A
// reference posts once per employer; the same request again gets the
// first entry back and moves no money; another request under the same
// reference is a conflict.
func TestReferences(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		now := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
		clock := newTestClock(now)
		f := setup(t, d, fixtureOpts{}, store.WithClock(clock.Now))
		other := newEmployer(t, f.st, f.country, fixtureOpts{})
		id := f.employer.ID

		first, created, err := f.st.TopUp(ctx, id, dec("500"), "cli:alice", "bank transfer", "GH-2291")
		if err != nil || !created {
			t.Fatalf("TopUp = %+v, created %v, %v; want a new entry", first, created, err)
		}
		if first.Reference != "GH-2291" {
			t.Errorf("entry reference = %q, want GH-2291", first.Reference)
		}
		clock.Add(time.Minute)

		t.Run("replays", func(t *testing.T) {
			for _, tt := range []struct {
				name string
				post func() (*atsgate.LedgerEntry, bool, error)
			}{
				{"the same request", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("500"), "cli:alice", "bank transfer", "GH-2291")
				}},
				{"spaces around the reference and the note", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("500.00"), "cli:alice", " bank transfer ", " GH-2291 ")
				}},
				{"another operator recording the same transfer", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("500"), "admin:olu", "bank transfer", "GH-2291")
				}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					got, created, err := tt.post()
					if err != nil || created {
						t.Fatalf("replay = %+v, created %v, %v; want the first entry, not created", got, created, err)
					}
					if diff := cmp.Diff(*first, *got); diff != "" {
						t.Errorf("replay returned another entry (-first +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("conflicts", func(t *testing.T) {
			for _, tt := range []struct {
				name string
				post func() (*atsgate.LedgerEntry, bool, error)
			}{
				{"another amount", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("50"), "cli:alice", "bank transfer", "GH-2291")
				}},
				{"another note", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.TopUp(ctx, id, dec("500"), "cli:alice", "cash", "GH-2291")
				}},
				{"another kind", func() (*atsgate.LedgerEntry, bool, error) {
					return f.st.Adjust(ctx, id, dec("500"), "cli:alice", "bank transfer", "GH-2291")
				}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					got, created, err := tt.post()
					wantCode(t, err, atsgate.ECONFLICT)
					if got != nil || created {
						t.Errorf("conflict returned %+v, created %v", got, created)
					}
				})
			}
		})

		t.Run("scoped per employer", func(t *testing.T) {
			e, created, err := f.st.TopUp(ctx, other.employer.ID, dec("500"), "cli:alice", "bank transfer", "GH-2291")
			if err != nil || !created || e.ID == first.ID {
				t.Fatalf("other employer's TopUp = %+v, created %v, %v; want its own new entry", e, created, err)
			}
		})

		t.Run("adjustments", func(t *testing.T) {
			adj, created, err := f.st.Adjust(ctx, id, dec("-20"), "cli:alice", "bank fee", "FEE-10")
			if err != nil || !created {
				t.Fatalf("Adjust = %+v, created %v, %v", adj, created, err)
			}
			again, created, err := f.st.Adjust(ctx, id, dec("-20"), "cli:alice", "bank fee", "FEE-10")
			if err != nil || created || again.ID != adj.ID {
				t.Fatalf("Adjust again = %+v, created %v, %v; want entry %d replayed", again, created, err, adj.ID)
			}
			_, _, err = f.st.Adjust(ctx, id, dec("-21"), "cli:alice", "bank fee", "FEE-10")
			wantCode(t, err, atsgate.ECONFLICT)
		})

		t.Run("no reference posts every time", func(t *testing.T) {
			for range 2 {
				if _, created, err := f.st.TopUp(ctx, id, dec("1"), "cli:alice", "coins", ""); err != nil || !created {
					t.Fatalf("TopUp without reference: created %v, %v", created, err)
				}
			}
		})

		// 500 once, -20 once, 1 twice: every replay and conflict moved nothing.
		if b := f.balance(t); !b.Equal(dec("482")) {
			t.Errorf("balance = %s, want 482", b)
		}
		if n := len(ledger(t, f.st, id)); n != 4 {
			t.Errorf("ledger has %d entries, want 4", n)
		}
		var refs []string
		for _, e := range statementEntries(t, f.st, id, time.Time{}, time.Time{}) {
			refs = append(refs, e.Reference)
		}
		if diff := cmp.Diff([]string{"GH-2291", "FEE-10", "", ""}, refs); diff != "" {
			t.Errorf("statement references (-want +got):\n%s", diff)
		}
		checkLedger(t, f.st, id)
		mustVerify(t, f.st)
	})
}

func TestStatement(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clock := newTestClock(time.Date(2026, 9, 20, 10, 0, 0, 0, time.UTC))
		f := setup(t, d, fixtureOpts{price: "40"}, store.WithClock(clock.Now))
		id := f.employer.ID
		at := func(s string) time.Time {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			return tm
		}
		mustPost := func(_ *atsgate.LedgerEntry, _ bool, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// September: top-up 200 (balance 200).
		mustPost(f.st.TopUp(ctx, id, dec("200"), "cli:root", "sep", ""))
		// The last instant of September: a charge (160).
		clock.Set(at("2026-09-30T23:59:59.999999Z"))
		f.create(t, "ST-1")
		// October: exactly at the start a charge (120), a refund (160), a
		// top-up (210.5), an adjustment (200.5), a charge (160.5).
		clock.Set(at("2026-10-01T00:00:00Z"))
		j2 := f.create(t, "ST-2")
		clock.Set(at("2026-10-10T08:00:00.5Z"))
		if _, err := f.st.Disapprove(ctx, j2.ID, "admin:bob", "dup"); err != nil {
			t.Fatal(err)
		}
		clock.Set(at("2026-10-15T12:00:00Z"))
		mustPost(f.st.TopUp(ctx, id, dec("50.5"), "cli:root", "oct", ""))
		clock.Set(at("2026-10-20T12:00:00Z"))
		mustPost(f.st.Adjust(ctx, id, dec("-10"), "cli:root", "fee", ""))
		clock.Set(at("2026-10-31T23:59:59Z"))
		f.create(t, "ST-3")
		// November: a top-up (260.5).
		clock.Set(at("2026-11-01T00:00:00Z"))
		mustPost(f.st.TopUp(ctx, id, dec("100"), "cli:root", "nov", ""))

		zero := decimal.Zero
		totals := func(kv ...any) map[atsgate.EntryKind]decimal.Decimal {
			m := map[atsgate.EntryKind]decimal.Decimal{}
			for _, k := range atsgate.EntryKinds {
				m[k] = zero
			}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(atsgate.EntryKind)] = dec(kv[i+1].(string))
			}
			return m
		}
		type summary struct {
			Opening, Closing, Balance decimal.Decimal
			Kinds                     []atsgate.EntryKind
			Totals                    map[atsgate.EntryKind]decimal.Decimal
		}
		tests := []struct {
			name     string
			from, to time.Time
			want     summary
		}{
			{"october", at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z"), summary{
				Opening: dec("160"), Closing: dec("160.5"), Balance: dec("260.5"),
				Kinds: []atsgate.EntryKind{atsgate.EntryJobCharge, atsgate.EntryJobRefund, atsgate.EntryTopup, atsgate.EntryAdjustment, atsgate.EntryJobCharge},
				Totals: totals(atsgate.EntryJobCharge, "-80", atsgate.EntryJobRefund, "40", atsgate.EntryTopup, "50.5",
					atsgate.EntryAdjustment, "-10"),
			}},
			{"september", at("2026-09-01T00:00:00Z"), at("2026-10-01T00:00:00Z"), summary{
				Opening: zero, Closing: dec("160"), Balance: dec("260.5"),
				Kinds:  []atsgate.EntryKind{atsgate.EntryTopup, atsgate.EntryJobCharge},
				Totals: totals(atsgate.EntryTopup, "200", atsgate.EntryJobCharge, "-40"),
			}},
			{"everything", time.Time{}, time.Time{}, summary{
				Opening: zero, Closing: dec("260.5"), Balance: dec("260.5"),
				Kinds: []atsgate.EntryKind{atsgate.EntryTopup, atsgate.EntryJobCharge, atsgate.EntryJobCharge, atsgate.EntryJobRefund,
					atsgate.EntryTopup, atsgate.EntryAdjustment, atsgate.EntryJobCharge, atsgate.EntryTopup},
				Totals: totals(atsgate.EntryTopup, "350.5", atsgate.EntryJobCharge, "-120", atsgate.EntryJobRefund, "40",
					atsgate.EntryAdjustment, "-10"),
			}},
			{"open start", time.Time{}, at("2026-10-10T00:00:00Z"), summary{
				Opening: zero, Closing: dec("120"), Balance: dec("260.5"),
				Kinds:  []atsgate.EntryKind{atsgate.EntryTopup, atsgate.EntryJobCharge, atsgate.EntryJobCharge},
				Totals: totals(atsgate.EntryTopup, "200", atsgate.EntryJobCharge, "-80"),
			}},
			{"open end", at("2026-10-31T00:00:00Z"), time.Time{}, summary{
				Opening: dec("200.5"), Closing: dec("260.5"), Balance: dec("260.5"),
				Kinds:  []atsgate.EntryKind{atsgate.EntryJobCharge, atsgate.EntryTopup},
				Totals: totals(atsgate.EntryJobCharge, "-40", atsgate.EntryTopup, "100"),
			}},
			{"empty period", at("2026-10-21T00:00:00Z"), at("2026-10-22T00:00:00Z"), summary{
				Opening: dec("200.5"), Closing: dec("200.5"), Balance: dec("260.5"), Totals: totals(),
			}},
			{"before everything", at("2020-01-01T00:00:00Z"), at("2020-02-01T00:00:00Z"), summary{
				Opening: zero, Closing: zero, Balance: dec("260.5"), Totals: totals(),
			}},
			{"other time zone", at("2026-10-01T00:00:00+02:00"), at("2026-10-01T02:00:00+02:00"), summary{
				// 2026-09-30T22:00Z to 2026-10-01T00:00Z: the last charge of September.
				Opening: dec("200"), Closing: dec("160"), Balance: dec("260.5"),
				Kinds:  []atsgate.EntryKind{atsgate.EntryJobCharge},
				Totals: totals(atsgate.EntryJobCharge, "-40"),
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, err := f.st.Statement(ctx, id, tt.from, tt.to)
				if err != nil {
					t.Fatalf("Statement: %v", err)
				}
				got := summary{Opening: st.OpeningBalance, Closing: st.ClosingBalance, Balance: st.Balance, Totals: st.Totals}
				entries := statementEntries(t, f.st, id, tt.from, tt.to)
				if st.Count != int64(len(entries)) {
					t.Errorf("Count = %d, want %d", st.Count, len(entries))
				}
				if len(entries) > 0 && st.LastID != entries[len(entries)-1].ID || len(entries) == 0 && st.LastID != 0 {
					t.Errorf("LastID = %d, entries %+v", st.LastID, entries)
				}
				running := st.OpeningBalance
				for _, e := range entries {
					got.Kinds = append(got.Kinds, e.Kind)
					running = running.Add(e.Amount)
					if !running.Equal(e.BalanceAfter) {
						t.Errorf("entry %d: balance after %s, running balance %s", e.ID, e.BalanceAfter, running)
					}
					if (!tt.from.IsZero() && e.CreatedAt.Before(tt.from)) || (!tt.to.IsZero() && !e.CreatedAt.Before(tt.to)) {
						t.Errorf("entry %d at %v is outside [%v, %v)", e.ID, e.CreatedAt, tt.from, tt.to)
					}
				}
				if diff := cmp.Diff(tt.want, got, jobCmp); diff != "" {
					t.Errorf("Statement (-want +got):\n%s", diff)
				}
				if st.Currency != "GHS" || st.EmployerID != id || !st.From.Equal(tt.from) || !st.To.Equal(tt.to) {
					t.Errorf("Statement header = %s %d [%v, %v)", st.Currency, st.EmployerID, st.From, st.To)
				}
			})
		}
		_, err := f.st.Statement(ctx, 999999, time.Time{}, time.Time{})
		wantCode(t, err, atsgate.ENOTFOUND)
		checkLedger(t, f.st, id)
	})
}

func TestLedgerAppendOnly(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{balance: "100"})
		f.create(t, "AO-1")
		before := ledger(t, f.st, f.employer.ID)
		tests := []struct {
			name string
			sql  string
			args []any
		}{
			{"update all", `UPDATE ledger_entries SET amount_minor = 1000000`, nil},
			{"update one employer", `UPDATE ledger_entries SET note = 'edited' WHERE employer_id = $1`, []any{f.employer.ID}},
			{"delete one employer", `DELETE FROM ledger_entries WHERE employer_id = $1`, []any{f.employer.ID}},
			{"delete all", `DELETE FROM ledger_entries`, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := f.st.DB().ExecContext(context.Background(), rebind(f.st, tt.sql), tt.args...); err == nil {
					t.Errorf("%s succeeded; the ledger must be append-only", tt.sql)
				}
			})
		}
		if diff := cmp.Diff(before, ledger(t, f.st, f.employer.ID)); diff != "" {
			t.Errorf("ledger changed (-before +after):\n%s", diff)
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}

func TestInsufficientFunds(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{price: "50", balance: "49.99"})
		id := f.employer.ID

		refuse := func(t *testing.T, externalID, balance string) {
			t.Helper()
			entries := len(ledger(t, f.st, id))
			jobs := count(t, f.st, `SELECT COUNT(*) FROM jobs WHERE employer_id = $1`, id)
			j, created, err := f.st.CreateJob(ctx, f.p, jobInput(externalID))
			wantCode(t, err, atsgate.EFUNDS)
			if j != nil || created {
				t.Errorf("refused create returned job %+v, created %v", j, created)
			}
			var e *atsgate.Error
			if !errors.As(err, &e) || e.Funds == nil {
				t.Fatalf("error %v carries no Funds", err)
			}
			want := atsgate.Funds{Balance: dec(balance), Price: dec("50"), Currency: "GHS"}
			if diff := cmp.Diff(want, *e.Funds, jobCmp); diff != "" {
				t.Errorf("Funds (-want +got):\n%s", diff)
			}
			if n := len(ledger(t, f.st, id)); n != entries {
				t.Errorf("refused create left %d ledger entries", n-entries)
			}
			if n := count(t, f.st, `SELECT COUNT(*) FROM jobs WHERE employer_id = $1`, id); n != jobs {
				t.Errorf("refused create left %d jobs", n-jobs)
			}
			if n := count(t, f.st, `SELECT COUNT(*) FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.employer_id = $1`, id); n != jobs {
				t.Errorf("job events = %d, want one per job (%d)", n, jobs)
			}
			_, err = f.st.Job(ctx, id, externalID)
			wantCode(t, err, atsgate.ENOTFOUND)
		}

		t.Run("below price", func(t *testing.T) {
			refuse(t, "FUNDS-1", "49.99")
			if b := f.balance(t); !b.Equal(dec("49.99")) {
				t.Errorf("balance = %s, want 49.99", b)
			}
		})

		t.Run("retry after top-up", func(t *testing.T) {
			if _, _, err := f.st.TopUp(ctx, id, dec("0.01"), "cli:root", "", ""); err != nil {
				t.Fatal(err)
			}
			j, created, err := f.st.CreateJob(ctx, f.p, jobInput("FUNDS-1"))
			if err != nil || !created {
				t.Fatalf("CreateJob after top-up = created %v, err %v", created, err)
			}
			if b := f.balance(t); !b.IsZero() {
				t.Errorf("balance = %s, want 0", b)
			}
			if !j.AmountCharged.Equal(dec("50")) {
				t.Errorf("AmountCharged = %s, want 50", j.AmountCharged)
			}
		})

		t.Run("zero balance", func(t *testing.T) {
			refuse(t, "FUNDS-2", "0")
		})

		t.Run("replay needs no money", func(t *testing.T) {
			j, created, err := f.st.CreateJob(ctx, f.p, jobInput("FUNDS-1"))
			if err != nil || created || j.ExternalID != "FUNDS-1" {
				t.Errorf("replay with an empty wallet = %v, created %v, err %v", j, created, err)
			}
		})

		t.Run("negative balance", func(t *testing.T) {
			if _, _, err := f.st.Adjust(ctx, id, dec("-20"), "cli:root", "correction", ""); err != nil {
				t.Fatal(err)
			}
			refuse(t, "FUNDS-3", "-20")
			// Topped up above the price the debt is paid first.
			if _, _, err := f.st.TopUp(ctx, id, dec("69.99"), "cli:root", "", ""); err != nil {
				t.Fatal(err)
			}
			refuse(t, "FUNDS-3", "49.99")
			if _, _, err := f.st.TopUp(ctx, id, dec("0.01"), "cli:root", "", ""); err != nil {
				t.Fatal(err)
			}
			f.create(t, "FUNDS-3")
		})
		checkLedger(t, f.st, id)
	})
}

func TestNegativeBalanceFreeJob(t *testing.T) {
	t.Parallel()
	// A negative wallet is refused even when the job costs nothing: the
	// balance is below zero, and zero is the least a charge may leave.
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{price: "0"})
		f.create(t, "FREE-1")
		if _, _, err := f.st.Adjust(ctx, f.employer.ID, dec("-1"), "cli:root", "fee", ""); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.st.CreateJob(ctx, f.p, jobInput("FREE-2"))
		wantCode(t, err, atsgate.EFUNDS)
		checkLedger(t, f.st, f.employer.ID)
	})
}

// TestWalletBound: a wallet never holds more than 10^15 either way, so its
// integer minor units can never overflow (SQLite would turn them into a
// float); the refused top-up changes nothing.
func TestWalletBound(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		f := setup(t, d, fixtureOpts{})
		ctx := context.Background()
		emp := f.employer
		max := decimal.New(1, 15)
		for i := 0; i < 100; i++ {
			if _, _, err := f.st.TopUp(ctx, emp.ID, max, "test", "big", ""); err != nil {
				if got := atsgate.ErrorCode(err); got != atsgate.EINVALID || i != 1 {
					t.Fatalf("top-up %d: %v (code %s); want validation_failed on the second", i+1, err, got)
				}
				break
			}
		}
		st, err := f.st.Statement(ctx, emp.ID, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !st.Balance.Equal(max) || st.Count != 1 {
			t.Fatalf("balance %s with %d entries; want %s with 1", st.Balance, st.Count, max)
		}
		checkLedger(t, f.st, emp.ID)
	})
}

// TestLedgerTimesFollowEntryOrder: an employer's ledger times never go
// backwards in entry order, even when a writer's clock does (another
// instance behind, a clock stepped back, a transaction that waited for the
// wallet's lock). So a statement period cut by time holds a run of whole
// entries, and opening + entries = closing at every boundary.
func TestLedgerTimesFollowEntryOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		t0 := time.Date(2026, 10, 31, 22, 59, 59, 0, time.UTC) // 23:59:59 in Lagos
		clk := newTestClock(t0)
		f := setup(t, d, fixtureOpts{balance: "1000"}, store.WithClock(clk.Now))
		ctx := context.Background()
		clk.Set(t0.Add(2 * time.Second)) // 1 November, Lagos
		f.create(t, "NOVEMBER-1")
		clk.Set(t0) // a writer whose clock is behind
		if _, _, err := f.st.TopUp(ctx, f.employer.ID, dec("5"), "test", "late clock", ""); err != nil {
			t.Fatal(err)
		}
		f.create(t, "LATE-CLOCK")
		all, err := f.st.Statement(ctx, f.employer.ID, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		entries := statementEntries(t, f.st, f.employer.ID, time.Time{}, time.Time{})
		for i := 1; i < len(entries); i++ {
			if entries[i].CreatedAt.Before(entries[i-1].CreatedAt) {
				t.Fatalf("entry %d at %s is before entry %d at %s", entries[i].ID, entries[i].CreatedAt,
					entries[i-1].ID, entries[i-1].CreatedAt)
			}
		}
		for _, cut := range []time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(3 * time.Second)} {
			before, err := f.st.Statement(ctx, f.employer.ID, time.Time{}, cut)
			if err != nil {
				t.Fatal(err)
			}
			after, err := f.st.Statement(ctx, f.employer.ID, cut, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if before.Count+after.Count != all.Count ||
				!after.OpeningBalance.Equal(before.ClosingBalance) || !after.ClosingBalance.Equal(all.Balance) {
				t.Errorf("cut at %s: %d+%d entries of %d, opening %s after closing %s, closing %s of %s", cut,
					before.Count, after.Count, all.Count, after.OpeningBalance,
					before.ClosingBalance, after.ClosingBalance, all.Balance)
			}
		}
		checkLedger(t, f.st, f.employer.ID)
	})
}
