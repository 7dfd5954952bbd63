package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

// Webhooks (SPEC section 9). The outbox is webhook_deliveries: an event
// is inserted in the transaction of the change that causes it, and only
// when the employer's active endpoint selects it, so a rolled-back change
// sends nothing and an employer without an endpoint costs one indexed read
// (hookFor), or, on the job-create path, none (the read rides on the
// wallet debit's RETURNING).

type endpointRow struct {
	EmployerID      int64 `gorm:"primaryKey"`
	URL             string
	Events          string
	Secret          string
	LowBalanceMinor *int64
	Active          bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (endpointRow) TableName() string { return "webhook_endpoints" }

func (r *endpointRow) domain() *atsgate.WebhookEndpoint {
	ep := &atsgate.WebhookEndpoint{EmployerID: r.EmployerID, URL: r.URL, Events: parseEvents(r.Events),
		LowBalance: nullFromMinor(r.LowBalanceMinor), Active: r.Active,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	return ep
}

func parseEvents(s string) []atsgate.EventType {
	var out []atsgate.EventType
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

type deliveryRow struct {
	ID          int64 `gorm:"primaryKey"`
	EventID     string
	EmployerID  int64
	Type        string
	JobID       *int64
	Body        string
	Status      string
	Attempts    int
	NextAt      time.Time
	LeaseUntil  *time.Time
	GiveUpAt    time.Time
	CreatedAt   time.Time
	DeliveredAt *time.Time
	LastError   string
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

func (r *deliveryRow) domain() atsgate.WebhookDelivery {
	d := atsgate.WebhookDelivery{ID: r.ID, EventID: r.EventID, EmployerID: r.EmployerID, Type: atsgate.EventType(r.Type),
		Status: atsgate.DeliveryStatus(r.Status), Attempts: r.Attempts, NextAt: r.NextAt.UTC(), GiveUpAt: r.GiveUpAt.UTC(),
		CreatedAt: r.CreatedAt.UTC(), DeliveredAt: timeOrZero(r.DeliveredAt), LastError: r.LastError, Body: r.Body}
	if r.JobID != nil {
		d.JobID = *r.JobID
	}
	return d
}

type attemptRow struct {
	ID         int64 `gorm:"primaryKey"`
	DeliveryID int64
	URL        string
	StatusCode int
	Error      string
	DurationMS int64
	CreatedAt  time.Time
}

func (attemptRow) TableName() string { return "webhook_attempts" }

// SaveWebhook creates or replaces the employer's endpoint, active. sealed
// is a freshly sealed signing secret: it is stored when the endpoint is
// new or in.RotateSecret, and secretUsed says so. The caller has checked
// in (atsgate.WebhookInput.Check) and the URL's addresses. ENOTFOUND for
// an unknown employer.
func (s *Store) SaveWebhook(ctx context.Context, employerID int64, in atsgate.WebhookInput, sealed string) (*atsgate.WebhookEndpoint, bool, error) {
	now := s.now().UTC()
	var row endpointRow
	used := false
	err := s.transact(ctx, func(tx *gorm.DB) error {
		used = false
		if err := tx.Select("id").Take(&employerRow{}, employerID).Error; err != nil {
			return err
		}
		row = endpointRow{}
		err := s.forUpdate(tx).Take(&row, "employer_id = ?", employerID).Error
		if err != nil && !isNotFound(err) {
			return err
		}
		exists := err == nil
		row.EmployerID, row.URL, row.Events, row.Active, row.UpdatedAt = employerID, in.URL, mustJSON(in.Events), true, now
		row.LowBalanceMinor = nullToMinor(in.LowBalance)
		if !exists || in.RotateSecret {
			row.Secret, used = sealed, true
		}
		if !exists {
			row.CreatedAt = now
			return tx.Create(&row).Error
		}
		return tx.Save(&row).Error
	})
	if err != nil {
		return nil, false, translate(err, fmt.Sprintf("employer %d", employerID))
	}
	return row.domain(), used, nil
}

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// Webhook implements atsgate.Webhooks.
func (s *Store) Webhook(ctx context.Context, employerID int64) (*atsgate.WebhookEndpoint, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row endpointRow
	if err := s.rdb.WithContext(ctx).Take(&row, "employer_id = ?", employerID).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("webhook of employer %d", employerID))
	}
	return row.domain(), nil
}

// DisableWebhook implements atsgate.Webhooks.
func (s *Store) DisableWebhook(ctx context.Context, employerID int64) (*atsgate.WebhookEndpoint, error) {
	now := s.now().UTC()
	var row endpointRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = endpointRow{}
		if err := s.forUpdate(tx).Take(&row, "employer_id = ?", employerID).Error; err != nil {
			return err
		}
		if !row.Active {
			return nil
		}
		row.Active, row.UpdatedAt = false, now
		return tx.Model(&row).Updates(map[string]any{"active": false, "updated_at": now}).Error
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("webhook of employer %d", employerID))
	}
	return row.domain(), nil
}

