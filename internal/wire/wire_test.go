package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the fixture's zone, whatever the machine has

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixture is one country's worth of domain values, with a time zone ahead
// of UTC so local and UTC renderings differ.
type fixture struct {
	ng       atsgate.Country
	own, dft atsgate.Employer // with its own price and commitment; on the country's
	t0       time.Time        // 2026-06-30 23:30:00 UTC, 00:30 on 1 July in Lagos
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	lagos, err := time.LoadLocation("Africa/Lagos")
	if err != nil {
		t.Fatal(err)
	}
	ng := atsgate.Country{ID: 2, Code: "ng", Name: "Nigeria", Hosts: []string{"ng.localhost"}, Currency: "NGN",
		TimeZone: "Africa/Lagos", Price: decimal.NewFromInt(5000), PublicURL: "http://ng.localhost:8080", Location: lagos}
	return fixture{
		ng: ng,
		own: atsgate.Employer{ID: 7, CountryID: 2, Name: "Lagos Ltd", Code: "LAGOSLTD", Active: true,
			Price:           decimal.NewNullDecimal(decimal.RequireFromString("4500.5")),
			MinMonthlySpend: decimal.NewNullDecimal(decimal.NewFromInt(20000)), CommitmentStart: "2026-06"},
		dft: atsgate.Employer{ID: 8, CountryID: 2, Name: "Small Co", Code: "SMALLCO", Active: true, AutoPublish: true},
		t0:  time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC),
	}
}

