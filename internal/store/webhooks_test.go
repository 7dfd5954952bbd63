package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/wire"
)

// setHook gives f's employer an active endpoint selecting events (all when
// none), with a low-balance threshold.
func setHook(t *testing.T, f *fixture, threshold string, events ...atsgate.EventType) {
	t.Helper()
	in := atsgate.WebhookInput{URL: "https://hooks.example.com/atsgate", Events: events,
		LowBalance: decimal.NewNullDecimal(dec(threshold))}
	if err := in.Check(false); err != nil {
		t.Fatal(err)
	}
	ep, used, err := f.st.SaveWebhook(context.Background(), f.employer.ID, in, "sealed-secret")
	if err != nil || !used || !ep.Active {
		t.Fatalf("SaveWebhook = %+v, %v, %v", ep, used, err)
	}
}

// outbox returns the employer's events, oldest first, decoded.
func outbox(t *testing.T, st *store.Store, employerID int64) []wire.WebhookEvent {
	t.Helper()
	ds, err := st.WebhookDeliveries(context.Background(), atsgate.DeliveryFilter{EmployerID: employerID, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []wire.WebhookEvent
	for i := len(ds) - 1; i >= 0; i-- {
		d, _, err := st.WebhookDelivery(context.Background(), ds[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		var ev wire.WebhookEvent
		if err := json.Unmarshal([]byte(d.Body), &ev); err != nil {
			t.Fatalf("body %q: %v", d.Body, err)
		}
		if ev.ID != d.EventID || ev.Type != string(d.Type) || d.Status != atsgate.DeliveryPending {
			t.Fatalf("delivery %+v does not match its body %+v", d, ev)
		}
		out = append(out, ev)
	}
	return out
}

func types(evs []wire.WebhookEvent) string {
	s := make([]string, len(evs))
	for i, e := range evs {
		s[i] = e.Type
		if e.Data.Job != nil {
			s[i] += ":" + e.Data.Job.ExternalID + ":" + e.Data.Job.State
		}
	}
	return strings.Join(s, " ")
}

// TestWebhookEvents: every change of SPEC section 9 writes its event, with
// the job record as the ATS API shows it, and only for an employer whose
// active endpoint selects it.
func TestWebhookEvents(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 9, 10, 9, 0, 0, 0, time.UTC))
		st := openStore(t, d, store.WithClock(clk.Now))
		ke := kenya(t, st)
		f := committedEmployer(t, st, ke, "500", "2026-09", "1000")
		auto := newEmployer(t, st, ke, fixtureOpts{autoPublish: true, balance: "120"})
		silent := newEmployer(t, st, ke, fixtureOpts{autoPublish: true, balance: "1000"}) // no endpoint
		picky := newEmployer(t, st, ke, fixtureOpts{balance: "1000"})
		setHook(t, f, "900")
		setHook(t, auto, "100")
		setHook(t, picky, "0", atsgate.EventJobClosed)

		// Review: approval, disapproval; edits approved and disapproved; close.
		a := f.create(t, "A") // 950: no low balance yet (threshold 900)
		b := f.create(t, "B") // 900: still not below
		if _, err := st.Approve(ctx, a.ID, "admin:t"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Disapprove(ctx, b.ID, "admin:t", "duplicate"); err != nil { // refund: 950
			t.Fatal(err)
		}
		f.update(t, atsgate.JobInput{ExternalID: "A", Title: ptr("Edited title")})
		if _, err := st.Approve(ctx, a.ID, "admin:t"); err != nil {
			t.Fatal(err)
		}
		f.update(t, atsgate.JobInput{ExternalID: "A", Title: ptr("Refused title")})
		if _, err := st.Disapprove(ctx, a.ID, "admin:t", "no"); err != nil {
			t.Fatal(err)
		}
		c := f.create(t, "C") // 900
		f.create(t, "D")      // 850: below 900, from at least it
		f.create(t, "E")      // 800: below already, no second event
		if _, err := st.CloseJob(ctx, f.p, "C"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CloseJob(ctx, f.p, "C"); err != nil { // closing again changes nothing, sends nothing
			t.Fatal(err)
		}
		_ = c

		// Auto-publish create with a deadline, then expiry.
		mustCreate(t, auto, withDeadline("X", "2026-09-20")) // 70: below 100
		mustCreate(t, silent, withDeadline("S", "2026-09-20"))
		clk.Set(localTime(t, ke, "2026-09-21 00:00:00"))
		if n, err := st.ExpireJobs(ctx); err != nil || n != 2 {
			t.Fatalf("ExpireJobs = %d, %v", n, err)
		}

		// A minimum-spend charge: September's spend is 200 of 500.
		clk.Set(localTime(t, ke, "2026-10-01 00:00:01"))
		if _, err := st.Reconcile(ctx, "2026-09", f.employer.ID, "system"); err != nil {
			t.Fatal(err)
		}
		// Picky selects job.closed only.
		pj := picky.create(t, "P")
		if _, err := st.Approve(ctx, pj.ID, "admin:t"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CloseJob(ctx, picky.p, "P"); err != nil {
			t.Fatal(err)
		}

		got := types(outbox(t, st, f.employer.ID))
		want := "job.published:A:published job.disapproved:B:disapproved job.edit_approved:A:published " +
			"job.edit_disapproved:A:published wallet.low_balance job.closed:C:closed wallet.minimum_spend_charged"
		if got != want {
			t.Fatalf("events of f:\n got %s\nwant %s", got, want)
		}
		if got, want := types(outbox(t, st, auto.employer.ID)), "job.published:X:published wallet.low_balance job.expired:X:expired"; got != want {
			t.Fatalf("events of auto:\n got %s\nwant %s", got, want)
		}
		if evs := outbox(t, st, silent.employer.ID); len(evs) != 0 {
			t.Fatalf("an employer without an endpoint got %s", types(evs))
		}
		if got := types(outbox(t, st, picky.employer.ID)); got != "job.closed:P:closed" {
			t.Fatalf("events of picky: %s", got)
		}

		// Payloads: the record as the ATS API's GET shows it then.
		evs := outbox(t, st, f.employer.ID)
		pub := evs[0]
		if pub.EmployerID != f.employer.ID || !strings.HasPrefix(pub.ID, "evt_") || pub.Created != "2026-09-10T09:00:00Z" {
			t.Fatalf("envelope: %+v", pub)
		}
		if pub.Data.Job.PublicLink == "" || pub.Data.Job.PublishedDate != "2026-09-10 12:00:00" || pub.Data.Job.Title != "Senior Go Engineer" {
			t.Fatalf("job.published record: %+v", pub.Data.Job)
		}
		if evs[1].Data.Job.DisapprovalReason != "duplicate" {
			t.Fatalf("job.disapproved record: %+v", evs[1].Data.Job)
		}
		if evs[2].Data.Job.Title != "Edited title" || evs[3].Data.Job.Title != "Edited title" || evs[3].Data.Job.PendingEdit {
			t.Fatalf("edit records: %+v / %+v", evs[2].Data.Job, evs[3].Data.Job)
		}
		if w := evs[4].Data.Wallet; w == nil || w.Balance != "850.00" || w.Threshold != "900.00" || w.Currency != "KES" {
			t.Fatalf("wallet.low_balance: %+v", evs[4].Data.Wallet)
		}
		if w := evs[6].Data.Wallet; w == nil || w.Charge != "300.00" || w.Period != "2026-09" || w.Balance != "500.00" {
			t.Fatalf("wallet.minimum_spend_charged: %+v", evs[6].Data.Wallet)
		}
		job, err := st.Job(ctx, f.employer.ID, "C")
		if err != nil {
			t.Fatal(err)
		}
		if rec := wire.NewJobRecord(job, ke); !reflect.DeepEqual(*evs[5].Data.Job, rec) {
			t.Fatalf("job.closed record\n got %+v\nwant %+v (the ATS GET)", *evs[5].Data.Job, rec)
		}
	})
}

// TestWebhookEndpoint: set, replace (the secret kept unless rotated),
// disable (no more events), and the errors.
func TestWebhookEndpoint(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{autoPublish: true, balance: "1000"})
		_, err := f.st.Webhook(ctx, f.employer.ID)
		wantCode(t, err, atsgate.ENOTFOUND)
		in := atsgate.WebhookInput{URL: "https://a.example.com/h", Events: []atsgate.EventType{atsgate.EventJobPublished}}
		if err := in.Check(false); err != nil {
			t.Fatal(err)
		}
		if _, used, err := f.st.SaveWebhook(ctx, f.employer.ID, in, "s1"); err != nil || !used {
			t.Fatalf("first save: used=%v err=%v", used, err)
		}
		in.URL = "https://b.example.com/h"
		ep, used, err := f.st.SaveWebhook(ctx, f.employer.ID, in, "s2")
		if err != nil || used || ep.URL != "https://b.example.com/h" {
			t.Fatalf("second save: %+v used=%v err=%v", ep, used, err)
		}
		in.RotateSecret = true
		if _, used, err := f.st.SaveWebhook(ctx, f.employer.ID, in, "s3"); err != nil || !used {
			t.Fatalf("rotation: used=%v err=%v", used, err)
		}
		_, _, err = f.st.SaveWebhook(ctx, 999999, in, "s")
		wantCode(t, err, atsgate.ENOTFOUND)

		f.create(t, "ON")
		ep, err = f.st.DisableWebhook(ctx, f.employer.ID)
		if err != nil || ep.Active {
			t.Fatalf("DisableWebhook = %+v, %v", ep, err)
		}
		f.create(t, "OFF")
		if got := types(outbox(t, f.st, f.employer.ID)); got != "job.published:ON:published" {
			t.Fatalf("events: %s", got)
		}
		_, err = f.st.DisableWebhook(ctx, 999999)
		wantCode(t, err, atsgate.ENOTFOUND)
		_, err = f.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{Status: "lost"})
		wantCode(t, err, atsgate.EINVALID)
	})
}

