package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// recordKeys are the fields every job record carries, always as strings.
var recordKeys = []string{"external_id", "state", "received_date", "published_date", "public_link",
	"amount_charged", "title", "deadline", "updated_date"}

var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// checkRecordShape checks a raw job record: every contract field present as
// a string (never null), dates as "Y-m-d H:i:s" or "", amount a decimal string.
func checkRecordShape(t *testing.T, raw map[string]any) {
	t.Helper()
	for _, k := range recordKeys {
		v, ok := raw[k]
		if !ok {
			t.Errorf("record has no %q: %v", k, raw)
			continue
		}
		if _, ok := v.(string); !ok {
			t.Errorf("record %q = %#v, want a string", k, v)
		}
	}
	for k, v := range raw {
		if v == nil {
			t.Errorf("record %q is null, want \"\"", k)
		}
	}
	for _, k := range []string{"received_date", "published_date", "updated_date", "closed_date"} {
		if s, _ := raw[k].(string); s != "" && !dateTimeRE.MatchString(s) {
			t.Errorf("record %q = %q, want Y-m-d H:i:s", k, s)
		}
	}
	if s, _ := raw["amount_charged"].(string); !regexp.MustCompile(`^\d+(\.\d+)?$`).MatchString(s) {
		t.Errorf("amount_charged = %q, want a decimal string", s)
	}
}

func rawRecord(t *testing.T, res response) map[string]any {
	t.Helper()
	var m map[string]any
	res.decode(t, &m)
	return m
}

func TestJobRecordFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	gh := e.employer(t, "gh", "Acme", "1000")
	ng := e.employer(t, "ng", "Lagos Ltd", "100000")
	pub := e.employer(t, "gh", "Published Ltd", "1000", autoPublish, price("12.50"))

	t.Run("create, get and list agree on gh (UTC+0)", func(t *testing.T) {
		res := e.call(t, gh, http.MethodPost, "/api/ats/jobs", job("FMT-1", "deadline", "30 September 2030")).wantStatus(t, http.StatusCreated)
		raw := rawRecord(t, res)
		checkRecordShape(t, raw)
		want := record{ExternalID: "FMT-1", State: "pending_review", ReceivedDate: "2026-06-18 09:14:32",
			AmountCharged: "50", Title: "Software Engineer", Deadline: "2030-09-30", UpdatedDate: "2026-06-18 09:14:32"}
		if diff := cmp.Diff(want, res.record(t)); diff != "" {
			t.Errorf("create record mismatch (-want +got):\n%s", diff)
		}
		got := e.call(t, gh, http.MethodGet, "/api/ats/jobs?external_id=FMT-1", nil).wantStatus(t, http.StatusOK)
		checkRecordShape(t, rawRecord(t, got))
		if diff := cmp.Diff(want, got.record(t)); diff != "" {
			t.Errorf("get record mismatch (-want +got):\n%s", diff)
		}
		list := e.call(t, gh, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK)
		var rawList struct{ Jobs []map[string]any }
		list.decode(t, &rawList)
		if len(rawList.Jobs) != 1 {
			t.Fatalf("list has %d jobs, want 1", len(rawList.Jobs))
		}
		checkRecordShape(t, rawList.Jobs[0])
		if diff := cmp.Diff(want, list.list(t).Jobs[0]); diff != "" {
			t.Errorf("list record mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("dates in ng's time zone (UTC+1)", func(t *testing.T) {
		rec := e.create(t, ng, job("FMT-NG"))
		want := record{ExternalID: "FMT-NG", State: "pending_review", ReceivedDate: "2026-06-18 10:14:32",
			AmountCharged: "5000", Title: "Software Engineer", UpdatedDate: "2026-06-18 10:14:32"}
		if diff := cmp.Diff(want, rec); diff != "" {
			t.Errorf("record mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("auto-publish with a price override", func(t *testing.T) {
		res := e.call(t, pub, http.MethodPost, "/api/ats/jobs", job("FMT-PUB", "title", "Senior Go Engineer (Remote)"))
		res.wantStatus(t, http.StatusCreated)
		checkRecordShape(t, rawRecord(t, res))
		rec := res.record(t)
		if rec.State != "published" || rec.PublishedDate != "2026-06-18 09:14:32" {
			t.Errorf("state %q, published_date %q; want published at 2026-06-18 09:14:32", rec.State, rec.PublishedDate)
		}
		if !regexp.MustCompile(`^https://gh\.example\.test/jobs/\d+-senior-go-engineer-remote$`).MatchString(rec.PublicLink) {
			t.Errorf("public_link = %q", rec.PublicLink)
		}
		if d, err := decimal.NewFromString(rec.AmountCharged); err != nil || !d.Equal(decimal.RequireFromString("12.50")) {
			t.Errorf("amount_charged = %q, want 12.50", rec.AmountCharged)
		}
		if s := e.statement(t, pub.ID); !s.Balance.Equal(decimal.RequireFromString("987.50")) {
			t.Errorf("balance = %s, want 987.50", s.Balance)
		}
	})

	t.Run("closing sets closed_date and updated_date", func(t *testing.T) {
		e.create(t, gh, job("FMT-CLOSE"))
		e.clock.Advance(90 * time.Minute)
		defer e.clock.Set(t0)
		res := e.call(t, gh, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "FMT-CLOSE"})
		res.wantStatus(t, http.StatusOK)
		checkRecordShape(t, rawRecord(t, res))
		rec := res.record(t)
		want := record{ExternalID: "FMT-CLOSE", State: "closed", ReceivedDate: "2026-06-18 09:14:32", AmountCharged: "50",
			Title: "Software Engineer", UpdatedDate: "2026-06-18 10:44:32", ClosedDate: "2026-06-18 10:44:32"}
		if diff := cmp.Diff(want, rec); diff != "" {
			t.Errorf("record mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("a date past midnight in Lagos but not in UTC", func(t *testing.T) {
		e.clock.Set(time.Date(2026, 6, 18, 23, 30, 0, 0, time.UTC))
		defer e.clock.Set(t0)
		rec := e.create(t, ng, job("FMT-MIDNIGHT"))
		if rec.ReceivedDate != "2026-06-19 00:30:00" {
			t.Errorf("received_date = %q, want 2026-06-19 00:30:00", rec.ReceivedDate)
		}
		// "Today" is the country's: 2026-06-18 is already past in Lagos,
		// and still today in Accra.
		e.call(t, ng, http.MethodPost, "/api/ats/jobs", job("FMT-NG-DL", "deadline", "2026-06-18")).
			wantError(t, http.StatusUnprocessableEntity, "validation_failed")
		e.call(t, gh, http.MethodPost, "/api/ats/jobs", job("FMT-GH-DL", "deadline", "2026-06-18")).
			wantStatus(t, http.StatusCreated)
	})

	t.Run("disapproved job shows the reason", func(t *testing.T) {
		e.create(t, gh, job("FMT-DIS"))
		j := e.storedJob(t, gh.ID, "FMT-DIS")
		if _, err := e.st.Disapprove(ctx, j.ID, "test", "Duplicate posting"); err != nil {
			t.Fatal(err)
		}
		rec := e.call(t, gh, http.MethodGet, "/api/ats/jobs?external_id=FMT-DIS", nil).wantStatus(t, http.StatusOK).record(t)
		if rec.State != "disapproved" || rec.DisapprovalReason != "Duplicate posting" {
			t.Errorf("record = %+v, want disapproved with the reason", rec)
		}
	})
}

// TestGolden pins one create response and one list response byte for
// byte (after indentation). Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Golden Ltd", "1000", autoPublish)

	res := e.call(t, emp, http.MethodPost, "/api/ats/jobs.php", job("JOB-2024-0042",
		"title", "Software Engineer", "deadline", "2030-09-30", "apply_url", "https://careers.example.com/apply/42",
		"min_experience", 2, "max_experience", 5))
	res.wantStatus(t, http.StatusCreated)
	golden(t, "create_response.json", res.Body)

	for _, id := range []string{"JOB-2024-0043", "JOB-2024-0044", "JOB-2024-0045"} {
		e.clock.Advance(time.Minute)
		e.create(t, emp, job(id, "title", "Job "+id))
	}
	e.clock.Advance(time.Hour)
	e.call(t, emp, http.MethodPost, "/api/ats/jobs?action=close", map[string]any{"external_id": "JOB-2024-0044"}).wantStatus(t, http.StatusOK)
	list := e.call(t, emp, http.MethodGet, "/api/ats/jobs?limit=3", nil).wantStatus(t, http.StatusOK)
	golden(t, "list_response.json", list.Body)

	var page listBody
	if err := json.Unmarshal(list.Body, &page); err != nil || page.NextCursor == "" {
		t.Fatalf("first page has no next_cursor: %s", list.Body)
	}
	last := e.call(t, emp, http.MethodGet, "/api/ats/jobs?limit=3&cursor="+page.NextCursor, nil).wantStatus(t, http.StatusOK)
	golden(t, "list_last_page.json", last.Body)
}