// TestShapes pins every shape's field names and formats in golden files,
// which are also what the OpenAPI document will be checked against.
func TestShapes(t *testing.T) {
	f := newFixture(t)
	charge := atsgate.LedgerEntry{ID: 31, EmployerID: 7, Kind: atsgate.EntryJobCharge, Amount: decimal.NewFromInt(-4500).Sub(decimal.RequireFromString("0.5")),
		BalanceAfter: decimal.RequireFromString("45499.5"), JobID: 12, Actor: "api:mjm_ng_AbCd", Note: "job L-1", CreatedAt: f.t0}
	minimum := atsgate.LedgerEntry{ID: 40, EmployerID: 7, Kind: atsgate.EntryMinimumSpend, Amount: decimal.NewFromInt(-15499),
		BalanceAfter: decimal.RequireFromString("30000.5"), Period: "2026-06", Actor: "reconcile", CreatedAt: f.t0.Add(time.Hour)}
	topup := atsgate.LedgerEntry{ID: 41, EmployerID: 7, Kind: atsgate.EntryTopup, Amount: decimal.NewFromInt(500),
		BalanceAfter: decimal.RequireFromString("30500.5"), Actor: "admin:olu", Note: "bank transfer", Reference: "GH-2291",
		CreatedAt: f.t0.Add(2 * time.Hour)}
	job := atsgate.Job{ID: 12, EmployerID: 7, CountryID: 2, ExternalID: "L-1", Dialect: atsgate.DialectATS,
		State: atsgate.StatePublished, Title: "Cashier", Description: "<p>Till <b>work</b></p>", Deadline: "2026-08-01",
		ApplyURL: "https://example.com/apply", AmountCharged: decimal.RequireFromString("4500.5"),
		ReceivedAt: f.t0, PublishedAt: f.t0.Add(2 * time.Hour), PublicLink: "http://ng.localhost:8080/jobs/12-cashier"}
	pending := job
	pending.ID, pending.ExternalID, pending.State, pending.PublishedAt, pending.PublicLink = 13, "L-2", atsgate.StatePending, time.Time{}, ""
	pending.Description, pending.DescriptionCut = "<p>Till", true // the queue's preview
	upper := strings.ToUpper
	edited := job
	edited.PendingEdit = true
	proposed := job.Content()
	proposed.Title, proposed.Description = "Head cashier", "<p>Till and <i>safe</i></p>"
	edit := atsgate.PendingEdit{Job: edited, Edit: atsgate.Edit{ID: 5, JobID: 12, Status: atsgate.EditPending,
		Content: proposed, Fields: []string{"title", "description"}, Actor: "api:mjm_ng_AbCd", CreatedAt: f.t0.Add(3 * time.Hour)}}
	key := atsgate.APIKey{ID: 3, EmployerID: 7, Prefix: "mjm_ng_AbCd", CreatedAt: f.t0}
	revoked := atsgate.APIKey{ID: 2, EmployerID: 7, Prefix: "mjm_ng_ZyXw", CreatedAt: f.t0.AddDate(0, -1, 0), RevokedAt: f.t0}
	lineFrom := time.Date(2026, 6, 1, 0, 0, 0, 0, f.ng.Location)
	hook := atsgate.WebhookEndpoint{EmployerID: 7, URL: "https://ats.example.com/hooks", Active: true,
		Events:     []atsgate.EventType{atsgate.EventJobPublished, atsgate.EventWalletLowBalance},
		LowBalance: decimal.NewNullDecimal(decimal.NewFromInt(500)), CreatedAt: f.t0, UpdatedAt: f.t0}
	delivery := atsgate.WebhookDelivery{ID: 71, EventID: "evt_0123", EmployerID: 7, Type: atsgate.EventJobPublished, JobID: 12,
		Status: atsgate.DeliveryDelivered, Attempts: 2, NextAt: f.t0.Add(10 * time.Second), GiveUpAt: f.t0.Add(24 * time.Hour),
		CreatedAt: f.t0, DeliveredAt: f.t0.Add(10 * time.Second), Body: `{"id":"evt_0123","type":"job.published"}`}
	retrying := atsgate.WebhookDelivery{ID: 70, EventID: "evt_0122", EmployerID: 7, Type: atsgate.EventWalletLowBalance,
		Status: atsgate.DeliveryPending, Attempts: 3, NextAt: f.t0.Add(time.Minute), GiveUpAt: f.t0.Add(24 * time.Hour),
		CreatedAt: f.t0.Add(-time.Hour), LastError: "HTTP 503"}

	for _, tt := range []struct {
		name string
		v    any
	}{
		{"country", wire.CountryList{Countries: wire.NewCountries([]atsgate.Country{f.ng})}},
		{"employers", wire.EmployerList{Employers: []wire.Employer{
			wire.NewEmployer(&f.own, &f.ng, atsgate.Money{Amount: decimal.RequireFromString("45499.5"), Currency: "NGN"}),
			wire.NewEmployer(&f.dft, &f.ng, atsgate.Money{}),
		}, NextAfter: 8}},
		{"employer_detail", wire.EmployerDetail{
			Employer: wire.NewEmployer(&f.dft, &f.ng, atsgate.Money{Currency: "NGN"}),
			Keys:     wire.NewAPIKeys([]atsgate.APIKey{key, revoked})}},
		{"issued_key", wire.NewIssuedKey("mjm_ng_AbCdSECRET", &key)},
		{"key_disabled", wire.KeyDisabled{EmployerID: 7, Disabled: true}},
		{"entry", wire.EntryResponse{Entry: wire.NewLedgerEntry(&charge, &f.ng)}},
		{"entry_reference", wire.EntryResponse{Entry: wire.NewLedgerEntry(&topup, &f.ng)}},
		{"statement", func() wire.Statement {
			s := wire.NewStatement(&atsgate.Statement{EmployerID: 7, Currency: "NGN",
				OpeningBalance: decimal.NewFromInt(50000), ClosingBalance: decimal.RequireFromString("30000.5"),
				Balance: decimal.RequireFromString("30000.5"), Count: 3, FirstID: 30, LastID: 40,
				Totals: map[atsgate.EntryKind]decimal.Decimal{atsgate.EntryJobCharge: charge.Amount, atsgate.EntryMinimumSpend: minimum.Amount}},
				[]atsgate.LedgerEntry{charge}, &f.own, &f.ng, "2026-06-01", "")
			s.NextAfter = 31
			return s
		}()},
		{"jobs", wire.JobList{Jobs: []wire.Job{wire.NewJob(&pending, &f.ng, upper)}, NextAfter: 13,
			Edits: []wire.PendingEdit{{Job: wire.NewJob(&edited, &f.ng, upper), Edit: wire.NewEdit(&edit, &f.ng, upper)}}}},
		{"job_detail", wire.JobDetail{Job: wire.NewJob(&edited, &f.ng, upper), Events: wire.NewJobEvents([]atsgate.JobEvent{
			{From: "", To: atsgate.StatePending, Actor: "api:mjm_ng_AbCd", CreatedAt: f.t0},
			{From: atsgate.StatePending, To: atsgate.StatePublished, Actor: "admin:rita", CreatedAt: f.t0.Add(2 * time.Hour)},
			{From: atsgate.StatePublished, To: atsgate.StatePublished, Actor: "api:mjm_ng_AbCd", CreatedAt: f.t0.Add(3 * time.Hour),
				Edit: atsgate.EventEditHeld, Fields: []string{"title", "description"}},
		}, &f.ng), PendingEdit: ptr(wire.NewEdit(&edit, &f.ng, upper))}},
		{"reconciliation", wire.NewReconciliation(&atsgate.Reconciliation{Month: "2026-06", At: f.t0.Add(time.Hour), Lines: []atsgate.ReconciliationLine{
			{EmployerID: 7, EmployerName: "Lagos Ltd", EmployerCode: "LAGOSLTD", CountryID: 2, CountryCode: "ng", TimeZone: "Africa/Lagos",
				Currency: "NGN", From: lineFrom, To: lineFrom.AddDate(0, 1, 0), Minimum: decimal.NewFromInt(20000),
				Spend: decimal.RequireFromString("4500.5"), Shortfall: decimal.RequireFromString("15499.5"),
				Status: atsgate.ReconcileDebited, EntryID: 40, Debited: decimal.RequireFromString("15499.5")},
			{EmployerID: 9, EmployerName: "Broke Ltd", EmployerCode: "BROKE", CountryID: 2, CountryCode: "ng", TimeZone: "Africa/Lagos",
				Currency: "NGN", From: lineFrom, To: lineFrom.AddDate(0, 1, 0), Minimum: decimal.NewFromInt(20000),
				Spend: decimal.Zero, Shortfall: decimal.NewFromInt(20000), Status: atsgate.ReconcileFailed, Debited: decimal.Zero,
				Err: fmt.Errorf("reconcile 2026-06 for employer 9: %w", atsgate.Invalid(map[string]string{"amount": "would take the balance beyond the largest a wallet holds (10^15)"}))},
		}})},
		{"ledger_check", wire.NewLedgerCheck([]atsgate.Breach{{Rule: atsgate.RuleOneRefund, EmployerID: 7, JobID: 12, Message: "job 12 was refunded twice"}})},
		{"logs", wire.LogList{Logs: wire.NewLogEntries([]atsgate.LogEntry{
			{ID: 90, Time: f.t0, CountryID: 2, EmployerID: 7, KeyPrefix: "mjm_ng_AbCd", Dialect: atsgate.DialectATS, Operation: "create",
				ExternalID: "L-1", Status: 201, Duration: 1500 * time.Microsecond, ClientIP: "10.0.0.1", RequestID: "r-1",
				Method: "POST", Path: "/api/ats/jobs", RequestBody: `{"external_id":"L-1"}`, ResponseBody: `{"state":"published"}`},
			{ID: 89, Time: f.t0.Add(-time.Minute), Dialect: atsgate.DialectATS, Operation: "create", Status: 401,
				ErrorCode: "unauthorized", Method: "POST", Path: "/api/ats/jobs"},
			{ID: 88, Time: f.t0.Add(-2 * time.Minute), CountryID: 2, EmployerID: 7, KeyPrefix: "erp_ng_AbCd", Dialect: atsgate.DialectERP,
				Operation: "create_job", Source: "Main_ERP", ExternalID: "LAGOSLTD-2026-0001", Status: 201, Method: "POST",
				Path: "/recruitment/integration/erp/create-job/"},
		}), NextBefore: 88}},
		{"admin_tokens", wire.NewAdminTokens([]atsgate.AdminToken{
			{ID: 2, Name: "rita", Role: atsgate.RoleReviewer, Prefix: "atsadm_Q3xd", CreatedAt: f.t0},
			{ID: 1, Name: "olu", Role: atsgate.RoleOperator, Prefix: "atsadm_Zz01", CreatedAt: f.t0.AddDate(0, -1, 0), RevokedAt: f.t0},
		})},
		{"webhook_set", wire.WebhookSet{Webhook: wire.NewWebhook(&hook), Secret: "whsec_SECRET"}},
		{"webhook", wire.WebhookResponse{Webhook: wire.NewWebhook(&hook)}},
		{"webhook_deliveries", wire.WebhookDeliveryList{Deliveries: wire.NewWebhookDeliveries([]atsgate.WebhookDelivery{delivery, retrying}), NextBefore: 70}},
		{"webhook_delivery", wire.NewWebhookDeliveryDetail(&delivery, []atsgate.WebhookAttempt{
			{ID: 1, DeliveryID: 71, URL: hook.URL, Error: "dial tcp 203.0.113.9:443: connect: connection refused", Duration: 12 * time.Millisecond, CreatedAt: f.t0},
			{ID: 2, DeliveryID: 71, URL: hook.URL, StatusCode: 204, Duration: 85 * time.Millisecond, CreatedAt: f.t0.Add(10 * time.Second)},
		})},
		{"webhook_event_job", wire.NewWebhookEvent("evt_0123", atsgate.EventJobPublished, f.t0.Add(2*time.Hour), 7,
			wire.WebhookData{Job: ptr(wire.NewJobRecord(&job, &f.ng))})},
		{"webhook_event_wallet", wire.NewWebhookEvent("evt_0124", atsgate.EventWalletLowBalance, f.t0, 7,
			wire.WebhookData{Wallet: &wire.WebhookWallet{Balance: "450.00", Currency: "NGN", Threshold: "500.00"}})},
		{"erp_sources", wire.ERPSourceList{Sources: wire.NewERPSources([]atsgate.ERPSource{
			{ID: 4, EmployerID: 7, Name: "Main_ERP", SourceType: "ERP", Description: "SAP", KeyPrefix: "erp_ng_AbCd",
				TrustedIPs: []string{"10.0.0.0/8", "2001:db8::/32"}, Active: true, RequireSignature: true, IntegrationVersion: "1.0",
				SyncStatus: atsgate.SyncError, LastSuccessAt: f.t0, LastFailureAt: f.t0.Add(time.Minute), LastFailureCode: "MISSING_FIELD",
				CreatedAt: f.t0.AddDate(0, -1, 0), UpdatedAt: f.t0},
			{ID: 5, EmployerID: 7, Name: "Backup", SourceType: "ERP", KeyPrefix: "erp_ng_ZyXw", IntegrationVersion: "2.1",
				SyncStatus: atsgate.SyncIdle, CreatedAt: f.t0, UpdatedAt: f.t0},
		})}},
		{"erp_credentials", wire.ERPCredentials{Source: wire.NewERPSource(&atsgate.ERPSource{ID: 5, EmployerID: 7, Name: "Backup",
			SourceType: "ERP", KeyPrefix: "erp_ng_ZyXw", Active: true, IntegrationVersion: "1.0", SyncStatus: atsgate.SyncIdle,
			CreatedAt: f.t0, UpdatedAt: f.t0}), APIKey: "erp_ng_ZyXwSECRET", APISecret: "erpsec_SECRET"}},
		{"issued_admin_token", wire.NewIssuedAdminToken("atsadm_Q3xdSECRET", &atsgate.AdminToken{ID: 2, Name: "rita", Role: atsgate.RoleReviewer, Prefix: "atsadm_Q3xd", CreatedAt: f.t0})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tt.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".json", append(got, '\n'))
		})
	}
}

