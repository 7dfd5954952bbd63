package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/atsgate/atsgate/internal/atsgate"
)

type jobRow struct {
	ID                 int64 `gorm:"primaryKey"`
	EmployerID         int64
	CountryID          int64
	ExternalID         string
	Dialect            string
	State              string
	Title              string
	Description        string
	Deadline           string
	ApplyURL           string `gorm:"column:apply_url"`
	ApplyEmail         string
	MinExperience      int64
	MaxExperience      int64
	Salary             int64
	Specialization     int64
	ShowCompanyName    bool
	States             string
	Qualifications     string
	Extras             string
	AmountChargedMinor int64
	PublicPath         string
	ReceivedAt         time.Time
	UpdatedAt          time.Time
	PublishedAt        *time.Time
	ClosedAt           *time.Time
	DisapprovedAt      *time.Time
	DisapprovalReason  string
	PendingEdit        bool
	ArchivedAt         *time.Time
}

func (jobRow) TableName() string { return "jobs" }

// jobColumns are jobRow's columns in the order of its fields, for the
// statements that scan rows without GORM (scan).
const jobColumns = `id, employer_id, country_id, external_id, dialect, state, title, description, deadline,
apply_url, apply_email, min_experience, max_experience, salary, specialization, show_company_name,
states, qualifications, extras, amount_charged_minor, public_path, received_at, updated_at,
published_at, closed_at, disapproved_at, disapproval_reason, pending_edit, archived_at`

// scan is where each of jobColumns goes, then extra.
func (r *jobRow) scan(extra ...any) []any {
	return append([]any{&r.ID, &r.EmployerID, &r.CountryID, &r.ExternalID, &r.Dialect, &r.State, &r.Title,
		&r.Description, &r.Deadline, &r.ApplyURL, &r.ApplyEmail, &r.MinExperience, &r.MaxExperience, &r.Salary,
		&r.Specialization, &r.ShowCompanyName, &r.States, &r.Qualifications, &r.Extras, &r.AmountChargedMinor,
		&r.PublicPath, &r.ReceivedAt, &r.UpdatedAt, &r.PublishedAt, &r.ClosedAt, &r.DisapprovedAt,
		&r.DisapprovalReason, &r.PendingEdit, &r.ArchivedAt}, extra...)
}

type eventRow struct {
	ID        int64 `gorm:"primaryKey"`
	JobID     int64
	FromState string
	ToState   string
	Actor     string
	Reason    string
	CreatedAt time.Time
	Edit      string
	Fields    string
}

func (eventRow) TableName() string { return "job_events" }

func jobFromRow(r *jobRow, publicURL string) *atsgate.Job {
	j := &atsgate.Job{
		ID: r.ID, EmployerID: r.EmployerID, CountryID: r.CountryID, ExternalID: r.ExternalID,
		Dialect: r.Dialect, State: atsgate.JobState(r.State), Title: r.Title, Description: r.Description,
		Deadline: r.Deadline, ApplyURL: r.ApplyURL, ApplyEmail: r.ApplyEmail,
		MinExperience: r.MinExperience, MaxExperience: r.MaxExperience, Salary: r.Salary,
		Specialization: r.Specialization, ShowCompanyName: r.ShowCompanyName,
		AmountCharged: fromMinor(r.AmountChargedMinor), ReceivedAt: r.ReceivedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		PublishedAt: timeOrZero(r.PublishedAt), ClosedAt: timeOrZero(r.ClosedAt),
		DisapprovedAt: timeOrZero(r.DisapprovedAt), DisapprovalReason: r.DisapprovalReason,
		PendingEdit: r.PendingEdit, ArchivedAt: timeOrZero(r.ArchivedAt),
	}
	// Most jobs leave these empty, and lists do not read them (""): a list
	// of 200 jobs need not decode 600 empty JSON values.
	if len(r.States) > 2 {
		_ = json.Unmarshal([]byte(r.States), &j.States)
	}
	if len(r.Qualifications) > 2 {
		_ = json.Unmarshal([]byte(r.Qualifications), &j.Qualifications)
	}
	if len(r.Extras) > 2 {
		_ = json.Unmarshal([]byte(r.Extras), &j.Extras)
	}
	if r.PublicPath != "" && j.State != atsgate.StatePending && j.State != atsgate.StateDisapproved {
		j.PublicLink = publicURL + r.PublicPath
	}
	return j
}

