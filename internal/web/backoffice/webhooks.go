package backoffice

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

// Webhooks (docs/webhooks.md): an employer's endpoint, set from the admin
// API or the employer's webhook page, and the deliveries with their
// attempts, which an operator can send again.

// webhookBody is the admin API's PUT body.
type webhookBody struct {
	URL                 string          `json:"url"`
	Events              []string        `json:"events"`
	LowBalanceThreshold json.RawMessage `json:"low_balance_threshold"`
	RotateSecret        bool            `json:"rotate_secret"`
}

func (b *webhookBody) input() (atsgate.WebhookInput, error) {
	in := atsgate.WebhookInput{URL: b.URL, RotateSecret: b.RotateSecret}
	for _, e := range b.Events {
		in.Events = append(in.Events, atsgate.EventType(e))
	}
	if s := strings.TrimSpace(string(b.LowBalanceThreshold)); s != "" && s != "null" && s != `""` {
		d, err := amountOf(b.LowBalanceThreshold)
		if err != nil {
			return in, atsgate.Invalid(map[string]string{"low_balance_threshold": err.Error()})
		}
		in.LowBalance = decimal.NewNullDecimal(d)
	}
	return in, nil
}

func (h *Handler) hooks() (atsgate.Webhooks, error) {
	if h.Webhooks == nil {
		return nil, atsgate.Errorf(atsgate.ENOTFOUND, "webhooks are not configured on this server")
	}
	return h.Webhooks, nil
}

// APIWebhook is an employer's endpoint (never its secret).
func (h *Handler) APIWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	hooks, err := h.hooks()
	if err != nil {
		return err
	}
	ep, err := hooks.Webhook(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.WebhookResponse{Webhook: wire.NewWebhook(ep)})
}

// APISetWebhook creates or replaces an employer's endpoint; the answer
// carries the signing secret when one was made, the only time it is shown.
func (h *Handler) APISetWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var body webhookBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	in, err := body.input()
	if err != nil {
		return err
	}
	ep, secret, err := h.setWebhook(c, id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.WebhookSet{Webhook: wire.NewWebhook(ep), Secret: secret})
}

func (h *Handler) setWebhook(c echo.Context, id int64, in atsgate.WebhookInput) (*atsgate.WebhookEndpoint, string, error) {
	hooks, err := h.hooks()
	if err != nil {
		return nil, "", err
	}
	ep, secret, err := hooks.SetWebhook(c.Request().Context(), id, in)
	if err != nil {
		return nil, "", err
	}
	h.log.InfoContext(c.Request().Context(), "webhook endpoint set", "employer", id, "url", ep.URL,
		"new_secret", secret != "", "actor", adminOf(c).Actor())
	return ep, secret, nil
}

// APIDisableWebhook stops an employer's events.
func (h *Handler) APIDisableWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ep, err := h.disableWebhook(c, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.WebhookResponse{Webhook: wire.NewWebhook(ep)})
}

func (h *Handler) disableWebhook(c echo.Context, id int64) (*atsgate.WebhookEndpoint, error) {
	hooks, err := h.hooks()
	if err != nil {
		return nil, err
	}
	ep, err := hooks.DisableWebhook(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(c.Request().Context(), "webhook endpoint disabled", "employer", id, "actor", adminOf(c).Actor())
	return ep, nil
}

// deliveryFilter reads ?employer=, ?status=, ?before= and ?limit=.
func deliveryFilter(c echo.Context) (atsgate.DeliveryFilter, error) {
	f := atsgate.DeliveryFilter{Status: atsgate.DeliveryStatus(strings.TrimSpace(c.QueryParam("status"))), Limit: adminPageSize}
	var err error
	if f.EmployerID, err = queryID(c, "employer"); err != nil {
		return f, err
	}
	if f.BeforeID, err = queryID(c, "before"); err != nil {
		return f, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return f, atsgate.Invalid(map[string]string{"status": "must be pending, delivered or failed"})
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return f, atsgate.Invalid(map[string]string{"limit": "must be an integer between 1 and 200"})
		}
		f.Limit = n
	}
	return f, nil
}

