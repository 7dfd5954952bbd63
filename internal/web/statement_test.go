package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// TestStatementPagedAndStreamed: with no period, the statement API answers
// a page of entries and a cursor, not the whole ledger; following the
// cursor lists every entry once; the CSV holds every entry and adds up;
// the page walks the ledger with keyset links both ways.
func TestStatementPagedAndStreamed(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	const n = 1234
	id := manyEntries(t, a, n)
	base := "/admin/api/employers/" + itoa(id) + "/statement"

	type page struct {
		ClosingBalance string `json:"closing_balance"`
		EntryCount     int64  `json:"entry_count"`
		Entries        []struct {
			ID             int64  `json:"id"`
			Amount         string `json:"amount"`
			RunningBalance string `json:"running_balance"`
		} `json:"entries"`
		NextAfter int64 `json:"next_after"`
	}
	t.Run("api pages", func(t *testing.T) {
		var ids []int64
		running := decimal.Zero
		target := base
		for pages := 0; ; pages++ {
			var p page
			a.api(t, atsgate.RoleFinance, "GET", target, nil).wantStatus(t, 200).decode(t, &p)
			if p.EntryCount != n || p.ClosingBalance != "1234.00" {
				t.Fatalf("page %d: entry_count %d, closing %s", pages, p.EntryCount, p.ClosingBalance)
			}
			if pages == 0 && len(p.Entries) != 500 {
				t.Fatalf("first page has %d entries, want the default 500", len(p.Entries))
			}
			for _, e := range p.Entries {
				ids = append(ids, e.ID)
				running = running.Add(decimal.RequireFromString(e.Amount))
				if running.StringFixed(2) != e.RunningBalance {
					t.Fatalf("entry %d: running balance %s, want %s", e.ID, e.RunningBalance, running.StringFixed(2))
				}
			}
			if p.NextAfter == 0 {
				break
			}
			if p.NextAfter != p.Entries[len(p.Entries)-1].ID {
				t.Fatalf("next_after %d is not the page's last entry", p.NextAfter)
			}
			target = base + "?after=" + itoa(p.NextAfter)
		}
		if len(ids) != n {
			t.Fatalf("%d entries over the pages, want %d", len(ids), n)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("entry %d after %d: out of order or twice", ids[i], ids[i-1])
			}
		}
		var p page
		a.api(t, atsgate.RoleFinance, "GET", base+"?limit=1000&after="+itoa(ids[233]), nil).wantStatus(t, 200).decode(t, &p)
		if len(p.Entries) != 1000 || p.Entries[0].ID != ids[234] || p.NextAfter != 0 {
			t.Fatalf("limit=1000 after the 234th: %d entries from %d, next_after %d", len(p.Entries), p.Entries[0].ID, p.NextAfter)
		}
		for _, bad := range []string{"limit=0", "limit=1001", "limit=x", "after=-1"} {
			a.api(t, atsgate.RoleFinance, "GET", base+"?"+bad, nil).wantError(t, 422, "validation_failed")
		}
	})

	t.Run("csv", func(t *testing.T) {
		res := a.api(t, atsgate.RoleFinance, "GET", base+"?format=csv", nil).wantStatus(t, 200)
		rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
		if err != nil {
			t.Fatalf("parse CSV: %v", err)
		}
		if len(rows) != 1+1+n+1+len(atsgate.EntryKinds) {
			t.Fatalf("%d rows, want header, opening, %d entries, closing and the totals", len(rows), n)
		}
		running := decimal.Zero
		for _, r := range rows[2 : 2+n] {
			running = running.Add(decimal.RequireFromString(r[3]))
			if r[4] != running.StringFixed(2) {
				t.Fatalf("entry %s: running balance %s, want %s", r[1], r[4], running.StringFixed(2))
			}
		}
		closing := rows[2+n]
		sum := decimal.Zero
		for _, r := range rows[3+n:] {
			sum = sum.Add(decimal.RequireFromString(r[3]))
		}
		if closing[2] != "closing_balance" || closing[4] != "1234.00" || sum.StringFixed(2) != "1234.00" {
			t.Fatalf("closing %v, totals add up to %s", closing, sum.StringFixed(2))
		}
	})

	t.Run("page", func(t *testing.T) {
		b := a.browser(t)
		b.signIn(a.tokens[atsgate.RoleFinance])
		entryRow := regexp.MustCompile(`data-entry="(\d+)"`)
		link := func(html_, rel string) string {
			m := regexp.MustCompile(`<a href="([^"]+)"[^>]*>` + rel).FindStringSubmatch(html_)
			if m == nil {
				return ""
			}
			return html.UnescapeString(m[1])
		}
		var ids []int64
		path := "/admin/employers/" + itoa(id) + "?from=&to="
		var last string
		for pages := 0; path != ""; pages++ {
			status, body := b.page(path)
			if status != 200 {
				t.Fatalf("%s: %d", path, status)
			}
			rows := entryRow.FindAllStringSubmatch(body, -1)
			if len(rows) > 100 || (len(rows) < 100 && len(ids)+len(rows) != n) {
				t.Fatalf("%s: %d rows", path, len(rows))
			}
			for _, m := range rows {
				v, _ := strconv.ParseInt(m[1], 10, 64)
				ids = append(ids, v)
			}
			if pages == 0 {
				if !strings.Contains(body, fmt.Sprintf("%d entries", n)) || link(body, "‹ Previous") != "" {
					t.Fatalf("first page: no count, or a Previous link")
				}
				last = link(body, "Last »")
			}
			path = link(body, "Next ›")
		}
		if len(ids) != n || ids[0] >= ids[n-1] {
			t.Fatalf("%d entries over the pages, want %d", len(ids), n)
		}
		// Back from the last page: the same entries, page by page.
		_, body := b.page(last)
		rows := entryRow.FindAllStringSubmatch(body, -1)
		if len(rows) != 100 || rows[99][1] != strconv.FormatInt(ids[n-1], 10) || link(body, "Next ›") != "" {
			t.Fatalf("last page: %d rows ending %v", len(rows), rows[len(rows)-1])
		}
		_, body = b.page(link(body, "‹ Previous"))
		rows = entryRow.FindAllStringSubmatch(body, -1)
		if len(rows) != 100 || rows[0][1] != strconv.FormatInt(ids[n-200], 10) {
			t.Fatalf("the page before the last starts at %v, want %d", rows[0], ids[n-200])
		}
	})
}

// TestStatementCSVOutlivesWriteTimeout: a CSV export that takes longer
// than the listener's WriteTimeout, because it is long and its client
// reads slowly, is still sent whole: each flush moves the deadline on.
func TestStatementCSVOutlivesWriteTimeout(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	const n = 30000
	id := manyEntries(t, a, n)
	srv := httptest.NewUnstartedServer(a.handler)
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL+"/admin/api/employers/"+itoa(id)+"/statement?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens[atsgate.RoleFinance])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	start := time.Now()
	var body bytes.Buffer
	buf := make([]byte, 16<<10)
	for {
		k, err := res.Body.Read(buf)
		body.Write(buf[:k])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes in %s: %v", body.Len(), time.Since(start), err)
		}
		time.Sleep(2 * time.Millisecond) // a slow reader
	}
	if took := time.Since(start); took < srv.Config.WriteTimeout {
		t.Logf("the download took %s, within the write timeout: the test proves little", took)
	}
	rows, err := csv.NewReader(&body).ReadAll()
	if err != nil || len(rows) != 1+1+n+1+len(atsgate.EntryKinds) || rows[2+n][2] != "closing_balance" {
		t.Fatalf("%d rows (%v), want all %d entries and the totals", len(rows), err, n)
	}
}