// content is the row's visible content.
func (r *jobRow) content() atsgate.Content {
	j := jobFromRow(r, "")
	return j.Content()
}

// setContent writes c into the row's columns.
func (r *jobRow) setContent(c atsgate.Content) {
	r.Title, r.Description, r.Deadline, r.ApplyURL, r.ApplyEmail = c.Title, c.Description, c.Deadline, c.ApplyURL, c.ApplyEmail
	r.MinExperience, r.MaxExperience, r.Salary, r.Specialization = c.MinExperience, c.MaxExperience, c.Salary, c.Specialization
	r.ShowCompanyName = c.ShowCompanyName
	r.States, r.Qualifications, r.Extras = idsJSON(c.States), idsJSON(c.Qualifications), "{}"
	if len(c.Extras) > 0 {
		r.Extras = mustJSON(c.Extras)
	}
}

// idsJSON keeps "[]" for no IDs, never "null": the column's default, and
// what jobFromRow skips decoding.
func idsJSON(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	return mustJSON(ids)
}

// apply copies the fields present in in onto the row, by the domain's
// update rule.
func (r *jobRow) apply(in *atsgate.JobInput) {
	r.setContent(r.content().Apply(in))
}

// contentColumns are the columns of a job's visible content, what an
// update or an approved edit writes.
var contentColumns = []string{"title", "description", "deadline", "apply_url", "apply_email",
	"min_experience", "max_experience", "salary", "specialization", "show_company_name",
	"states", "qualifications", "extras"}

// saveContent writes the row's content, updated_at, pending_edit and
// public_path. The public path follows the live title of a published
// job, so the public site can redirect a stale slug to the current one.
func saveContent(tx *gorm.DB, row *jobRow) error {
	if row.State == string(atsgate.StatePublished) {
		row.PublicPath = atsgate.PublicPath(row.ID, row.Title)
	}
	cols := append(slices.Clone(contentColumns), "updated_at", "pending_edit", "public_path")
	return tx.Model(row).Select(cols).Updates(row).Error
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only slices of ints and maps of strings reach here
	}
	return string(b)
}

// CreateJob implements atsgate.Jobs. The insert, the wallet debit, the
// ledger entry and the event are one transaction; the debit is a single
// conditional UPDATE, and a concurrent duplicate is stopped by the unique
// (employer_id, external_id) constraint, so no interleaving can charge twice
// or overdraw.
func (s *Store) CreateJob(ctx context.Context, p *atsgate.Principal, in atsgate.JobInput) (*atsgate.Job, bool, error) {
	return s.createJob(ctx, p, in, atsgate.DialectATS, nil)
}

