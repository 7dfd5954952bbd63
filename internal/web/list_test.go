package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func externalIDs(recs []record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ExternalID
	}
	return out
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "100000")
	other := e.employer(t, "gh", "Other", "1000")
	e.create(t, other, job("OTHER-1"))
	list := func(query string) response {
		return e.call(t, emp, http.MethodGet, "/api/ats/jobs"+query, nil)
	}

	t.Run("empty", func(t *testing.T) {
		res := list("").wantStatus(t, http.StatusOK)
		if got, want := strings.TrimSpace(string(res.Body)), `{"jobs":[],"next_cursor":""}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	})

	var ids []string // in creation order
	for i := 0; i < 7; i++ {
		id := fmt.Sprintf("L-%02d", i)
		e.create(t, emp, job(id))
		ids = append(ids, id)
		e.clock.Advance(time.Second)
	}
	newestFirst := func(ids []string) []string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[len(ids)-1-i] = id
		}
		return out
	}

	t.Run("newest first, default limit", func(t *testing.T) {
		got := list("").wantStatus(t, http.StatusOK).list(t)
		if diff := cmp.Diff(newestFirst(ids), externalIDs(got.Jobs)); diff != "" {
			t.Errorf("order (-want +got):\n%s", diff)
		}
		if got.NextCursor != "" {
			t.Errorf("next_cursor = %q on the only page", got.NextCursor)
		}
	})
	t.Run("jobs.php alias", func(t *testing.T) {
		res := e.call(t, emp, http.MethodGet, "/api/ats/jobs.php?limit=2", nil).wantStatus(t, http.StatusOK).list(t)
		if diff := cmp.Diff(newestFirst(ids)[:2], externalIDs(res.Jobs)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("limit", func(t *testing.T) {
		for _, n := range []int{1, 3, 6, 7, 8, 200} {
			got := list(fmt.Sprintf("?limit=%d", n)).wantStatus(t, http.StatusOK).list(t)
			want := newestFirst(ids)[:min(n, len(ids))]
			if diff := cmp.Diff(want, externalIDs(got.Jobs)); diff != "" {
				t.Errorf("limit=%d (-want +got):\n%s", n, diff)
			}
			if more := n < len(ids); more != (got.NextCursor != "") {
				t.Errorf("limit=%d: next_cursor %q, want one only when more jobs follow", n, got.NextCursor)
			}
		}
	})

	t.Run("paging while jobs are added", func(t *testing.T) {
		var all []string
		for i := 0; i < 25; i++ {
			id := fmt.Sprintf("P-%02d", i)
			e.create(t, emp, job(id))
			all = append(all, id)
		}
		want := newestFirst(append(append([]string{}, ids...), all...))
		var got []string
		cursor, added := "", 0
		for page := 0; ; page++ {
			if page > 50 {
				t.Fatal("paging does not end")
			}
			q := "?limit=4"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			res := list(q).wantStatus(t, http.StatusOK).list(t)
			got = append(got, externalIDs(res.Jobs)...)
			if res.NextCursor == "" {
				break
			}
			cursor = res.NextCursor
			// New jobs arrive between page requests.
			for k := 0; k < 2; k++ {
				e.create(t, emp, job(fmt.Sprintf("NEW-%02d", added)))
				added++
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("walked pages (-want +got):\n%s", diff)
		}
		// A fresh walk sees the new jobs first, then the same tail.
		fresh := list("?limit=200").wantStatus(t, http.StatusOK).list(t)
		if len(fresh.Jobs) != len(want)+added {
			t.Errorf("fresh list has %d jobs, want %d", len(fresh.Jobs), len(want)+added)
		}
	})

	t.Run("state filter", func(t *testing.T) {
		for _, id := range []string{"L-01", "L-03", "L-05"} {
			e.call(t, emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": id}).wantStatus(t, http.StatusOK)
		}
		closed := list("?state=closed").wantStatus(t, http.StatusOK).list(t)
		if diff := cmp.Diff([]string{"L-05", "L-03", "L-01"}, externalIDs(closed.Jobs)); diff != "" {
			t.Errorf("state=closed (-want +got):\n%s", diff)
		}
		// The filter holds across pages.
		var paged []string
		cursor := ""
		for {
			q := "?state=closed&limit=2"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			res := list(q).wantStatus(t, http.StatusOK).list(t)
			paged = append(paged, externalIDs(res.Jobs)...)
			if cursor = res.NextCursor; cursor == "" {
				break
			}
		}
		if diff := cmp.Diff([]string{"L-05", "L-03", "L-01"}, paged); diff != "" {
			t.Errorf("state=closed paged (-want +got):\n%s", diff)
		}
		pending := list("?state=pending_review&limit=200").wantStatus(t, http.StatusOK).list(t)
		for _, r := range pending.Jobs {
			if r.State != "pending_review" {
				t.Errorf("state=pending_review listed %s in %s", r.ExternalID, r.State)
			}
		}
		if len(pending.Jobs) == 0 {
			t.Error("state=pending_review listed nothing")
		}
		none := list("?state=published").wantStatus(t, http.StatusOK).list(t)
		if len(none.Jobs) != 0 {
			t.Errorf("state=published listed %v", externalIDs(none.Jobs))
		}
	})

	t.Run("invalid parameters", func(t *testing.T) {
		cases := []struct{ query, field string }{
			{"?limit=0", "limit"},
			{"?limit=201", "limit"},
			{"?limit=-1", "limit"},
			{"?limit=abc", "limit"},
			{"?limit=1.5", "limit"},
			{"?limit=%201", "limit"},
			{"?state=bogus", "state"},
			{"?state=CLOSED", "state"},
			{"?cursor=garbage!", "cursor"},
			{"?cursor=" + url.QueryEscape("djE6"), "cursor"},     // "v1:"
			{"?cursor=" + url.QueryEscape("djI6MTA"), "cursor"},  // "v2:10"
			{"?cursor=" + url.QueryEscape("djE6YWJj"), "cursor"}, // "v1:abc"
			{"?cursor=MTA", "cursor"},                            // "10"
		}
		for _, tc := range cases {
			t.Run(tc.query, func(t *testing.T) {
				checkInvalid(t, list(tc.query), []string{tc.field})
			})
		}
	})
}