// TestWebhookClaims: a claim leases the row (no one else gets it until the
// lease has passed), counts the attempt, and a finish that lost its claim
// changes nothing; retries stop at the window; a re-send starts again.
func TestWebhookClaims(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		clk := newTestClock(time.Date(2026, 9, 10, 9, 0, 0, 0, time.UTC))
		f := setup(t, d, fixtureOpts{autoPublish: true, balance: "1000"}, store.WithClock(clk.Now))
		setHook(t, f, "0", atsgate.EventJobPublished)
		f.create(t, "A")

		cs, err := f.st.ClaimWebhooks(ctx, 10, time.Minute)
		if err != nil || len(cs) != 1 || cs[0].Delivery.Attempts != 1 || !cs[0].Active || cs[0].SealedSecret != "sealed-secret" {
			t.Fatalf("claim = %+v, %v", cs, err)
		}
		if again, err := f.st.ClaimWebhooks(ctx, 10, time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("claimed while leased: %+v, %v", again, err)
		}
		clk.Add(61 * time.Second) // the first worker died: its lease passes
		taken, err := f.st.ClaimWebhooks(ctx, 10, time.Minute)
		if err != nil || len(taken) != 1 || taken[0].Delivery.Attempts != 2 {
			t.Fatalf("claim after the lease = %+v, %v", taken, err)
		}
		st, err := f.st.FinishWebhook(ctx, &cs[0], atsgate.WebhookAttempt{URL: "u", StatusCode: 200}, true, time.Time{})
		if err != nil || st != "" {
			t.Fatalf("a stale claim's finish = %q, %v; want no change", st, err)
		}
		st, err = f.st.FinishWebhook(ctx, &taken[0], atsgate.WebhookAttempt{URL: "u", StatusCode: 500, Error: "HTTP 500"}, false, clk.Now().Add(time.Hour))
		if err != nil || st != atsgate.DeliveryPending {
			t.Fatalf("retry finish = %q, %v", st, err)
		}
		clk.Add(23 * time.Hour)
		c3, _ := f.st.ClaimWebhooks(ctx, 10, time.Minute)
		if len(c3) != 1 {
			t.Fatalf("due retry not claimed: %+v", c3)
		}
		st, err = f.st.FinishWebhook(ctx, &c3[0], atsgate.WebhookAttempt{URL: "u", Error: "connection refused"}, false, clk.Now().Add(2*time.Hour))
		if err != nil || st != atsgate.DeliveryFailed {
			t.Fatalf("finish past the window = %q, %v; want failed", st, err)
		}
		dl, attempts, err := f.st.WebhookDelivery(ctx, c3[0].Delivery.ID)
		if err != nil || dl.Status != atsgate.DeliveryFailed || dl.Attempts != 3 || len(attempts) != 3 || dl.LastError != "connection refused" {
			t.Fatalf("delivery = %+v, %d attempts, %v", dl, len(attempts), err)
		}
		if attempts[1].StatusCode != 500 {
			t.Fatalf("attempts: %+v", attempts)
		}
		r, err := f.st.ResendWebhook(ctx, dl.ID)
		if err != nil || r.Status != atsgate.DeliveryPending || !r.GiveUpAt.Equal(clk.Now().Add(24*time.Hour)) {
			t.Fatalf("ResendWebhook = %+v, %v", r, err)
		}
		_, err = f.st.ResendWebhook(ctx, dl.ID)
		wantCode(t, err, atsgate.ECONFLICT)
		_, err = f.st.ResendWebhook(ctx, 999999)
		wantCode(t, err, atsgate.ENOTFOUND)
		if n, _, err := f.st.WebhookBacklog(ctx); err != nil || n != 1 {
			t.Fatalf("backlog = %d, %v", n, err)
		}
		c4, _ := f.st.ClaimWebhooks(ctx, 10, time.Minute)
		if len(c4) != 1 {
			t.Fatal("re-sent delivery not claimed")
		}
		if st, err := f.st.FinishWebhook(ctx, &c4[0], atsgate.WebhookAttempt{URL: "u", StatusCode: 204}, true, time.Time{}); err != nil || st != atsgate.DeliveryDelivered {
			t.Fatalf("finish = %q, %v", st, err)
		}
		if n, _, err := f.st.WebhookBacklog(ctx); err != nil || n != 0 {
			t.Fatalf("backlog = %d, %v", n, err)
		}
	})
}