// createJob is the one create path of both dialects. prepare, when not
// nil, runs in the transaction just before the insert and may refuse or
// change the row: the ERP dialect's JOB_EXISTS check and job ID
// allocation (erp.go). With prepare, an external ID that turns out to be
// taken is a conflict, not a replay: the caller did not choose it.
func (s *Store) createJob(ctx context.Context, p *atsgate.Principal, in atsgate.JobInput, dialect string,
	prepare func(tx *gorm.DB, row *jobRow) error) (_ *atsgate.Job, _ bool, err error) {
	now := s.now().UTC()
	price := toMinor(p.Employer.JobPrice(&p.Country))
	if prepare == nil {
		// A replay of a job this process has seen stored is the job as it
		// is now, read like a get: no insert attempt, no function call.
		if s.known.has(p.Employer.ID, in.ExternalID) {
			if job, err := s.Job(ctx, p.Employer.ID, in.ExternalID); err == nil {
				return job, false, nil
			}
		}
		defer func() {
			if err == nil {
				s.known.add(p.Employer.ID, in.ExternalID)
			}
		}()
	}
	if s.dialect == Postgres && dialect == atsgate.DialectATS && prepare == nil {
		job, created, err := s.createJobPG(ctx, p, in, dialect, price, now)
		if !errors.Is(err, errTransactionForm) {
			return job, created, err
		}
	}
	var row jobRow
	created := false
	err = s.transact(ctx, func(tx *gorm.DB) error {
		created = false
		row = jobRow{
			EmployerID: p.Employer.ID, CountryID: p.Country.ID, ExternalID: in.ExternalID, Dialect: dialect,
			State: string(atsgate.StatePending), ShowCompanyName: true, States: "[]", Qualifications: "[]",
			Extras: "{}", AmountChargedMinor: price, ReceivedAt: now, UpdatedAt: now,
		}
		row.apply(&in)
		if p.Employer.AutoPublish {
			row.State = string(atsgate.StatePublished)
			row.PublishedAt = &now
		}
		if prepare != nil {
			if err := prepare(tx, &row); err != nil {
				return err
			}
		}
		res := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "employer_id"}, {Name: "external_id"}},
			DoNothing: true,
		}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 && prepare != nil {
			return atsgate.Errorf(atsgate.ECONFLICT, "job ID %s was taken concurrently; retry", row.ExternalID)
		}
		if res.RowsAffected == 0 {
			// Another create with this external_id committed first: replay it.
			row = jobRow{}
			return tx.Where("employer_id = ? AND external_id = ?", p.Employer.ID, in.ExternalID).Take(&row).Error
		}
		// Everything but the debit first: the debit locks the employer's
		// wallet row until commit, and every create of that employer
		// queues on it, so the less that follows it the better.
		if row.State == string(atsgate.StatePublished) {
			row.PublicPath = atsgate.PublicPath(row.ID, row.Title)
			if err := tx.Model(&row).Update("public_path", row.PublicPath).Error; err != nil {
				return err
			}
		}
		if err := tx.Create(&eventRow{JobID: row.ID, ToState: row.State, Actor: p.Actor(), CreatedAt: now}).Error; err != nil {
			return err
		}
		balance, at, ok, hook, err := s.debit(tx, p.Employer.ID, price, now)
		if err != nil {
			return err
		}
		if !ok {
			return &atsgate.Error{Code: atsgate.EFUNDS,
				Message: "the wallet balance does not cover the price of a job; top up and retry",
				Funds:   &atsgate.Funds{Balance: fromMinor(balance), Price: fromMinor(price), Currency: p.Country.Currency}}
		}
		created = true
		if err := tx.Create(&ledgerRow{EmployerID: p.Employer.ID, Kind: string(atsgate.EntryJobCharge),
			AmountMinor: -price, BalanceAfterMinor: balance, JobID: &row.ID, Actor: p.Actor(),
			Note: "job " + truncate(row.ExternalID, 100), CreatedAt: at}).Error; err != nil {
			return err
		}
		// Webhooks (webhooks.go): nothing to do, and no round trip, unless
		// the debit's RETURNING found an active endpoint.
		return s.createHooks(tx, hook, &row, &p.Country, balance+price, balance, now)
	})
	if err != nil {
		return nil, false, translate(err, "job "+row.ExternalID)
	}
	return jobFromRow(&row, p.Country.PublicURL), created, nil
}

// errTransactionForm is createJobPG's answer when the create has steps
// the function does not run (the employer's webhook events): nothing was
// written, and createJob runs the transaction form.
var errTransactionForm = errors.New("store: this create needs the transaction form")

// fundsCode is the SQLSTATE atsgate_create_job raises when the wallet does
// not cover the price, with the balance in DETAIL.
const fundsCode = "AT402"

