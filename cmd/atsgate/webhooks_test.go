package main

import (
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/dbtest"
	"github.com/atsgate/atsgate/internal/wire"
)

// TestCLIWebhook: an operator sets an employer's endpoint (the secret
// printed once), shows it, sees the deliveries of its events, and disables
// it; bad input is refused with the field named.
func TestCLIWebhook(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": dbtest.URL(t, "sqlite"), "USER": "ops", "ATSGATE_ENV": "dev"}
	cli(t, vars, nil, "migrate")
	cli(t, vars, nil, "country", "add", "--code", "gh", "--name", "Ghana", "--host", "gh.localhost",
		"--currency", "GHS", "--timezone", "Africa/Accra", "--price", "50")
	var emp wire.Employer
	cli(t, vars, &emp, "employer", "add", "--country", "gh", "--name", "Acme")
	id := jsonID(emp.ID)

	if msg := cliErr(t, vars, "webhook", "set", "--employer", id, "--url", "https://127.0.0.1/h"); !strings.Contains(msg, "url") {
		t.Fatalf("a loopback endpoint: %s", msg)
	}
	if msg := cliErr(t, vars, "webhook", "set", "--employer", id, "--url", "https://93.184.215.14/h", "--events", "job.nope"); !strings.Contains(msg, "events") {
		t.Fatalf("an unknown event: %s", msg)
	}
	if msg := cliErr(t, vars, "webhook", "set", "--employer", id); !strings.Contains(msg, "missing --url") {
		t.Fatalf("no URL: %s", msg)
	}
	var set wire.WebhookSet
	cli(t, vars, &set, "webhook", "set", "--employer", id, "--url", "https://93.184.215.14/h", "--events", "job.published,wallet.low_balance", "--low-balance", "100")
	if !strings.HasPrefix(set.Secret, "whsec_") || set.Webhook.LowBalanceThreshold != "100.00" || len(set.Webhook.Events) != 2 {
		t.Fatalf("set: %+v", set)
	}
	var again wire.WebhookSet
	cli(t, vars, &again, "webhook", "set", "--employer", id, "--url", "https://93.184.215.14/other", "--events", "job.closed")
	if again.Secret != "" || again.Webhook.URL != "https://93.184.215.14/other" {
		t.Fatalf("second set: %+v", again)
	}
	var shown wire.Webhook
	cli(t, vars, &shown, "webhook", "show", "--employer", id)
	if shown.URL != "https://93.184.215.14/other" || !shown.Active {
		t.Fatalf("show: %+v", shown)
	}
	var ds []wire.WebhookDelivery
	cli(t, vars, &ds, "webhook", "deliveries", "--employer", id)
	if ds == nil || len(ds) != 0 {
		t.Fatalf("deliveries: %+v", ds)
	}
	var off wire.Webhook
	cli(t, vars, &off, "webhook", "disable", "--employer", id)
	if off.Active {
		t.Fatalf("disable: %+v", off)
	}
	if msg := cliErr(t, vars, "webhook", "resend", "--delivery", "42"); !strings.Contains(msg, "not found") {
		t.Fatalf("resend of nothing: %s", msg)
	}
}