// WebhookDeliveries implements atsgate.Webhooks.
func (s *Store) WebhookDeliveries(ctx context.Context, f atsgate.DeliveryFilter) ([]atsgate.WebhookDelivery, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, atsgate.Invalid(map[string]string{"status": "must be pending, delivered or failed"})
	}
	limit := f.Limit
	if limit <= 0 || limit > maxPageSize {
		limit = defaultPageSize
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.rdb.WithContext(ctx).Omit("body")
	if f.EmployerID != 0 {
		q = q.Where("employer_id = ?", f.EmployerID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var rows []deliveryRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "webhook deliveries")
	}
	out := make([]atsgate.WebhookDelivery, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// WebhookDelivery implements atsgate.Webhooks.
func (s *Store) WebhookDelivery(ctx context.Context, id int64) (*atsgate.WebhookDelivery, []atsgate.WebhookAttempt, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row deliveryRow
	if err := s.rdb.WithContext(ctx).Take(&row, id).Error; err != nil {
		return nil, nil, translate(err, fmt.Sprintf("webhook delivery %d", id))
	}
	var rows []attemptRow
	if err := s.rdb.WithContext(ctx).Where("delivery_id = ?", id).Order("id").Limit(500).Find(&rows).Error; err != nil {
		return nil, nil, translate(err, "webhook attempts")
	}
	d := row.domain()
	return &d, attemptsFromRows(rows), nil
}

func attemptsFromRows(rows []attemptRow) []atsgate.WebhookAttempt {
	out := make([]atsgate.WebhookAttempt, len(rows))
	for i, r := range rows {
		out[i] = atsgate.WebhookAttempt{ID: r.ID, DeliveryID: r.DeliveryID, URL: r.URL, StatusCode: r.StatusCode,
			Error: r.Error, Duration: time.Duration(r.DurationMS) * time.Millisecond, CreatedAt: r.CreatedAt.UTC()}
	}
	return out
}

// ResendWebhook implements atsgate.Webhooks.
func (s *Store) ResendWebhook(ctx context.Context, id int64) (*atsgate.WebhookDelivery, error) {
	now := s.now().UTC()
	var row deliveryRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = deliveryRow{}
		if err := s.forUpdate(tx).Take(&row, id).Error; err != nil {
			return err
		}
		if row.Status == string(atsgate.DeliveryPending) {
			return atsgate.Errorf(atsgate.ECONFLICT, "webhook delivery %d is pending already; its next attempt is at %s",
				id, row.NextAt.UTC().Format(time.RFC3339))
		}
		row.Status, row.NextAt, row.LeaseUntil, row.GiveUpAt = string(atsgate.DeliveryPending), now, nil, now.Add(atsgate.WebhookRetryWindow)
		return tx.Model(&row).Updates(map[string]any{"status": row.Status, "next_at": now, "lease_until": nil,
			"give_up_at": row.GiveUpAt}).Error
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("webhook delivery %d", id))
	}
	d := row.domain()
	return &d, nil
}