// TestWriteStatement: a statement streamed entry by entry is the same JSON
// as the statement marshalled whole, and an error of the stream stops it.
func TestWriteStatement(t *testing.T) {
	f := newFixture(t)
	st := &atsgate.Statement{EmployerID: 7, Currency: "NGN", Count: 2, OpeningBalance: decimal.NewFromInt(1),
		Totals: map[atsgate.EntryKind]decimal.Decimal{}}
	var entries []atsgate.LedgerEntry
	for i := int64(1); i <= 2; i++ {
		entries = append(entries, atsgate.LedgerEntry{ID: i, Kind: atsgate.EntryTopup, Amount: decimal.NewFromInt(i),
			BalanceAfter: decimal.NewFromInt(i), Note: "<\"note\">", CreatedAt: f.t0})
	}
	for _, n := range []int{0, 2} {
		whole := wire.NewStatement(st, entries[:n], &f.own, &f.ng, "", "")
		var buf bytes.Buffer
		head := whole
		head.NextAfter = 99 // a page's cursor has no place in a whole statement
		err := wire.WriteStatement(&buf, head, func(yield func(wire.LedgerEntry) error) error {
			for _, e := range whole.Entries {
				if err := yield(e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var got, want any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%d entries: not JSON: %v\n%s", n, err, buf.String())
		}
		b, _ := json.Marshal(whole)
		_ = json.Unmarshal(b, &want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%d entries (-whole +streamed):\n%s", n, diff)
		}
	}
	stop := errors.New("stop")
	err := wire.WriteStatement(io.Discard, wire.Statement{}, func(func(wire.LedgerEntry) error) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want the stream's", err)
	}
}

// TestFailure: people read a domain error whole and only that an internal
// error happened, never its cause.
func TestFailure(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("wrapped: %w", atsgate.Invalid(map[string]string{"amount": "is too large"})), "validation_failed: the request has invalid fields; amount is too large"},
		{atsgate.Internal(errors.New("pq: password authentication failed for user atsgate")), "internal error (its cause is logged)"},
		{errors.New("dial tcp 10.0.0.5:5432: connection refused"), "internal error (its cause is logged)"},
	} {
		if got := wire.Failure(tt.err); got != tt.want {
			t.Errorf("Failure(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestEmployerPrice: price is what a job costs, price_override whether the
// employer's own price or the country's is the one charged.
func TestEmployerPrice(t *testing.T) {
	f := newFixture(t)
	own := wire.NewEmployer(&f.own, &f.ng, atsgate.Money{})
	if own.Price != "4500.50" || own.PriceOverride == nil || *own.PriceOverride != "4500.50" {
		t.Errorf("own price: price %q, override %v; want 4500.50 and 4500.50", own.Price, own.PriceOverride)
	}
	dft := wire.NewEmployer(&f.dft, &f.ng, atsgate.Money{})
	if dft.Price != "5000.00" || dft.PriceOverride != nil || dft.Currency != "NGN" {
		t.Errorf("country price: price %q, override %v, currency %q; want 5000.00, nil, NGN", dft.Price, dft.PriceOverride, dft.Currency)
	}
	b, err := json.Marshal(dft)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"price_override":null`)) || bytes.Contains(b, []byte("min_monthly_spend")) {
		t.Errorf("employer on the country price = %s; want price_override null and no min_monthly_spend", b)
	}
}

// TestTimes: ledger, job and event times are local to the country; system
// instants are UTC; a time that has not happened is "".
func TestTimes(t *testing.T) {
	f := newFixture(t)
	le := wire.NewLedgerEntry(&atsgate.LedgerEntry{CreatedAt: f.t0}, &f.ng)
	if le.Time != "2026-07-01 00:30:00" {
		t.Errorf("entry time = %q, want Lagos local 2026-07-01 00:30:00", le.Time)
	}
	j := wire.NewJob(&atsgate.Job{ReceivedAt: f.t0}, &f.ng, func(s string) string { return s })
	if j.ReceivedDate != "2026-07-01 00:30:00" || j.PublishedDate != "" {
		t.Errorf("job dates = %q, %q; want Lagos local and \"\"", j.ReceivedDate, j.PublishedDate)
	}
	k := wire.NewAPIKeys([]atsgate.APIKey{{CreatedAt: f.t0.In(f.ng.Location)}})[0]
	if k.CreatedAt != "2026-06-30T23:30:00Z" || k.RevokedAt != "" {
		t.Errorf("key times = %q, %q; want UTC RFC 3339 and \"\"", k.CreatedAt, k.RevokedAt)
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func ptr[T any](v T) *T { return &v }
