package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/store"
)

// openLogStore opens and migrates a fresh database of dialect d for the
// integration log contract tests.
func openLogStore(t *testing.T, d string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbtest.URL(t, d), store.WithTimeout(testTimeout))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st
}

func TestIntegrationLog(t *testing.T) {
	base := time.Date(2026, 6, 18, 9, 0, 0, 0, time.UTC)
	// entries: employer 1 and 2 alternate; statuses cycle; one per minute.
	statuses := []int{201, 200, 422, 404, 401, 503}
	ops := []string{"create", "get", "create", "get", "list", "update"}
	mk := func(i int) atsgate.LogEntry {
		return atsgate.LogEntry{
			Time: base.Add(time.Duration(i) * time.Minute), CountryID: 7, EmployerID: int64(1 + i%2),
			KeyPrefix: "mjm_gh_AbCd", Dialect: atsgate.DialectATS, Operation: ops[i%len(ops)],
			ExternalID: "JOB-" + string(rune('A'+i)), Status: statuses[i%len(statuses)],
			Duration: 1234567 * time.Nanosecond, ClientIP: "203.0.113.9", RequestID: "req-" + string(rune('a'+i)),
			Method: "POST", Path: "/api/ats/jobs", RequestBody: `{"title":"ünïcode"}`, ResponseBody: `{"ok":true}`,
		}
	}
	for _, d := range dbtest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openLogStore(t, d)
			var all []atsgate.LogEntry
			for i := 0; i < 12; i++ {
				all = append(all, mk(i))
			}
			if err := st.AppendLogs(ctx, all[:5]); err != nil {
				t.Fatalf("AppendLogs: %v", err)
			}
			if err := st.AppendLogs(ctx, all[5:]); err != nil {
				t.Fatalf("AppendLogs: %v", err)
			}
			if err := st.AppendLogs(ctx, nil); err != nil {
				t.Fatalf("AppendLogs(nil): %v", err)
			}
			// AppendLogs does not fill in IDs: read them back, oldest last.
			stored, err := st.Logs(ctx, atsgate.LogFilter{Limit: 100})
			if err != nil || len(stored) != len(all) {
				t.Fatalf("Logs = %d entries, %v; want %d", len(stored), err, len(all))
			}
			for i := range all {
				all[i].ID = stored[len(stored)-1-i].ID
			}

			t.Run("round trip", func(t *testing.T) {
				got, err := st.Logs(ctx, atsgate.LogFilter{Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				want := all[11]
				want.Duration = 1234 * time.Microsecond // stored in whole microseconds
				if diff := cmp.Diff([]atsgate.LogEntry{want}, got); diff != "" {
					t.Errorf("newest entry (-want +got):\n%s", diff)
				}
			})

			ids := func(es []atsgate.LogEntry) []int {
				out := []int{}
				for _, e := range es {
					for i := range all {
						if all[i].ID == e.ID {
							out = append(out, i)
						}
					}
				}
				return out
			}
			tests := []struct {
				name string
				f    atsgate.LogFilter
				want []int // indexes into all, newest first
			}{
				{"everything newest first", atsgate.LogFilter{}, []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
				{"limit", atsgate.LogFilter{Limit: 3}, []int{11, 10, 9}},
				{"employer", atsgate.LogFilter{EmployerID: 2}, []int{11, 9, 7, 5, 3, 1}},
				{"operation", atsgate.LogFilter{Operation: "create"}, []int{8, 6, 2, 0}},
				{"exact status", atsgate.LogFilter{Status: 404}, []int{9, 3}},
				{"4xx", atsgate.LogFilter{StatusClass: 4}, []int{10, 9, 8, 4, 3, 2}},
				{"5xx", atsgate.LogFilter{StatusClass: 5}, []int{11, 5}},
				{"since", atsgate.LogFilter{Since: base.Add(9 * time.Minute)}, []int{11, 10, 9}},
				{"until", atsgate.LogFilter{Until: base.Add(2 * time.Minute)}, []int{1, 0}},
				{"before id", atsgate.LogFilter{BeforeID: all[3].ID}, []int{2, 1, 0}},
				{"combined", atsgate.LogFilter{EmployerID: 1, StatusClass: 4, Since: base.Add(3 * time.Minute)}, []int{10, 8, 4}},
				{"nothing", atsgate.LogFilter{EmployerID: 99}, []int{}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got, err := st.Logs(ctx, tc.f)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
						t.Errorf("Logs(%+v) (-want +got):\n%s", tc.f, diff)
					}
				})
			}

			t.Run("keyset paging", func(t *testing.T) {
				var seen []int
				f := atsgate.LogFilter{EmployerID: 1, Limit: 2}
				for page := 0; page < 10; page++ {
					got, err := st.Logs(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) == 0 {
						break
					}
					seen = append(seen, ids(got)...)
					f.BeforeID = got[len(got)-1].ID
				}
				if diff := cmp.Diff([]int{10, 8, 6, 4, 2, 0}, seen); diff != "" {
					t.Errorf("pages (-want +got):\n%s", diff)
				}
			})

			t.Run("large bodies and batches", func(t *testing.T) {
				big := make([]atsgate.LogEntry, 1200) // more than one INSERT
				for i := range big {
					big[i] = atsgate.LogEntry{Time: base.Add(time.Hour), EmployerID: 50, Status: 201,
						RequestBody: strings.Repeat("x", atsgate.MaxLoggedBody)}
				}
				if err := st.AppendLogs(ctx, big); err != nil {
					t.Fatalf("AppendLogs(1200): %v", err)
				}
				got, err := st.Logs(ctx, atsgate.LogFilter{EmployerID: 50, Limit: 5000})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1000 {
					t.Errorf("Logs with limit 5000 returned %d entries, want the cap of 1000", len(got))
				}
				if len(got[0].RequestBody) != atsgate.MaxLoggedBody {
					t.Errorf("body length = %d, want %d", len(got[0].RequestBody), atsgate.MaxLoggedBody)
				}
			})

			t.Run("purge", func(t *testing.T) {
				n, err := st.PurgeLogs(ctx, base.Add(6*time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				if n != 6 {
					t.Errorf("PurgeLogs removed %d, want 6", n)
				}
				got, err := st.Logs(ctx, atsgate.LogFilter{Until: base.Add(time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]int{11, 10, 9, 8, 7, 6}, ids(got)); diff != "" {
					t.Errorf("after purge (-want +got):\n%s", diff)
				}
				n, err = st.PurgeLogs(ctx, base.Add(6*time.Minute))
				if err != nil || n != 0 {
					t.Errorf("second purge = %d, %v; want 0, nil", n, err)
				}
			})
		})
	}
}
