package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/metrics"
	"github.com/atsgate/atsgate/internal/seal"
	"github.com/atsgate/atsgate/internal/settings"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/webhook"
	"github.com/atsgate/atsgate/internal/wire"
)

// newWebhooks is the webhook service of the settings over st: secrets
// sealed under ATSGATE_SECRET_KEY, http:// endpoints in dev only, private
// addresses only with ATSGATE_WEBHOOK_ALLOW_PRIVATE.
func newWebhooks(cfg settings.Config, st *store.Store) (*webhook.Service, error) {
	if cfg.Env == "prod" && !cfg.SecretKeySet {
		// A secret sealed under the public development key would protect
		// nothing, and the servers (which have the real key) could not use it.
		return nil, errors.New("ATSGATE_SECRET_KEY must be set in prod to seal webhook signing secrets")
	}
	box, err := seal.New(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("ATSGATE_SECRET_KEY: %w", err)
	}
	return &webhook.Service{Store: st, Box: box, AllowHTTP: cfg.Env == "dev", AllowPrivate: cfg.WebhookAllowPrivate}, nil
}

func (e *env) webhooks(ctx context.Context) (*webhook.Service, error) {
	st, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	return newWebhooks(e.cfg, st)
}

func cmdWebhookSet(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := employerFlag(fs)
	u := fs.String("url", "", "the endpoint URL (https; http in dev)")
	events := fs.String("events", "", "comma-separated event types (default: all)")
	low := fs.String("low-balance", "", "the wallet.low_balance threshold")
	rotate := fs.Bool("rotate-secret", false, "make a new signing secret (the old one stops at once)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "employer", "url"); err != nil {
		return err
	}
	id, err := parseID("employer", *emp)
	if err != nil {
		return err
	}
	in := atsgate.WebhookInput{URL: *u, Events: atsgate.ParseEvents(*events), RotateSecret: *rotate}
	if *low != "" {
		d, err := atsgate.ParseAmount(*low)
		if err != nil {
			return misuse("webhook set", "--low-balance: %v", err)
		}
		in.LowBalance = decimal.NewNullDecimal(d)
	}
	svc, err := e.webhooks(ctx)
	if err != nil {
		return err
	}
	ep, secret, err := svc.SetWebhook(ctx, id, in)
	if err != nil {
		return cliError(err)
	}
	return e.print(wire.WebhookSet{Webhook: wire.NewWebhook(ep), Secret: secret}, func(w io.Writer) {
		printWebhook(w, wire.NewWebhook(ep))
		if secret != "" {
			fmt.Fprintf(w, "\nSigning secret (shown once; verify the Atsgate-Signature header with it):\n\n    %s\n", secret)
		}
	})
}

func printWebhook(w io.Writer, h wire.Webhook) {
	state := "active"
	if !h.Active {
		state = "disabled"
	}
	fmt.Fprintf(w, "employer\t%d\nurl\t%s\nstate\t%s\nevents\t%s\n", h.EmployerID, h.URL, state, strings.Join(h.Events, ", "))
	if h.LowBalanceThreshold != "" {
		fmt.Fprintf(w, "low balance below\t%s\n", h.LowBalanceThreshold)
	}
	fmt.Fprintf(w, "updated\t%s\n", h.UpdatedAt)
}

func cmdWebhookShow(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return webhookEndpoint(ctx, e, fs, args, false)
}

func cmdWebhookDisable(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	return webhookEndpoint(ctx, e, fs, args, true)
}

func webhookEndpoint(ctx context.Context, e *env, fs *flag.FlagSet, args []string, disable bool) error {
	emp := employerFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "employer"); err != nil {
		return err
	}
	id, err := parseID("employer", *emp)
	if err != nil {
		return err
	}
	svc, err := e.webhooks(ctx)
	if err != nil {
		return err
	}
	get := svc.Webhook
	if disable {
		get = svc.DisableWebhook
	}
	ep, err := get(ctx, id)
	if err != nil {
		return cliError(err)
	}
	return e.print(wire.NewWebhook(ep), func(w io.Writer) { printWebhook(w, wire.NewWebhook(ep)) })
}

func cmdWebhookDeliveries(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	emp := fs.String("employer", "", "only this employer's deliveries")
	status := fs.String("status", "", "pending, delivered or failed")
	limit := fs.Int("limit", 50, "how many (at most 200)")
	if err := parse(fs, args); err != nil {
		return err
	}
	f := atsgate.DeliveryFilter{Status: atsgate.DeliveryStatus(*status), Limit: *limit}
	if *emp != "" {
		id, err := parseID("employer", *emp)
		if err != nil {
			return err
		}
		f.EmployerID = id
	}
	if *limit < 1 || *limit > 200 {
		return misuse("webhook deliveries", "--limit must be between 1 and 200")
	}
	svc, err := e.webhooks(ctx)
	if err != nil {
		return err
	}
	ds, err := svc.WebhookDeliveries(ctx, f)
	if err != nil {
		return cliError(err)
	}
	out := wire.NewWebhookDeliveries(ds)
	return e.print(out, func(w io.Writer) {
		fmt.Fprintln(w, "ID\tEVENT\tTYPE\tEMPLOYER\tSTATUS\tATTEMPTS\tCREATED\tLAST ERROR")
		for _, d := range out {
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", d.ID, d.EventID, d.Type, d.EmployerID, d.Status, d.Attempts, d.CreatedAt, d.LastError)
		}
	})
}

func cmdWebhookResend(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	idFlag := fs.String("delivery", "", "delivery ID")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "delivery"); err != nil {
		return err
	}
	id, err := parseID("delivery", *idFlag)
	if err != nil {
		return err
	}
	svc, err := e.webhooks(ctx)
	if err != nil {
		return err
	}
	d, err := svc.ResendWebhook(ctx, id)
	if err != nil {
		return cliError(err)
	}
	return e.print(wire.NewWebhookDelivery(d), func(w io.Writer) {
		fmt.Fprintf(w, "delivery %d (%s, %s) is pending again; a running server sends it within seconds\n", d.ID, d.EventID, d.Type)
	})
}

// startWebhooks runs the webhook delivery worker until ctx ends, and
// returns a function that stops it and waits for the attempts under way
// (each bounded by atsgate.WebhookTimeout), so the store is never closed
// under them. Every instance runs one: claims are leased rows.
func startWebhooks(ctx context.Context, cfg settings.Config, st *store.Store, log *slog.Logger, m *metrics.Metrics) (stop func()) {
	box, err := seal.New(cfg.SecretKey)
	if err != nil { // settings checked the key; keep serving without webhooks rather than not at all
		log.Error("webhook worker not started", "err", err)
		return func() {}
	}
	w := &webhook.Worker{Outbox: st, Box: box, Client: webhook.NewClient(cfg.WebhookAllowPrivate), Log: log, Metrics: m}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	return func() { cancel(); <-done }
}