// createJobPG is createJob on PostgreSQL in one round trip: the function
// atsgate_create_job (migration 00009) runs the transaction form's steps,
// in the same order, inside one statement, called through pgx itself
// (see pgxRead) on the one pool. For an employer with an active webhook
// endpoint it writes nothing and returns errTransactionForm: those
// creates also write outbox rows (createHooks), built in Go. Creates with steps of their own
// (other dialects) keep the transaction form.
func (s *Store) createJobPG(ctx context.Context, p *atsgate.Principal, in atsgate.JobInput, dialect string, price int64, now time.Time) (*atsgate.Job, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	row := jobRow{ShowCompanyName: true, States: "[]", Qualifications: "[]", Extras: "{}"}
	row.apply(&in)
	state := atsgate.StatePending
	if p.Employer.AutoPublish {
		state = atsgate.StatePublished
	}
	bare := atsgate.PublicPath(1, "") // "/jobs/1": the prefix, then the ID
	pathPrefix := strings.TrimSuffix(bare, "1")
	pathSuffix := strings.TrimPrefix(atsgate.PublicPath(1, row.Title), bare)
	var row2 jobRow
	var created bool
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = s.pgxRead(ctx, func(c *pgx.Conn) error {
			return c.QueryRow(ctx, createJobSQL,
				p.Employer.ID, p.Country.ID, in.ExternalID, dialect, string(state),
				row.Title, row.Description, row.Deadline, row.ApplyURL, row.ApplyEmail,
				row.MinExperience, row.MaxExperience, row.Salary, row.Specialization,
				row.ShowCompanyName, row.States, row.Qualifications, row.Extras,
				price, pathPrefix, pathSuffix, now, p.Actor(), "job "+truncate(in.ExternalID, 100)).Scan(row2.scan(&created)...)
		})
		if !retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		// An employer with a webhook endpoint: nothing was written.
		return nil, false, errTransactionForm
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == fundsCode {
		balance, _ := strconv.ParseInt(pg.Detail, 10, 64)
		return nil, false, &atsgate.Error{Code: atsgate.EFUNDS,
			Message: "the wallet balance does not cover the price of a job; top up and retry",
			Funds:   &atsgate.Funds{Balance: fromMinor(balance), Price: fromMinor(price), Currency: p.Country.Currency}}
	}
	if err != nil {
		return nil, false, translate(err, "job "+in.ExternalID)
	}
	return jobFromRow(&row2, p.Country.PublicURL), created, nil
}

// createJobSQL calls atsgate_create_job and reads its job's columns by
// name (jobColumns, then created), whatever order the table has them in.
var createJobSQL = func() string {
	cols := strings.Split(jobColumns, ",")
	for i, c := range cols {
		cols[i] = "(f.job)." + strings.TrimSpace(c)
	}
	return `SELECT ` + strings.Join(cols, ", ") + `, f.created FROM atsgate_create_job(
$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) AS f`
}()

// walletAfter is a wallet as a balance change left it.
type walletAfter struct {
	BalanceMinor int64
	UpdatedAt    time.Time
	// HookEvents and HookLowMinor are the employer's active webhook
	// endpoint (webhooks.go), read by debit's RETURNING; nil when none.
	HookEvents   *string
	HookLowMinor *int64
}

// walletClock keeps each wallet's ledger times in step with its entries:
// a change is stamped with now, or with the wallet's previous change when
// that is later (another instance's clock ahead, a clock stepped back, or
// a transaction that took its time before it got the wallet's lock). The
// wallet row is locked by the same statement, so an employer's entries get
// non-decreasing times in the order of their IDs, and a period cut by time
// is a prefix of the ledger: statements and monthly spend never count an
// entry on both sides of a boundary.
const walletClock = `updated_at = CASE WHEN updated_at > ? THEN updated_at ELSE ? END`

// debitHook is the part of debit's RETURNING that reads the employer's
// active webhook endpoint in the same round trip.
const debitHook = `,
  (SELECT w.events FROM webhook_endpoints w WHERE w.employer_id = wallets.employer_id AND w.active) AS hook_events,
  (SELECT w.low_balance_minor FROM webhook_endpoints w WHERE w.employer_id = wallets.employer_id AND w.active) AS hook_low_minor`

// debit takes price from the wallet if and only if the balance covers it
// and is not negative, in one statement. It returns the balance after and
// the time to stamp the ledger entry with (or, when refused, the balance as
// it stands), and the employer's active webhook endpoint (nil: none).
func (s *Store) debit(tx *gorm.DB, employerID, price int64, now time.Time) (balance int64, at time.Time, ok bool, hook *endpointRow, err error) {
	var after []walletAfter
	err = tx.Raw(`UPDATE wallets SET balance_minor = balance_minor - ?, `+walletClock+`
WHERE employer_id = ? AND balance_minor >= ? AND balance_minor >= 0
RETURNING balance_minor, updated_at`+debitHook, price, now, now, employerID, price).Scan(&after).Error
	if err != nil {
		return 0, now, false, nil, err
	}
	if len(after) == 1 {
		a := after[0]
		if a.HookEvents != nil {
			hook = &endpointRow{EmployerID: employerID, Events: *a.HookEvents, LowBalanceMinor: a.HookLowMinor, Active: true}
		}
		return a.BalanceMinor, a.UpdatedAt.UTC(), true, hook, nil
	}
	err = tx.Raw(`SELECT balance_minor FROM wallets WHERE employer_id = ?`, employerID).Scan(&balance).Error
	return balance, now, false, nil, err
}