// ClaimWebhooks claims up to n due deliveries for one attempt each: it
// counts the attempt and leases the row until lease has passed, so
// another worker skips it meanwhile and takes it over if this one dies.
// On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so workers
// running at once claim different rows without waiting on each other; on
// SQLite the one writer runs the conditional update alone.
func (s *Store) ClaimWebhooks(ctx context.Context, n int, lease time.Duration) ([]atsgate.WebhookClaim, error) {
	now := s.now().UTC()
	// A read first, on the reader pool: an idle server polls every second,
	// and should not take SQLite's write lock (or write on PostgreSQL) to
	// find nothing.
	var due []int64
	if err := s.bounded(ctx, func(ctx context.Context) error {
		return s.rdb.WithContext(ctx).Model(&deliveryRow{}).Where("status = 'pending' AND next_at <= ?", now).
			Limit(1).Pluck("id", &due).Error
	}); err != nil {
		return nil, translate(err, "due webhook deliveries")
	}
	if len(due) == 0 {
		return nil, nil
	}
	var rows []deliveryRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		rows = nil
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		return tx.Raw(`UPDATE webhook_deliveries SET attempts = attempts + 1, lease_until = ?
WHERE id IN (SELECT id FROM webhook_deliveries
    WHERE status = 'pending' AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
    ORDER BY next_at, id LIMIT ?`+lock+`)
RETURNING id, event_id, employer_id, type, job_id, body, status, attempts, next_at, lease_until, give_up_at, created_at, last_error`,
			now.Add(lease), now, now, n).Scan(&rows).Error
	})
	if err != nil {
		return nil, translate(err, "claim webhook deliveries")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.EmployerID)
	}
	var eps []endpointRow
	if err := s.bounded(ctx, func(ctx context.Context) error {
		return s.db.WithContext(ctx).Where("employer_id IN ?", ids).Find(&eps).Error
	}); err != nil {
		return nil, translate(err, "webhook endpoints")
	}
	byEmployer := map[int64]*endpointRow{}
	for i := range eps {
		byEmployer[eps[i].EmployerID] = &eps[i]
	}
	slices.SortFunc(rows, func(a, b deliveryRow) int { return a.NextAt.Compare(b.NextAt) })
	out := make([]atsgate.WebhookClaim, len(rows))
	for i := range rows {
		out[i] = atsgate.WebhookClaim{Delivery: rows[i].domain()}
		if ep := byEmployer[rows[i].EmployerID]; ep != nil {
			out[i].URL, out[i].SealedSecret, out[i].Active = ep.URL, ep.Secret, ep.Active
		}
	}
	return out, nil
}

// FinishWebhook records the attempt of claim c and moves the delivery on:
// delivered; failed when retryAt is zero or past the retry window; else
// pending again, due at retryAt. It changes nothing (and says so with
// false) when the claim is no longer the delivery's latest (the lease
// expired and another worker claimed it again) or an operator moved it.
func (s *Store) FinishWebhook(ctx context.Context, c *atsgate.WebhookClaim, a atsgate.WebhookAttempt, delivered bool, retryAt time.Time) (atsgate.DeliveryStatus, error) {
	now := s.now().UTC()
	d := &c.Delivery
	status := atsgate.DeliveryPending
	cols := map[string]any{"lease_until": nil, "last_error": truncate(a.Error, 1000)}
	switch {
	case delivered:
		status = atsgate.DeliveryDelivered
		cols["delivered_at"], cols["last_error"] = now, ""
	case retryAt.IsZero() || retryAt.After(d.GiveUpAt):
		status = atsgate.DeliveryFailed
	default:
		cols["next_at"] = retryAt.UTC()
	}
	cols["status"] = string(status)
	err := s.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&deliveryRow{}).Where("id = ? AND attempts = ? AND status = 'pending'", d.ID, d.Attempts).Updates(cols)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			status = ""
		}
		return tx.Create(&attemptRow{DeliveryID: d.ID, URL: truncate(a.URL, 2000), StatusCode: a.StatusCode,
			Error: truncate(a.Error, 1000), DurationMS: a.Duration.Milliseconds(), CreatedAt: now}).Error
	})
	if err != nil {
		return "", translate(err, fmt.Sprintf("webhook delivery %d", d.ID))
	}
	return status, nil
}

