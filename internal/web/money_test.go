package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// postedEntry is the admin API's answer to a top-up or an adjustment.
type postedEntry struct {
	Entry struct {
		ID                    int64
		Kind, Amount, Note    string
		RunningBalance, Actor string
		Reference             string `json:"reference"`
	} `json:"entry"`
}

// balanceOf reads an employer's wallet straight from the store.
func (a *adminEnv) balanceOf(t testing.TB, employerID int64) decimal.Decimal {
	t.Helper()
	b, err := a.st.Balances(context.Background(), []int64{employerID})
	if err != nil {
		t.Fatal(err)
	}
	return b[employerID].Amount
}

// ledgerLen counts an employer's ledger entries.
func (a *adminEnv) ledgerLen(t testing.TB, employerID int64) int {
	t.Helper()
	st, err := a.st.Statement(context.Background(), employerID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Count)
}

// TestAdminAPIIdempotencyKey: a top-up or adjustment sent again with its
// Idempotency-Key (a retry after a lost reply) answers 200 with the first
// entry and Idempotent-Replayed: true, and credits nothing; the key reused
// for another request is 409; a key that says nothing is 422.
func TestAdminAPIIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	op := atsgate.RoleOperator
	base := "/admin/api/employers/" + itoa(a.acme.ID)
	before := a.balanceOf(t, a.acme.ID)
	entries := a.ledgerLen(t, a.acme.ID)

	body := map[string]any{"amount": "250.50", "note": "bank GH-2291"}
	first := a.api(t, op, "POST", base+"/topup", body, "Idempotency-Key", "GH-2291").wantStatus(t, http.StatusCreated)
	if got := first.Header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("first post: Idempotent-Replayed = %q, want none", got)
	}
	var posted postedEntry
	first.decode(t, &posted)
	if posted.Entry.Reference != "GH-2291" || posted.Entry.Amount != "250.50" {
		t.Errorf("first entry = %+v", posted.Entry)
	}
	for _, key := range []string{"GH-2291", "  GH-2291 "} {
		again := a.api(t, op, "POST", base+"/topup", body, "Idempotency-Key", key).wantStatus(t, http.StatusOK)
		if got := again.Header.Get("Idempotent-Replayed"); got != "true" {
			t.Errorf("replay with key %q: Idempotent-Replayed = %q, want true", key, got)
		}
		if string(again.Body) != string(first.Body) {
			t.Errorf("replay with key %q answered another entry:\n%s\nwant\n%s", key, again.Body, first.Body)
		}
	}

	t.Run("conflicts", func(t *testing.T) {
		for _, tt := range []struct {
			name, path string
			body       any
		}{
			{"another amount", "/topup", map[string]any{"amount": "25.05", "note": "bank GH-2291"}},
			{"another note", "/topup", map[string]any{"amount": "250.50", "note": "cash"}},
			{"an adjustment", "/adjust", body},
		} {
			t.Run(tt.name, func(t *testing.T) {
				a.api(t, op, "POST", base+tt.path, tt.body, "Idempotency-Key", "GH-2291").wantError(t, http.StatusConflict, "conflict")
			})
		}
	})

	t.Run("bad keys", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			keys []string
		}{
			{"blank", []string{"   "}},
			{"sent twice", []string{"A", "B"}},
			{"too long", []string{strings.Repeat("k", atsgate.MaxReferenceLength+1)}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				req, err := http.NewRequest("POST", a.admin.URL+base+"/topup", bodyOf(t, map[string]any{"amount": "1"}))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+a.tokens[op])
				req.Header.Set("Content-Type", "application/json")
				for _, k := range tt.keys {
					req.Header.Add("Idempotency-Key", k)
				}
				e := a.send(t, req).wantError(t, http.StatusUnprocessableEntity, "validation_failed")
				if _, ok := e.Error.Fields["Idempotency-Key"]; !ok {
					t.Errorf("fields = %v, want Idempotency-Key", e.Error.Fields)
				}
			})
		}
	})

	t.Run("adjustment", func(t *testing.T) {
		adj := map[string]any{"amount": "-10", "note": "fee"}
		a.api(t, op, "POST", base+"/adjust", adj, "Idempotency-Key", "FEE-1").wantStatus(t, http.StatusCreated)
		res := a.api(t, op, "POST", base+"/adjust", adj, "Idempotency-Key", "FEE-1").wantStatus(t, http.StatusOK)
		if res.Header.Get("Idempotent-Replayed") != "true" {
			t.Error("adjustment replay without Idempotent-Replayed: true")
		}
	})

	// Without a key every post is new, as before.
	a.api(t, op, "POST", base+"/topup", map[string]any{"amount": "1"}).wantStatus(t, http.StatusCreated)
	a.api(t, op, "POST", base+"/topup", map[string]any{"amount": "1"}).wantStatus(t, http.StatusCreated)

	want := before.Add(decimal.RequireFromString("250.50")).Sub(decimal.NewFromInt(10)).Add(decimal.NewFromInt(2))
	if got := a.balanceOf(t, a.acme.ID); !got.Equal(want) {
		t.Errorf("balance = %s, want %s (each reference credited once)", got, want)
	}
	if got := a.ledgerLen(t, a.acme.ID); got != entries+4 {
		t.Errorf("ledger has %d entries, want %d", got, entries+4)
	}
}