// deliveries lists the deliveries the query asks for, for the API and
// the page alike; the filter comes back for their next-page links.
func (h *Handler) deliveries(c echo.Context) (atsgate.DeliveryFilter, []atsgate.WebhookDelivery, error) {
	f, err := deliveryFilter(c)
	if err != nil {
		return f, nil, err
	}
	hooks, err := h.hooks()
	if err != nil {
		return f, nil, err
	}
	ds, err := hooks.WebhookDeliveries(c.Request().Context(), f)
	return f, ds, err
}

// APIWebhookDeliveries lists deliveries, newest first.
func (h *Handler) APIWebhookDeliveries(c echo.Context) error {
	f, ds, err := h.deliveries(c)
	if err != nil {
		return err
	}
	out := wire.WebhookDeliveryList{Deliveries: wire.NewWebhookDeliveries(ds)}
	if len(ds) == f.Limit {
		out.NextBefore = ds[len(ds)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// APIWebhookDelivery is one delivery with its body and attempts.
func (h *Handler) APIWebhookDelivery(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	hooks, err := h.hooks()
	if err != nil {
		return err
	}
	d, attempts, err := hooks.WebhookDelivery(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.NewWebhookDeliveryDetail(d, attempts))
}

// APIResendWebhook makes a delivered or failed delivery pending again.
func (h *Handler) APIResendWebhook(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := h.resend(c, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.WebhookDeliveryResponse{Delivery: wire.NewWebhookDelivery(d)})
}

func (h *Handler) resend(c echo.Context, id int64) (*atsgate.WebhookDelivery, error) {
	hooks, err := h.hooks()
	if err != nil {
		return nil, err
	}
	d, err := hooks.ResendWebhook(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(c.Request().Context(), "webhook delivery re-sent", "delivery", id, "event_id", d.EventID, "actor", adminOf(c).Actor())
	return d, nil
}

// --- pages -------------------------------------------------------------------

// WebhookPage is an employer's webhook endpoint with its form and the
// latest deliveries.
func (h *Handler) WebhookPage(c echo.Context) error {
	return h.renderWebhook(c, http.StatusOK, "", nil)
}

// SetWebhookPage sets the endpoint from the page's form and shows a new
// signing secret this once.
func (h *Handler) SetWebhookPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in := atsgate.WebhookInput{URL: formValue(c, "url"), RotateSecret: formValue(c, "rotate_secret") != ""}
	for _, e := range c.Request().PostForm["events"] {
		in.Events = append(in.Events, atsgate.EventType(e))
	}
	if s := strings.TrimSpace(formValue(c, "low_balance_threshold")); s != "" {
		d, err := atsgate.ParseAmount(s)
		if err != nil {
			return h.renderWebhook(c, http.StatusUnprocessableEntity, "",
				atsgate.Invalid(map[string]string{"low_balance_threshold": "must be a decimal amount with at most two decimals"}))
		}
		in.LowBalance = decimal.NewNullDecimal(d)
	}
	_, secret, err := h.setWebhook(c, id, in)
	if atsgate.ErrorCode(err) == atsgate.EINVALID {
		return h.renderWebhook(c, http.StatusUnprocessableEntity, "", err)
	}
	if err != nil {
		return err
	}
	if secret == "" {
		return c.Redirect(http.StatusSeeOther, "/admin/employers/"+strconv.FormatInt(id, 10)+"/webhook?done=webhook_set")
	}
	return h.renderWebhook(c, http.StatusOK, secret, nil)
}

// DisableWebhookPage disables the endpoint.
func (h *Handler) DisableWebhookPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.disableWebhook(c, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/employers/"+strconv.FormatInt(id, 10)+"/webhook?done=webhook_off")
}

func (h *Handler) renderWebhook(c echo.Context, status int, secret string, formErr error) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	hooks, err := h.hooks()
	if err != nil {
		return err
	}
	emp, err := h.bo.Employer(c.Request().Context(), id)
	if err != nil {
		return err
	}
	var hook *wire.Webhook
	ep, err := hooks.Webhook(c.Request().Context(), id)
	switch {
	case err == nil:
		w := wire.NewWebhook(ep)
		hook = &w
	case atsgate.ErrorCode(err) != atsgate.ENOTFOUND:
		return err
	}
	ds, err := hooks.WebhookDeliveries(c.Request().Context(), atsgate.DeliveryFilter{EmployerID: id, Limit: 20})
	if err != nil {
		return err
	}
	selected := map[string]bool{}
	form := map[string]string{}
	if hook != nil {
		for _, e := range hook.Events {
			selected[e] = true
		}
		form["url"], form["low_balance_threshold"] = hook.URL, hook.LowBalanceThreshold
	}
	problem, fields := problemOf(formErr)
	if formErr != nil {
		// Show what was sent, to be corrected.
		form["url"], form["low_balance_threshold"] = formValue(c, "url"), formValue(c, "low_balance_threshold")
		selected = map[string]bool{}
		for _, e := range c.Request().PostForm["events"] {
			selected[e] = true
		}
	}
	return h.render(c, status, "webhook", "Webhook of "+emp.Name, map[string]any{
		"Employer": emp, "Hook": hook, "Events": atsgate.EventTypes, "Selected": selected, "Form": form,
		"Secret": secret, "Deliveries": wire.NewWebhookDeliveries(ds), "Problem": problem, "Fields": fields})
}

// WebhooksPage lists deliveries, newest first, with filters.
func (h *Handler) WebhooksPage(c echo.Context) error {
	f, ds, err := h.deliveries(c)
	if err != nil {
		return err
	}
	next := ""
	if len(ds) == f.Limit {
		q := url.Values{"before": {strconv.FormatInt(ds[len(ds)-1].ID, 10)}}
		if f.EmployerID != 0 {
			q.Set("employer", strconv.FormatInt(f.EmployerID, 10))
		}
		if f.Status != "" {
			q.Set("status", string(f.Status))
		}
		next = "/admin/webhooks?" + q.Encode()
	}
	employer := ""
	if f.EmployerID != 0 {
		employer = strconv.FormatInt(f.EmployerID, 10)
	}
	return h.render(c, http.StatusOK, "webhooks", "Webhook deliveries", map[string]any{
		"Deliveries": wire.NewWebhookDeliveries(ds), "Employer": employer, "Status": string(f.Status),
		"Statuses": []atsgate.DeliveryStatus{atsgate.DeliveryPending, atsgate.DeliveryDelivered, atsgate.DeliveryFailed},
		"Next":     next})
}

// WebhookDeliveryPage is one delivery: its body, its attempts, and the
// re-send button.
func (h *Handler) WebhookDeliveryPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	hooks, err := h.hooks()
	if err != nil {
		return err
	}
	d, attempts, err := hooks.WebhookDelivery(c.Request().Context(), id)
	if err != nil {
		return err
	}
	detail := wire.NewWebhookDeliveryDetail(d, attempts)
	var body bytes.Buffer
	if err := json.Indent(&body, detail.Body, "", "  "); err != nil {
		body.Reset()
		body.WriteString(d.Body)
	}
	return h.render(c, http.StatusOK, "delivery", "Webhook delivery "+strconv.FormatInt(id, 10), map[string]any{
		"D": detail.Delivery, "Attempts": detail.Attempts, "Body": body.String(),
		"CanResend": d.Status != atsgate.DeliveryPending})
}

// ResendWebhookPage sends a delivery again.
func (h *Handler) ResendWebhookPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.resend(c, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+strconv.FormatInt(id, 10)+"?done=resent")
}