// WebhookBacklog is the number of pending deliveries and the age of the
// oldest one that is due (0 when none is), for the metrics.
func (s *Store) WebhookBacklog(ctx context.Context) (pending int64, oldestDue time.Duration, err error) {
	now := s.now().UTC()
	err = s.bounded(ctx, func(ctx context.Context) error {
		q := s.rdb.WithContext(ctx).Model(&deliveryRow{}).Where("status = 'pending'")
		if err := q.Count(&pending).Error; err != nil {
			return err
		}
		var due []deliveryRow
		if err := s.rdb.WithContext(ctx).Select("created_at").Where("status = 'pending' AND next_at <= ?", now).
			Order("next_at").Limit(1).Find(&due).Error; err != nil {
			return err
		}
		if len(due) == 1 {
			oldestDue = max(now.Sub(due[0].CreatedAt), 0)
		}
		return nil
	})
	return pending, oldestDue, translate(err, "webhook backlog")
}

// --- Writing events, inside the transaction of the change. ---

// hookFor returns the employer's active endpoint, nil when it has none.
func hookFor(tx *gorm.DB, employerID int64) (*endpointRow, error) {
	var rows []endpointRow
	if err := tx.Select("employer_id", "events", "low_balance_minor", "active").
		Where("employer_id = ? AND active", employerID).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

func (r *endpointRow) selects(t atsgate.EventType) bool {
	return r != nil && r.Active && slices.Contains(parseEvents(r.Events), t)
}

// newEventID is a fresh, unguessable event ID.
func newEventID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24)
	return "evt_" + hex.EncodeToString(b)
}

// enqueue writes one event to the outbox, due now.
func enqueue(tx *gorm.DB, employerID int64, t atsgate.EventType, jobID *int64, data wire.WebhookData, now time.Time) error {
	id := newEventID()
	body := wire.NewWebhookEvent(id, t, now, employerID, data).Body()
	return tx.Create(&deliveryRow{EventID: id, EmployerID: employerID, Type: string(t), JobID: jobID, Body: string(body),
		Status: string(atsgate.DeliveryPending), NextAt: now, GiveUpAt: now.Add(atsgate.WebhookRetryWindow), CreatedAt: now}).Error
}

// emitJob writes job event t for the job row (as it now stands) when the
// employer's endpoint selects it.
func (s *Store) emitJob(tx *gorm.DB, t atsgate.EventType, row *jobRow, now time.Time) error {
	ep, err := hookFor(tx, row.EmployerID)
	if err != nil || !ep.selects(t) {
		return err
	}
	return s.enqueueJob(tx, t, row, nil, now)
}

// enqueueJob writes job event t with the record of row; c is the job's
// country, read here when nil.
func (s *Store) enqueueJob(tx *gorm.DB, t atsgate.EventType, row *jobRow, c *atsgate.Country, now time.Time) error {
	if c == nil {
		var cr countryRow
		if err := tx.Take(&cr, row.CountryID).Error; err != nil {
			return err
		}
		c = s.countryFromRow(&cr, nil)
	}
	rec := wire.NewJobRecord(jobFromRow(row, c.PublicURL), c)
	id := row.ID
	return enqueue(tx, row.EmployerID, t, &id, wire.WebhookData{Job: &rec}, now)
}

