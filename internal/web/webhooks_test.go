package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/seal"
	"github.com/atsgate/atsgate/internal/web"
	"github.com/atsgate/atsgate/internal/webhook"
	"github.com/atsgate/atsgate/internal/wire"
)

// newWebhookAdminEnv is the admin env with the webhook service wired, as
// serve wires it; strict refuses http and private addresses (prod without
// ATSGATE_WEBHOOK_ALLOW_PRIVATE).
func newWebhookAdminEnv(t *testing.T, strict bool) (*adminEnv, *webhook.Service) {
	t.Helper()
	a := newAdminEnv(t)
	box, err := seal.New(seal.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	svc := &webhook.Service{Store: a.st, Box: box, AllowHTTP: !strict, AllowPrivate: !strict}
	d := adminDeps(a.env)
	d.Webhooks = svc
	a.handler = web.NewAdmin(d)
	a.admin = httptest.NewServer(a.handler)
	t.Cleanup(a.admin.Close)
	return a, svc
}

// TestAdminAPIWebhooks: set an endpoint (secret once), read it, see a
// delivery of a job created through the ATS API with its attempts, re-send
// it, disable; bad input is a 422 that changes nothing; roles.
func TestAdminAPIWebhooks(t *testing.T) {
	t.Parallel()
	a, _ := newWebhookAdminEnv(t, false)
	op, fin, rev := atsgate.RoleOperator, atsgate.RoleFinance, atsgate.RoleReviewer
	lagos := "/admin/api/employers/" + itoa(a.lagos.ID) + "/webhook"

	a.api(t, op, "GET", lagos, nil).wantError(t, http.StatusNotFound, "not_found")
	for _, body := range []map[string]any{
		{"url": ""},
		{"url": "ftp://x.example/h"},
		{"url": "https://x.example/h", "events": []string{"job.nope"}},
		{"url": "https://x.example/h", "events": []string{"wallet.low_balance"}},
		{"url": "https://x.example/h", "low_balance_threshold": "1.234"},
	} {
		a.api(t, op, "PUT", lagos, body).wantError(t, http.StatusUnprocessableEntity, "validation_failed")
	}
	a.api(t, op, "GET", lagos, nil).wantError(t, http.StatusNotFound, "not_found")
	a.api(t, op, "PUT", "/admin/api/employers/999999/webhook", map[string]any{"url": "https://x.example/h"}).
		wantError(t, http.StatusNotFound, "not_found")

	var set wire.WebhookSet
	a.api(t, op, "PUT", lagos, map[string]any{"url": "https://hooks.example.com/a", "events": []string{"job.published"}}).
		wantStatus(t, 200).decode(t, &set)
	if !strings.HasPrefix(set.Secret, "whsec_") || set.Webhook.URL != "https://hooks.example.com/a" || !set.Webhook.Active ||
		len(set.Webhook.Events) != 1 {
		t.Fatalf("PUT: %+v", set)
	}
	var again wire.WebhookSet
	a.api(t, op, "PUT", lagos, map[string]any{"url": "https://hooks.example.com/b", "events": []string{"job.published", "wallet.low_balance"},
		"low_balance_threshold": "46000"}).wantStatus(t, 200).decode(t, &again)
	if again.Secret != "" || again.Webhook.LowBalanceThreshold != "46000.00" {
		t.Fatalf("second PUT showed the secret again or lost the threshold: %+v", again)
	}
	var rotated wire.WebhookSet
	a.api(t, op, "PUT", lagos, map[string]any{"url": "https://hooks.example.com/b", "rotate_secret": true}).wantStatus(t, 200).decode(t, &rotated)
	if rotated.Secret == "" || rotated.Secret == set.Secret || len(rotated.Webhook.Events) != len(atsgate.EventTypes)-1 {
		t.Fatalf("rotation: %+v", rotated)
	}
	a.api(t, op, "PUT", lagos, map[string]any{"url": "https://hooks.example.com/b", "events": []string{"job.published", "wallet.low_balance"},
		"low_balance_threshold": "46000"}).wantStatus(t, 200)

	// Lagos has 50000 and auto-publishes nothing: approve a job, and the
	// charge takes the wallet below 45000.
	a.create(t, a.lagos, job("L-1"))
	id := a.storedJob(t, a.lagos.ID, "L-1").ID
	a.api(t, op, "POST", "/admin/api/jobs/"+itoa(id)+"/approve", nil).wantStatus(t, 200)
	var list wire.WebhookDeliveryList
	a.api(t, fin, "GET", "/admin/api/webhooks/deliveries?employer="+itoa(a.lagos.ID), nil).wantStatus(t, 200).decode(t, &list)
	if len(list.Deliveries) != 2 || list.Deliveries[0].Type != "job.published" || list.Deliveries[1].Type != "wallet.low_balance" ||
		list.Deliveries[0].Status != "pending" || list.Deliveries[0].JobID != id {
		t.Fatalf("deliveries: %+v", list)
	}
	var detail wire.WebhookDeliveryDetail
	a.api(t, fin, "GET", "/admin/api/webhooks/deliveries/"+itoa(list.Deliveries[0].ID), nil).wantStatus(t, 200).decode(t, &detail)
	if !strings.Contains(string(detail.Body), `"job":{"external_id":"L-1","state":"published"`) || detail.Attempts == nil {
		t.Fatalf("detail: %+v %s", detail, detail.Body)
	}
	a.api(t, op, "POST", "/admin/api/webhooks/deliveries/"+itoa(list.Deliveries[0].ID)+"/resend", nil).
		wantError(t, http.StatusConflict, "conflict")
	a.api(t, op, "GET", "/admin/api/webhooks/deliveries?status=lost", nil).wantError(t, http.StatusUnprocessableEntity, "validation_failed")
	a.api(t, op, "GET", "/admin/api/webhooks/deliveries/999999", nil).wantError(t, http.StatusNotFound, "not_found")

	// Roles: finance reads, only operators change; reviewers see nothing.
	a.api(t, fin, "PUT", lagos, map[string]any{"url": "https://x.example/h"}).wantError(t, http.StatusForbidden, "forbidden")
	a.api(t, rev, "GET", lagos, nil).wantError(t, http.StatusForbidden, "forbidden")
	a.api(t, rev, "GET", "/admin/api/webhooks/deliveries", nil).wantError(t, http.StatusForbidden, "forbidden")
	a.api(t, fin, "POST", "/admin/api/webhooks/deliveries/1/resend", nil).wantError(t, http.StatusForbidden, "forbidden")
	a.api(t, "", "GET", lagos, nil).wantError(t, http.StatusUnauthorized, "unauthorized")

	var off wire.WebhookResponse
	a.api(t, op, "DELETE", lagos, nil).wantStatus(t, 200).decode(t, &off)
	if off.Webhook.Active {
		t.Fatalf("DELETE left it active: %+v", off)
	}
	var got wire.WebhookResponse
	a.api(t, fin, "GET", lagos, nil).wantStatus(t, 200).decode(t, &got)
	if got.Webhook.Active || got.Webhook.URL != "https://hooks.example.com/b" {
		t.Fatalf("GET after DELETE: %+v", got)
	}
}

// TestAdminAPIWebhookSSRF: with the production rules, an endpoint on a
// private or loopback address, by IP or by name, or over http, is refused.
func TestAdminAPIWebhookSSRF(t *testing.T) {
	t.Parallel()
	a, _ := newWebhookAdminEnv(t, true)
	target := "/admin/api/employers/" + itoa(a.acme.ID) + "/webhook"
	for _, u := range []string{"https://127.0.0.1/h", "https://localhost:8443/h", "https://169.254.169.254/", "https://[::1]/h",
		"https://10.0.0.8/h", "http://93.184.215.14/h"} {
		res := a.api(t, atsgate.RoleOperator, "PUT", target, map[string]any{"url": u})
		res.wantError(t, http.StatusUnprocessableEntity, "validation_failed")
	}
	a.api(t, atsgate.RoleOperator, "GET", target, nil).wantError(t, http.StatusNotFound, "not_found")
}

// TestWebhookPages: an operator sets the endpoint from the employer's
// webhook page (the secret shown once), sees the delivery and its attempt
// on the deliveries pages, and re-sends it.
func TestWebhookPages(t *testing.T) {
	t.Parallel()
	a, svc := newWebhookAdminEnv(t, false)
	ctx := context.Background()
	b := a.browser(t)
	csrf := b.signIn(a.tokens[atsgate.RoleOperator])
	acme := itoa(a.acme.ID)

	status, html := b.page("/admin/employers/" + acme)
	if status != 200 || !strings.Contains(html, `/admin/employers/`+acme+`/webhook`) {
		t.Fatalf("employer page %d has no webhook link", status)
	}
	status, html = b.page("/admin/employers/" + acme + "/webhook")
	if status != 200 || !strings.Contains(html, "No webhook endpoint is set") {
		t.Fatalf("webhook page: %d\n%s", status, html)
	}
	res := b.do("POST", "/admin/employers/"+acme+"/webhook", url.Values{"csrf": {csrf}, "url": {"gopher://x"}})
	res.Body.Close()
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad URL: %d", res.StatusCode)
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer receiver.Close()
	res = b.do("POST", "/admin/employers/"+acme+"/webhook", url.Values{"csrf": {csrf}, "url": {receiver.URL + "/in"},
		"events": {"job.published", "job.disapproved"}})
	body := readAll(t, res)
	if res.StatusCode != 200 || !strings.Contains(body, `id="new-secret">whsec_`) {
		t.Fatalf("set: %d\n%s", res.StatusCode, body)
	}
	ep, err := svc.Webhook(ctx, a.acme.ID)
	if err != nil || ep.URL != receiver.URL+"/in" || len(ep.Events) != 2 {
		t.Fatalf("stored endpoint %+v, %v", ep, err)
	}

	// A disapproval, delivered once (the receiver answers 418).
	id := a.pending(t, "W-1")
	if _, err := a.st.Disapprove(ctx, id, "admin:t", "no"); err != nil {
		t.Fatal(err)
	}
	w := &webhook.Worker{Outbox: a.st, Box: svc.Box, Client: webhook.NewClient(true), Now: a.clock.Now}
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	status, html = b.page("/admin/webhooks?employer=" + acme)
	if status != 200 || !strings.Contains(html, "job.disapproved") || !strings.Contains(html, "HTTP 418") {
		t.Fatalf("deliveries page: %d\n%s", status, html)
	}
	ds, _ := a.st.WebhookDeliveries(ctx, atsgate.DeliveryFilter{EmployerID: a.acme.ID})
	did := itoa(ds[0].ID)
	status, html = b.page("/admin/webhooks/" + did)
	if status != 200 || !strings.Contains(html, `class="attempt"`) || !strings.Contains(html, "418") || strings.Contains(html, `id="resend"`) {
		t.Fatalf("delivery page (pending, no re-send): %d\n%s", status, html)
	}
	res = b.do("POST", "/admin/webhooks/"+did+"/resend", url.Values{"csrf": {csrf}})
	res.Body.Close()
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("re-send of a pending delivery: %d", res.StatusCode)
	}
	if _, err := a.st.Disapprove(ctx, a.pending(t, "W-2"), "admin:t", "no"); err != nil {
		t.Fatal(err)
	}
	res = b.do("POST", "/admin/employers/"+acme+"/webhook/disable", url.Values{"csrf": {csrf}})
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.StatusCode)
	}
	// The disabled endpoint fails what is due; then it can be re-sent.
	a.clock.Advance(2 * 60 * 1e9)
	for range 2 {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	status, html = b.page("/admin/webhooks/" + did)
	if status != 200 || !strings.Contains(html, `id="resend"`) || !strings.Contains(html, "the endpoint was disabled") {
		t.Fatalf("delivery page (failed): %d\n%s", status, html)
	}
	res = b.do("POST", "/admin/webhooks/"+did+"/resend", url.Values{"csrf": {csrf}})
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("re-send: %d", res.StatusCode)
	}
	if d, _, _ := a.st.WebhookDelivery(ctx, ds[0].ID); d.Status != atsgate.DeliveryPending {
		t.Fatalf("after re-send: %+v", d)
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