// TestWebhookClaimsConcurrent: workers claiming at once never get the same
// delivery.
func TestWebhookClaimsConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{autoPublish: true, balance: "100000"})
		setHook(t, f, "0", atsgate.EventJobPublished)
		const jobs = 60
		for i := range jobs {
			f.create(t, "J"+strings.Repeat("x", i))
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					cs, err := f.st.ClaimWebhooks(ctx, 4, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(cs) == 0 {
						return
					}
					mu.Lock()
					for _, c := range cs {
						seen[c.Delivery.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != jobs {
			t.Fatalf("claimed %d deliveries, want %d", len(seen), jobs)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("delivery %d claimed %d times", id, n)
			}
		}
	})
}

// TestWebhookLowBalanceConcurrent: concurrent charges that take a wallet
// across its threshold write exactly one wallet.low_balance, with the
// balance the crossing charge left; a refused create writes nothing.
func TestWebhookLowBalanceConcurrent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		f := setup(t, d, fixtureOpts{autoPublish: true, balance: "1000"}) // 20 jobs at 50
		setHook(t, f, "475", atsgate.EventWalletLowBalance)
		var wg sync.WaitGroup
		errs := make(chan error, 25)
		for i := range 25 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := f.st.CreateJob(ctx, f.p, jobInput("LB-"+strings.Repeat("x", i+1)))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		refused := 0
		for err := range errs {
			switch atsgate.ErrorCode(err) {
			case "":
			case atsgate.EFUNDS:
				refused++
			default:
				t.Fatal(err)
			}
		}
		if refused != 5 {
			t.Fatalf("%d creates refused, want 5", refused)
		}
		evs := outbox(t, f.st, f.employer.ID)
		if len(evs) != 1 || evs[0].Type != "wallet.low_balance" || evs[0].Data.Wallet.Balance != "450.00" {
			t.Fatalf("events: %+v", evs)
		}
	})
}

// TestArchivingAnOpenJobSendsClosed: the ERP dialect's ARCHIVED closes an
// open job, and the employer's endpoint gets job.closed for it as for a
// close; archiving it again, or archiving a job already closed, sends
// nothing more.
func TestArchivingAnOpenJobSendsClosed(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		st := openStore(t, d)
		f := newEmployer(t, st, kenya(t, st), fixtureOpts{autoPublish: true, balance: "1000"})
		setHook(t, f, "0")
		mustCreate(t, f, jobInput("OPEN"))
		mustCreate(t, f, jobInput("SHUT"))
		if _, err := st.CloseJob(ctx, f.p, "SHUT"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"OPEN", "OPEN", "SHUT"} {
			if _, err := st.ArchiveJob(ctx, f.p, id); err != nil {
				t.Fatalf("archive %s: %v", id, err)
			}
		}
		want := "job.published:OPEN:published job.published:SHUT:published job.closed:SHUT:closed job.closed:OPEN:closed"
		if got := types(outbox(t, st, f.employer.ID)); got != want {
			t.Fatalf("events:\n got %s\nwant %s", got, want)
		}
	})
}