// maxBalanceMinor is atsgate.MaxAmount in minor units: the bound of a
// wallet either way, far inside int64, whose overflow SQLite would
// silently turn into a float.
const maxBalanceMinor = atsgate.MaxAmount * 100 // 10^atsgate.MoneyScale

// credit adds a signed amount to the wallet and returns the balance after
// and the time to stamp the ledger entry with (see walletClock). The bound
// is part of the same conditional update.
func (s *Store) credit(tx *gorm.DB, employerID, amount int64, now time.Time) (int64, time.Time, error) {
	var after []walletAfter
	err := tx.Raw(`UPDATE wallets SET balance_minor = balance_minor + ?, `+walletClock+`
WHERE employer_id = ? AND balance_minor + ? BETWEEN ? AND ? RETURNING balance_minor, updated_at`,
		amount, now, now, employerID, amount, -maxBalanceMinor, maxBalanceMinor).Scan(&after).Error
	if err != nil {
		return 0, now, err
	}
	if len(after) == 1 {
		return after[0].BalanceMinor, after[0].UpdatedAt.UTC(), nil
	}
	var n int64
	if err := tx.Model(&walletRow{}).Where("employer_id = ?", employerID).Count(&n).Error; err != nil {
		return 0, now, err
	}
	if n == 0 {
		return 0, now, atsgate.Errorf(atsgate.ENOTFOUND, "employer %d has no wallet", employerID)
	}
	return 0, now, atsgate.Invalid(map[string]string{"amount": "would take the balance beyond the largest a wallet holds (10^15)"})
}

// UpdateJob implements atsgate.Jobs. The job row is locked first, so
// updates, approvals and closings of one job run one after another and
// each decides (atsgate.PlanUpdate) on what the previous one committed.
func (s *Store) UpdateJob(ctx context.Context, p *atsgate.Principal, in atsgate.JobInput) (*atsgate.Job, error) {
	now := s.now().UTC()
	var row jobRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = jobRow{}
		if err := s.forUpdate(tx).Where("employer_id = ? AND external_id = ?", p.Employer.ID, in.ExternalID).Take(&row).Error; err != nil {
			return err
		}
		if err := atsgate.JobState(row.State).CheckUpdate(); err != nil {
			return err
		}
		return s.update(tx, &row, p.Employer.AutoPublish, &in, p.Actor(), now)
	})
	if err != nil {
		return nil, translate(err, "job "+in.ExternalID)
	}
	return jobFromRow(&row, p.Country.PublicURL), nil
}