// emitJobs writes job event t for each of the jobs ids whose employer's
// endpoint selects it: one read for the lot.
func (s *Store) emitJobs(tx *gorm.DB, t atsgate.EventType, ids []int64, now time.Time) error {
	var eps []endpointRow
	if err := tx.Select("employer_id", "events", "active").
		Where("active AND employer_id IN (SELECT employer_id FROM jobs WHERE id IN ?)", ids).Find(&eps).Error; err != nil {
		return err
	}
	var employers []int64
	for i := range eps {
		if eps[i].selects(t) {
			employers = append(employers, eps[i].EmployerID)
		}
	}
	if len(employers) == 0 {
		return nil
	}
	var rows []jobRow
	if err := tx.Where("id IN ? AND employer_id IN ?", ids, employers).Order("id").Find(&rows).Error; err != nil {
		return err
	}
	countries := map[int64]*atsgate.Country{}
	for i := range rows {
		c := countries[rows[i].CountryID]
		if c == nil {
			var cr countryRow
			if err := tx.Take(&cr, rows[i].CountryID).Error; err != nil {
				return err
			}
			c = s.countryFromRow(&cr, nil)
			countries[cr.ID] = c
		}
		if err := s.enqueueJob(tx, t, &rows[i], c, now); err != nil {
			return err
		}
	}
	return nil
}

// emitLowBalance writes wallet.low_balance when a debit took the balance
// from at least the endpoint's threshold to below it.
func emitLowBalance(tx *gorm.DB, ep *endpointRow, before, after int64, currency string, now time.Time) error {
	if !ep.selects(atsgate.EventWalletLowBalance) || ep.LowBalanceMinor == nil {
		return nil
	}
	if th := *ep.LowBalanceMinor; before < th || after >= th {
		return nil
	}
	return enqueue(tx, ep.EmployerID, atsgate.EventWalletLowBalance, nil, wire.WebhookData{Wallet: &wire.WebhookWallet{
		Balance: minorText(after), Currency: currency, Threshold: minorText(*ep.LowBalanceMinor)}}, now)
}

// walletDebited writes the wallet events of a debit of the employer's
// wallet from before to after (minor units) outside job creation:
// wallet.minimum_spend_charged when period is set, and wallet.low_balance.
func walletDebited(tx *gorm.DB, employerID, before, after int64, period string, now time.Time) error {
	ep, err := hookFor(tx, employerID)
	if err != nil || ep == nil {
		return err
	}
	var currency string
	if err := tx.Model(&walletRow{}).Where("employer_id = ?", employerID).Pluck("currency", &currency).Error; err != nil {
		return err
	}
	if period != "" && ep.selects(atsgate.EventWalletMinimumCharged) {
		if err := enqueue(tx, employerID, atsgate.EventWalletMinimumCharged, nil, wire.WebhookData{Wallet: &wire.WebhookWallet{
			Balance: minorText(after), Currency: currency, Charge: minorText(before - after), Period: period}}, now); err != nil {
			return err
		}
	}
	return emitLowBalance(tx, ep, before, after, currency, now)
}

func minorText(m int64) string { return fromMinor(m).StringFixed(atsgate.MoneyScale) }

// createHooks writes the events of a job creation: job.published for a
// job published at once (auto-publish), and wallet.low_balance. hook is
// what the debit's RETURNING read of the employer's endpoint (nil: none),
// so an employer without one pays no extra round trip here.
func (s *Store) createHooks(tx *gorm.DB, hook *endpointRow, row *jobRow, c *atsgate.Country, before, after int64, now time.Time) error {
	if hook == nil {
		return nil
	}
	if row.State == string(atsgate.StatePublished) && hook.selects(atsgate.EventJobPublished) {
		if err := s.enqueueJob(tx, atsgate.EventJobPublished, row, c, now); err != nil {
			return err
		}
	}
	return emitLowBalance(tx, hook, before, after, c.Currency, now)
}
