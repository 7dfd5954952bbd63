package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
)

// TestStatementPages reads a period's entries in keyset pages, both ways,
// and streamed across the stream's own page size, and checks that each
// way gives exactly the entries the summary counts: none from outside the
// period, none twice, none posted after the summary.
func TestStatementPages(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		day := func(n int) time.Time { return time.Date(2026, 10, n, 0, 0, 0, 0, time.UTC) }
		clk := newTestClock(day(1).Add(12 * time.Hour))
		f := setup(t, d, fixtureOpts{}, store.WithClock(clk.Now))
		id := f.employer.ID
		topUp := func(n int) {
			t.Helper()
			for i := 0; i < n; i++ {
				if _, _, err := f.st.TopUp(ctx, id, dec("1.25"), "test", "page", ""); err != nil {
					t.Fatal(err)
				}
				clk.Add(time.Second)
			}
		}
		topUp(7) // 1 October
		clk.Set(day(2).Add(time.Hour))
		topUp(1050) // 2 October: more than one of the stream's pages
		clk.Set(day(3).Add(time.Hour))
		topUp(5) // 3 October

		from, to := day(2), day(3)
		st, err := f.st.Statement(ctx, id, from, to)
		if err != nil {
			t.Fatal(err)
		}
		streamed := statementEntries(t, f.st, id, from, to)
		if st.Count != 1050 || len(streamed) != 1050 || st.FirstID != streamed[0].ID || st.LastID != streamed[len(streamed)-1].ID {
			t.Fatalf("count %d, streamed %d, IDs %d–%d", st.Count, len(streamed), st.FirstID, st.LastID)
		}
		if !st.OpeningBalance.Equal(dec("8.75")) || !st.ClosingBalance.Equal(dec("1321.25")) ||
			!st.Totals[atsgate.EntryTopup].Equal(dec("1312.5")) {
			t.Fatalf("opening %s, closing %s, top-ups %s", st.OpeningBalance, st.ClosingBalance, st.Totals[atsgate.EntryTopup])
		}
		ids := func(es []atsgate.LedgerEntry) []int64 {
			out := make([]int64, len(es))
			for i, e := range es {
				out[i] = e.ID
			}
			return out
		}
		want := ids(streamed)
		for i, e := range streamed {
			if e.CreatedAt.Before(from) || !e.CreatedAt.Before(to) || (i > 0 && e.ID <= streamed[i-1].ID) {
				t.Fatalf("streamed entry %d at %s out of the period or out of order", e.ID, e.CreatedAt)
			}
		}

		t.Run("forward", func(t *testing.T) {
			var got []int64
			for after := int64(0); ; {
				page, err := f.st.StatementEntries(ctx, id, from, to, atsgate.EntryPage{AfterID: after, Limit: 97})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ids(page)...)
				if len(page) < 97 {
					break
				}
				after = page[len(page)-1].ID
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pages forward (-want +got):\n%s", diff)
			}
		})
		t.Run("backward", func(t *testing.T) {
			var got []int64
			for before := st.LastID + 1; ; {
				page, err := f.st.StatementEntries(ctx, id, from, to, atsgate.EntryPage{BeforeID: before, Last: true, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				for i := 1; i < len(page); i++ {
					if page[i].ID <= page[i-1].ID {
						t.Fatalf("a page before %d is not in posting order: %v", before, ids(page))
					}
				}
				got = append(ids(page), got...)
				if len(page) < 100 {
					break
				}
				before = page[0].ID
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pages backward (-want +got):\n%s", diff)
			}
		})
		t.Run("open period", func(t *testing.T) {
			all, err := f.st.Statement(ctx, id, time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			page, err := f.st.StatementEntries(ctx, id, time.Time{}, time.Time{}, atsgate.EntryPage{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if all.Count != 1062 || len(page) != 1000 || page[0].Amount.String() != "1.25" {
				t.Fatalf("count %d, first page %d", all.Count, len(page))
			}
			// An entry posted after the summary is not in a stream bounded
			// by it, so the export's rows add up to its totals.
			topUp(1)
			n := 0
			if err := f.st.EachStatementEntry(ctx, id, time.Time{}, time.Time{}, all.LastID, func(*atsgate.LedgerEntry) error {
				n++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if n != 1062 {
				t.Errorf("streamed %d entries up to the summary's last, want 1062", n)
			}
			page, err = f.st.StatementEntries(ctx, id, time.Time{}, time.Time{}, atsgate.EntryPage{AfterID: page[999].ID, BeforeID: all.LastID + 1, Limit: 1000})
			if err != nil || len(page) != 62 || page[61].ID != all.LastID {
				t.Errorf("the last page up to the summary's last: %d entries, %v", len(page), err)
			}
		})
		t.Run("stops at the first error", func(t *testing.T) {
			stop := errors.New("client went away")
			n := 0
			err := f.st.EachStatementEntry(ctx, id, from, to, 0, func(*atsgate.LedgerEntry) error {
				if n++; n == 600 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || n != 600 {
				t.Errorf("err %v after %d entries", err, n)
			}
		})
		t.Run("limits", func(t *testing.T) {
			for _, limit := range []int{0, -1, atsgate.MaxEntryPage + 1} {
				_, err := f.st.StatementEntries(ctx, id, from, to, atsgate.EntryPage{Limit: limit})
				wantCode(t, err, atsgate.EINVALID)
			}
			empty, err := f.st.StatementEntries(ctx, id, day(20), day(21), atsgate.EntryPage{Limit: 10})
			if err != nil || len(empty) != 0 {
				t.Errorf("empty period: %v, %v", empty, err)
			}
		})
	})
}