// update carries out the plan for an update of the locked, open job row.
func (s *Store) update(tx *gorm.DB, row *jobRow, autoPublish bool, in *atsgate.JobInput, actor string, now time.Time) error {
	var pending *atsgate.Content
	if row.PendingEdit {
		e, err := pendingEditRow(tx, row.ID)
		if err != nil {
			return err
		}
		c := e.edit().Content
		pending = &c
	}
	plan := atsgate.PlanUpdate(atsgate.JobState(row.State), autoPublish, row.content(), pending, in)
	row.UpdatedAt = now
	switch plan.Kind {
	case atsgate.UpdateKeep:
		return tx.Model(row).Update("updated_at", now).Error
	case atsgate.UpdateWithdraw:
		if err := closeEdit(tx, row.ID, atsgate.EditDiscarded, actor, "the update took the job back to its live content", now); err != nil {
			return err
		}
		row.PendingEdit = false
		if err := tx.Model(row).Updates(map[string]any{"updated_at": now, "pending_edit": false}).Error; err != nil {
			return err
		}
		return editEvent(tx, row, atsgate.EventEditDiscarded, actor, "withdrawn by the employer", plan.Changed, now)
	case atsgate.UpdateHold:
		if plan.Discard {
			if err := closeEdit(tx, row.ID, atsgate.EditReplaced, actor, "", now); err != nil {
				return err
			}
		}
		if err := tx.Create(&editRow{JobID: row.ID, Status: string(atsgate.EditPending), Content: mustJSON(plan.Content),
			Fields: mustJSON(plan.Changed), Actor: actor, CreatedAt: now}).Error; err != nil {
			return err
		}
		row.PendingEdit = true
		if err := tx.Model(row).Updates(map[string]any{"updated_at": now, "pending_edit": true}).Error; err != nil {
			return err
		}
		return editEvent(tx, row, atsgate.EventEditHeld, actor, "", plan.Changed, now)
	}
	if plan.Discard {
		// An auto-publish employer's update over an edit held before: the
		// update was planned over that edit, so it goes live with it.
		if err := closeEdit(tx, row.ID, atsgate.EditReplaced, actor, "", now); err != nil {
			return err
		}
	}
	row.setContent(plan.Content)
	row.PendingEdit = false
	if err := saveContent(tx, row); err != nil {
		return err
	}
	if row.State == string(atsgate.StatePublished) && len(plan.Changed) > 0 {
		return editEvent(tx, row, atsgate.EventEditLive, actor, "", plan.Changed, now)
	}
	return nil
}

// CloseJob implements atsgate.Jobs. A pending edit is discarded with the
// job: a closed job's content is final.
func (s *Store) CloseJob(ctx context.Context, p *atsgate.Principal, externalID string) (*atsgate.Job, error) {
	now := s.now().UTC()
	var row jobRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = jobRow{}
		if err := s.forUpdate(tx).Where("employer_id = ? AND external_id = ?", p.Employer.ID, externalID).Take(&row).Error; err != nil {
			return err
		}
		if !atsgate.JobState(row.State).CanTransition(atsgate.StateClosed) {
			return nil // already ended: closing again changes nothing
		}
		if row.PendingEdit {
			if err := s.discardEdit(tx, &row, p.Actor(), "the job was closed", now); err != nil {
				return err
			}
		}
		if err := s.transition(tx, &row, atsgate.StateClosed, p.Actor(), "", now, map[string]any{"closed_at": now, "pending_edit": false}); err != nil {
			return err
		}
		return s.emitJob(tx, atsgate.EventJobClosed, &row, now)
	})
	if err != nil {
		return nil, translate(err, "job "+externalID)
	}
	return jobFromRow(&row, p.Country.PublicURL), nil
}

// transition moves a locked job to a new state and records the event.
// Callers decide with the domain's rules first; the check here keeps any
// path that did not from writing a move the lifecycle does not have.
func (s *Store) transition(tx *gorm.DB, row *jobRow, to atsgate.JobState, actor, reason string, now time.Time, extra map[string]any) error {
	from := row.State
	if !atsgate.JobState(from).CanTransition(to) {
		return atsgate.Internal(fmt.Errorf("job %d: %s to %s is not a transition of the job lifecycle", row.ID, from, to))
	}
	cols := map[string]any{"state": string(to), "updated_at": now}
	for k, v := range extra {
		cols[k] = v
	}
	res := tx.Model(&jobRow{}).Where("id = ? AND state = ?", row.ID, from).Updates(cols)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return atsgate.Errorf(atsgate.ECONFLICT, "the job changed state concurrently; retry")
	}
	if err := tx.Where("id = ?", row.ID).Take(row).Error; err != nil {
		return err
	}
	return tx.Create(&eventRow{JobID: row.ID, FromState: from, ToState: string(to), Actor: actor, Reason: reason, CreatedAt: now}).Error
}

// Job implements atsgate.Jobs: the job and its country's public URL in
// one statement.
func (s *Store) Job(ctx context.Context, employerID int64, externalID string) (*atsgate.Job, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if s.dialect == Postgres {
		return s.jobPG(ctx, employerID, externalID)
	}
	return s.linkedJob(ctx, "job "+externalID, `jobs.employer_id = ? AND jobs.external_id = ?`, employerID, externalID)
}

// JobByID returns any job by its internal ID, for the back office. ENOTFOUND.
func (s *Store) JobByID(ctx context.Context, id int64) (*atsgate.Job, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.linkedJob(ctx, fmt.Sprintf("job %d", id), `jobs.id = ?`, id)
}