// TestAdminAPIIdempotencyKeyConcurrent: a client retrying a slow top-up
// while the first attempt is still running, many times over, gets one
// 201 and the same entry on every 200, and the wallet is credited once.
func TestAdminAPIIdempotencyKeyConcurrent(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	base := "/admin/api/employers/" + itoa(a.lagos.ID)
	before := a.balanceOf(t, a.lagos.ID)
	const n = 30
	var wg sync.WaitGroup
	gate := make(chan struct{})
	results := make([]response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			results[i] = a.api(t, atsgate.RoleOperator, "POST", base+"/topup",
				map[string]any{"amount": "700", "note": "transfer"}, "Idempotency-Key", "RACE-1")
		}()
	}
	close(gate)
	wg.Wait()
	created, replayed := 0, 0
	ids := map[int64]bool{}
	for i, r := range results {
		var p postedEntry
		switch r.Status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
			replayed++
		default:
			t.Errorf("call %d: status %d: %s", i, r.Status, r.Body)
			continue
		}
		r.decode(t, &p)
		ids[p.Entry.ID] = true
	}
	if created != 1 || replayed != n-1 || len(ids) != 1 {
		t.Errorf("%d created, %d replayed, %d distinct entries; want 1, %d and 1", created, replayed, len(ids), n-1)
	}
	if got, want := a.balanceOf(t, a.lagos.ID), before.Add(decimal.NewFromInt(700)); !got.Equal(want) {
		t.Errorf("balance = %s, want %s", got, want)
	}
	breaches, err := a.st.VerifyLedger(context.Background(), a.lagos.ID)
	if err != nil || len(breaches) > 0 {
		t.Errorf("ledger verify: %+v, %v", breaches, err)
	}
}

var referenceRE = regexp.MustCompile(`action="/admin/employers/\d+/(topup|adjust)"[^>]*>[\s\S]*?name="reference" value="([^"]+)"`)

// formReferences returns the reference of each money form on an employer
// page, by form.
func formReferences(t testing.TB, html string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range referenceRE.FindAllStringSubmatch(html, -1) {
		out[m[1]] = m[2]
	}
	if len(out) != 2 {
		t.Fatalf("want a reference in the top-up and the adjustment form, got %v", out)
	}
	return out
}

// TestAdminMoneyFormsIdempotent: each money form carries its own
// single-use reference, so a double click or a browser's resend of the
// same form posts once; the session's CSRF token, valid for every form,
// could not tell them apart.
func TestAdminMoneyFormsIdempotent(t *testing.T) {
	t.Parallel()
	a := newAdminEnv(t)
	b := a.browser(t)
	csrf := b.signIn(a.tokens[atsgate.RoleOperator])
	page := "/admin/employers/" + itoa(a.acme.ID)
	_, html := b.page(page)
	refs := formReferences(t, html)
	if refs["topup"] == refs["adjust"] {
		t.Fatalf("the two forms share reference %q", refs["topup"])
	}
	_, html = b.page(page)
	if again := formReferences(t, html); again["topup"] == refs["topup"] {
		t.Errorf("a reloaded page repeats reference %q", refs["topup"])
	}
	before := a.balanceOf(t, a.acme.ID)
	entries := a.ledgerLen(t, a.acme.ID)

	form := url.Values{"csrf": {csrf}, "amount": {"125"}, "note": {"bank 42"}, "reference": {refs["topup"]}}
	res := b.post(page+"/topup", form)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != page+"?done=topup" {
		t.Fatalf("first submit: %d to %q", res.StatusCode, loc)
	}
	res = b.post(page+"/topup", form) // the double click
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, page+"?done=topup_again&ref=") {
		t.Fatalf("second submit: %d to %q", res.StatusCode, loc)
	}
	if status, html := b.page(loc); status != 200 || !strings.Contains(html, "was already posted as entry") {
		t.Errorf("page after the second submit: %d, no already-posted message", status)
	}
	if got, want := a.balanceOf(t, a.acme.ID), before.Add(decimal.NewFromInt(125)); !got.Equal(want) {
		t.Errorf("balance = %s, want %s (credited once)", got, want)
	}

	// The same form sent back with the amount changed is not a retry.
	form.Set("amount", "126")
	res = b.do("POST", page+"/topup", form)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusConflict || !strings.Contains(string(body), "already posted with a different amount") {
		t.Errorf("edited resubmit: %d\n%s", res.StatusCode, body)
	}
	if fresh := formReferences(t, string(body)); fresh["topup"] == refs["topup"] {
		t.Error("the conflict page offers the used reference again")
	}

	adj := url.Values{"csrf": {csrf}, "amount": {"-5"}, "note": {"fee"}, "reference": {refs["adjust"]}}
	for i := range 2 {
		if res := b.post(page+"/adjust", adj); res.StatusCode != http.StatusSeeOther {
			t.Errorf("adjust submit %d: %d", i+1, res.StatusCode)
		}
	}

	// A form without its reference is refused, not posted unprotected.
	res = b.do("POST", page+"/topup", url.Values{"csrf": {csrf}, "amount": {"1"}})
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "reload the page") {
		t.Errorf("form without reference: %d\n%s", res.StatusCode, body)
	}

	if got, want := a.balanceOf(t, a.acme.ID), before.Add(decimal.NewFromInt(120)); !got.Equal(want) {
		t.Errorf("balance = %s, want %s", got, want)
	}
	if got := a.ledgerLen(t, a.acme.ID); got != entries+2 {
		t.Errorf("ledger has %d entries, want %d", got, entries+2)
	}
}