// linkedRow is a job row with its country's public URL, read by one join.
type linkedRow struct {
	Job        jobRow `gorm:"embedded"`
	CPublicURL string
}

// linkedJob reads the one job matching where, joined with its country for
// the public link: one round trip where a second query for the URL was.
func (s *Store) linkedJob(ctx context.Context, what, where string, args ...any) (*atsgate.Job, error) {
	var rows []linkedRow
	err := s.rdb.WithContext(ctx).Raw(`SELECT jobs.*, countries.public_url AS c_public_url
FROM jobs JOIN countries ON countries.id = jobs.country_id WHERE `+where, args...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, what)
	}
	if len(rows) == 0 {
		return nil, translate(gorm.ErrRecordNotFound, what)
	}
	return jobFromRow(&rows[0].Job, rows[0].CPublicURL), nil
}

// jobPG is Job on PostgreSQL through pgx itself, the hottest read of the
// API: a prepared statement (pgx caches it per connection) scanned
// straight into the row, without GORM's reflection or database/sql's
// per-column conversions.
func (s *Store) jobPG(ctx context.Context, employerID int64, externalID string) (*atsgate.Job, error) {
	var row jobRow
	var publicURL string
	err := s.pgxRead(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT `+qualifiedJobColumns+`, c.public_url
FROM jobs j JOIN countries c ON c.id = j.country_id WHERE j.employer_id = $1 AND j.external_id = $2`,
			employerID, externalID).Scan(row.scan(&publicURL)...)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		err = gorm.ErrRecordNotFound
	}
	if err != nil {
		return nil, translate(err, "job "+externalID)
	}
	return jobFromRow(&row, publicURL), nil
}

// qualifiedJobColumns is jobColumns of the table aliased j.
var qualifiedJobColumns = func() string {
	cols := strings.Split(jobColumns, ",")
	for i, c := range cols {
		cols[i] = "j." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

func (s *Store) withLink(ctx context.Context, row *jobRow) (*atsgate.Job, error) {
	var publicURL string
	if row.PublicPath != "" {
		if err := s.rdb.WithContext(ctx).Model(&countryRow{}).Where("id = ?", row.CountryID).Pluck("public_url", &publicURL).Error; err != nil {
			return nil, translate(err, "country")
		}
	}
	return jobFromRow(row, publicURL), nil
}

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// recordColumns are what an integrator's job record shows: a list reads
// these and not the description (up to 512 KiB a job), the extras or the
// taxonomy, which it does not show. listPG scans them in this order, and
// the covering index jobs_employer_list (migration 00009) holds them.
var recordColumns = []string{"id", "employer_id", "country_id", "external_id", "dialect", "state", "title",
	"deadline", "amount_charged_minor", "public_path", "received_at", "updated_at", "published_at",
	"closed_at", "disapproved_at", "disapproval_reason", "pending_edit", "archived_at"}

// listColumns are recordColumns and the country's public URL.
var listColumns = append(slices.Clone(recordColumns),
	"(SELECT public_url FROM countries WHERE countries.id = jobs.country_id) AS c_public_url")

// ListJobs implements atsgate.Jobs with keyset pagination on the job ID:
// new jobs get larger IDs, so they never shift the pages a client is
// walking, and each page is one index range scan however deep it is.
func (s *Store) ListJobs(ctx context.Context, employerID int64, f atsgate.JobFilter) (*atsgate.JobPage, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	limit := f.Limit
	if limit == 0 {
		limit = defaultPageSize
	}
	if limit < 1 || limit > maxPageSize {
		return nil, atsgate.Invalid(map[string]string{"limit": "must be between 1 and 200"})
	}
	var before int64
	if f.State != "" && !f.State.Valid() {
		return nil, atsgate.Invalid(map[string]string{"state": "is not a job state"})
	}
	if f.Cursor != "" {
		var ok bool
		if before, ok = decodeCursor(f.Cursor); !ok {
			return nil, atsgate.Invalid(map[string]string{"cursor": "is not a cursor this API issued"})
		}
	}
	var rows []linkedRow
	var err error
	if s.dialect == Postgres {
		rows, err = s.listPG(ctx, employerID, f.State, before, limit+1)
	} else {
		rows, err = s.listGORM(ctx, employerID, f.State, before, limit+1)
	}
	if err != nil {
		return nil, translate(err, "jobs")
	}
	page := &atsgate.JobPage{}
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = encodeCursor(rows[limit-1].Job.ID)
	}
	page.Jobs = make([]atsgate.Job, len(rows))
	for i := range rows {
		page.Jobs[i] = *jobFromRow(&rows[i].Job, rows[i].CPublicURL)
	}
	return page, nil
}

// listGORM is a list page through GORM (SQLite). The country's public URL
// comes with the rows (a lookup by primary key per row of a tiny table),
// not from a second query.
func (s *Store) listGORM(ctx context.Context, employerID int64, state atsgate.JobState, before int64, n int) ([]linkedRow, error) {
	// Archived jobs (ERP's ARCHIVED) are hidden from the employer's lists.
	q := s.rdb.WithContext(ctx).Where("employer_id = ? AND archived_at IS NULL", employerID)
	if state != "" {
		q = q.Where("state = ?", string(state))
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []linkedRow
	err := q.Model(&jobRow{}).Select(listColumns).Order("id DESC").Limit(n).Scan(&rows).Error
	return rows, err
}

// listPG is a list page on PostgreSQL through pgx itself (see jobPG): the
// covering index's columns scanned straight into the rows.
func (s *Store) listPG(ctx context.Context, employerID int64, state atsgate.JobState, before int64, n int) ([]linkedRow, error) {
	// The planner must not walk the primary key backwards, filtering out
	// everyone else's newer jobs: it prefers that whenever its estimate of
	// the employer's share of the table makes the first page look near,
	// and an employer's jobs are not spread evenly over the IDs (111 ms
	// instead of 1.6 ms for an employer holding most of a million rows;
	// 32 ms instead of 0.5 for one holding 2,000 older jobs under 30,000
	// newer ones of others). So the employer (and the state) are a range
	// of one value, not an equality: the planner then does not take them
	// for constants, the ORDER BY keeps them, and only the indexes that
	// lead with the employer yield that order; any other plan must sort
	// all the employer's jobs, which it costs as it is. The page is a LATERAL subquery per employer, so the public
	// URL comes in the same statement.
	query, args := listSQL(employerID, state, before, n)
	return pgxRows(ctx, s, n, query, args, func(r *linkedRow) []any {
		j := &r.Job
		return []any{&j.ID, &j.EmployerID, &j.CountryID, &j.ExternalID, &j.Dialect, &j.State, &j.Title,
			&j.Deadline, &j.AmountChargedMinor, &j.PublicPath, &j.ReceivedAt, &j.UpdatedAt, &j.PublishedAt,
			&j.ClosedAt, &j.DisapprovedAt, &j.DisapprovalReason, &j.PendingEdit, &j.ArchivedAt, &r.CPublicURL}
	})
}

// listSQL is listPG's statement and arguments.
func listSQL(employerID int64, state atsgate.JobState, before int64, n int) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range recordColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("j." + c)
	}
	b.WriteString(`, c.public_url FROM employers e JOIN countries c ON c.id = e.country_id
CROSS JOIN LATERAL (SELECT ` + strings.Join(recordColumns, ", ") + ` FROM jobs
WHERE jobs.employer_id >= e.id AND jobs.employer_id <= e.id AND jobs.archived_at IS NULL`)
	args := []any{employerID}
	order := "jobs.employer_id, jobs.id DESC"
	if state != "" {
		args = append(args, string(state))
		fmt.Fprintf(&b, " AND jobs.state >= $%d AND jobs.state <= $%d", len(args), len(args))
		order = "jobs.employer_id, jobs.state, jobs.id DESC"
	}
	if before > 0 {
		args = append(args, before)
		fmt.Fprintf(&b, " AND jobs.id < $%d", len(args))
	}
	args = append(args, n)
	fmt.Fprintf(&b, " ORDER BY %s LIMIT $%d) j WHERE e.id = $1 ORDER BY j.id DESC", order, len(args))
	return b.String(), args
}

// Cursors are opaque to clients: a version tag and the last ID seen.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), "v1:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
