package store

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/seal"
)

// Sealer seals the secrets the store must be able to use again (ERP
// signing secrets); *seal.Box is one.
type Sealer interface {
	Seal(plaintext []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// WithSealer seals ERP secrets with box (ATSGATE_SECRET_KEY). Without it
// the store uses the public development key (seal.DevKey), which protects
// nothing; settings refuse prod without a key.
func WithSealer(box Sealer) Option { return func(s *Store) { s.sealer = box } }

// sealBox is the store's sealer, the development one by default.
func (s *Store) sealBox() Sealer {
	if s.sealer != nil {
		return s.sealer
	}
	box, err := seal.New(seal.DevKey())
	if err != nil {
		panic(err) // a fixed 32-byte key
	}
	return box
}

type erpSourceRow struct {
	ID                 int64 `gorm:"primaryKey"`
	EmployerID         int64
	Name               string
	SourceType         string
	Description        string
	KeyPrefix          string
	KeyHash            string
	SecretHash         string
	SecretSealed       string
	TrustedIPs         string `gorm:"column:trusted_ips"`
	Active             bool
	RequireSignature   bool
	IntegrationVersion string
	SyncStatus         string
	LastSuccessAt      *time.Time
	LastFailureAt      *time.Time
	LastFailureCode    string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (erpSourceRow) TableName() string { return "erp_sources" }

func sourceFromRow(r *erpSourceRow) *atsgate.ERPSource {
	src := &atsgate.ERPSource{ID: r.ID, EmployerID: r.EmployerID, Name: r.Name, SourceType: r.SourceType,
		Description: r.Description, KeyPrefix: r.KeyPrefix, Active: r.Active, RequireSignature: r.RequireSignature,
		IntegrationVersion: r.IntegrationVersion, SyncStatus: r.SyncStatus, LastSuccessAt: timeOrZero(r.LastSuccessAt),
		LastFailureAt: timeOrZero(r.LastFailureAt), LastFailureCode: r.LastFailureCode,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.TrustedIPs != "" {
		src.TrustedIPs = strings.Split(r.TrustedIPs, ",")
	}
	return src
}

// newERPCredentials makes a key and secret for an employer's country and
// fills the row's stored forms of them.
func (s *Store) newERPCredentials(ctx context.Context, row *erpSourceRow) (key, secret string, err error) {
	var cc string
	if err := s.rdb.WithContext(ctx).Raw(`SELECT c.code FROM employers e JOIN countries c ON c.id = e.country_id WHERE e.id = ?`,
		row.EmployerID).Scan(&cc).Error; err != nil {
		return "", "", translate(err, "employer")
	}
	if cc == "" {
		return "", "", atsgate.Errorf(atsgate.ENOTFOUND, "employer %d not found", row.EmployerID)
	}
	key, keyHash, prefix, secret, secretHash, err := atsgate.NewERPCredentials(cc)
	if err != nil {
		return "", "", atsgate.Internal(err)
	}
	sealed, err := s.sealBox().Seal([]byte(secret))
	if err != nil {
		return "", "", atsgate.Internal(err)
	}
	row.KeyPrefix, row.KeyHash, row.SecretHash, row.SecretSealed = prefix, keyHash, secretHash, sealed
	return key, secret, nil
}

// CreateERPSource adds an ERP source to an employer and returns it with
// its key and secret in clear: the only time they exist outside the
// caller's hands. EINVALID, ENOTFOUND for an unknown employer, ECONFLICT
// for a name the employer already uses.
func (s *Store) CreateERPSource(ctx context.Context, in atsgate.ERPSourceInput) (src *atsgate.ERPSource, key, secret string, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	v, err := in.Validate()
	if err != nil {
		return nil, "", "", err
	}
	now := s.now().UTC()
	row := erpSourceRow{EmployerID: v.EmployerID, Name: v.Name, SourceType: v.SourceType, Description: v.Description,
		TrustedIPs: strings.Join(v.TrustedIPs, ","), Active: true, RequireSignature: v.RequireSignature,
		IntegrationVersion: v.IntegrationVersion, SyncStatus: atsgate.SyncIdle, CreatedAt: now, UpdatedAt: now}
	if key, secret, err = s.newERPCredentials(ctx, &row); err != nil {
		return nil, "", "", err
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, "", "", translate(err, "ERP source "+row.Name)
	}
	return sourceFromRow(&row), key, secret, nil
}

// ERPSources lists the ERP sources of one employer (0: of all), by ID.
func (s *Store) ERPSources(ctx context.Context, employerID int64) ([]atsgate.ERPSource, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.rdb.WithContext(ctx).Order("id")
	if employerID != 0 {
		q = q.Where("employer_id = ?", employerID)
	}
	var rows []erpSourceRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err, "ERP sources")
	}
	out := make([]atsgate.ERPSource, len(rows))
	for i := range rows {
		out[i] = *sourceFromRow(&rows[i])
	}
	return out, nil
}

// ERPSource returns one source by ID. ENOTFOUND.
func (s *Store) ERPSource(ctx context.Context, id int64) (*atsgate.ERPSource, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row erpSourceRow
	if err := s.rdb.WithContext(ctx).Take(&row, id).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("ERP source %d", id))
	}
	return sourceFromRow(&row), nil
}

// ERPSourceByName returns an employer's source by name. ENOTFOUND.
func (s *Store) ERPSourceByName(ctx context.Context, employerID int64, name string) (*atsgate.ERPSource, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row erpSourceRow
	if err := s.rdb.WithContext(ctx).Where("employer_id = ? AND name = ?", employerID, name).Take(&row).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("ERP source %q of employer %d", name, employerID))
	}
	return sourceFromRow(&row), nil
}

// RotateERPSource gives a source a new key and secret; the old ones stop
// working at once (nothing caches them). ENOTFOUND.
func (s *Store) RotateERPSource(ctx context.Context, id int64) (src *atsgate.ERPSource, key, secret string, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row erpSourceRow
	if err := s.rdb.WithContext(ctx).Take(&row, id).Error; err != nil {
		return nil, "", "", translate(err, fmt.Sprintf("ERP source %d", id))
	}
	if key, secret, err = s.newERPCredentials(ctx, &row); err != nil {
		return nil, "", "", err
	}
	row.UpdatedAt = s.now().UTC()
	res := s.db.WithContext(ctx).Model(&erpSourceRow{}).Where("id = ?", id).Updates(map[string]any{
		"key_prefix": row.KeyPrefix, "key_hash": row.KeyHash, "secret_hash": row.SecretHash,
		"secret_sealed": row.SecretSealed, "updated_at": row.UpdatedAt})
	if res.Error != nil {
		return nil, "", "", translate(res.Error, "rotate ERP source")
	}
	if res.RowsAffected == 0 {
		return nil, "", "", atsgate.Errorf(atsgate.ENOTFOUND, "ERP source %d not found", id)
	}
	s.authChanged(ctx) // any cache of ERP principals asks again (see OnAuthChange)
	return sourceFromRow(&row), key, secret, nil
}

// SetERPSourceActive enables or disables a source; a disabled source's
// key is refused from the very next request. ENOTFOUND.
func (s *Store) SetERPSourceActive(ctx context.Context, id int64, active bool) (*atsgate.ERPSource, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Model(&erpSourceRow{}).Where("id = ?", id).
		Updates(map[string]any{"active": active, "updated_at": s.now().UTC()})
	if res.Error != nil {
		return nil, translate(res.Error, "ERP source")
	}
	if res.RowsAffected == 0 {
		return nil, atsgate.Errorf(atsgate.ENOTFOUND, "ERP source %d not found", id)
	}
	s.authChanged(ctx)
	var row erpSourceRow
	if err := s.db.WithContext(ctx).Take(&row, id).Error; err != nil {
		return nil, translate(err, "ERP source")
	}
	return sourceFromRow(&row), nil
}

// erpAuthRow is the one-query join behind AuthenticateERP.
type erpAuthRow struct {
	Source    erpSourceRow `gorm:"embedded;embeddedPrefix:s_"`
	Principal principalRow `gorm:"embedded"`
}

// AuthenticateERP implements atsgate.ERPSources. The source is read on
// every call, never cached. The secret is opened here and checked against
// its hash, so a sealed value that was swapped or damaged is refused
// rather than trusted.
func (s *Store) AuthenticateERP(ctx context.Context, keyHash string) (*atsgate.ERPPrincipal, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var r erpAuthRow
	err := s.rdb.WithContext(ctx).Raw(`
SELECT s.id AS s_id, s.employer_id AS s_employer_id, s.name AS s_name, s.source_type AS s_source_type,
       s.description AS s_description, s.key_prefix AS s_key_prefix, s.key_hash AS s_key_hash,
       s.secret_hash AS s_secret_hash, s.secret_sealed AS s_secret_sealed, s.trusted_ips AS s_trusted_ips,
       s.active AS s_active, s.require_signature AS s_require_signature,
       s.integration_version AS s_integration_version, s.sync_status AS s_sync_status,
       s.last_success_at AS s_last_success_at, s.last_failure_at AS s_last_failure_at,
       s.last_failure_code AS s_last_failure_code, s.created_at AS s_created_at, s.updated_at AS s_updated_at,
       e.id, e.country_id, e.name, e.code, e.price_minor, e.auto_publish,
       e.min_monthly_spend_minor, e.commitment_start, e.active, e.created_at,
       c.id AS c_id, c.code AS c_code, c.name AS c_name, c.currency AS c_currency,
       c.time_zone AS c_time_zone, c.price_minor AS c_price_minor, c.public_url AS c_public_url
FROM erp_sources s
JOIN employers e ON e.id = s.employer_id
JOIN countries c ON c.id = e.country_id
WHERE s.key_hash = ?`, keyHash).Scan(&r).Error
	if err != nil {
		return nil, translate(err, "ERP source")
	}
	if r.Source.ID == 0 {
		return nil, atsgate.Errorf(atsgate.EINVALIDAPIKEY, "the API key is not valid")
	}
	if !r.Source.Active || !r.Principal.Employer.Active {
		return nil, atsgate.Errorf(atsgate.ESOURCEINACTIVE, "the source of this API key is not active")
	}
	secret, err := s.sealBox().Open(r.Source.SecretSealed)
	if err != nil || subtle.ConstantTimeCompare([]byte(atsgate.HashAPIKey(string(secret))), []byte(r.Source.SecretHash)) != 1 {
		return nil, atsgate.Internal(fmt.Errorf("ERP source %d: the sealed secret does not open with ATSGATE_SECRET_KEY or does not match its hash: %v", r.Source.ID, err))
	}
	return &atsgate.ERPPrincipal{
		Principal: s.principal(&r.Principal, r.Source.ID, r.Source.KeyPrefix),
		Source:    *sourceFromRow(&r.Source),
		Secret:    secret,
	}, nil
}

// syncSuccessEvery bounds how often a steady stream of successes writes
// the source's row: a success is recorded when the status changes, or at
// most once a minute otherwise.
const syncSuccessEvery = time.Minute

// syncFailureEvery is the same bound for repeated identical failures.
const syncFailureEvery = time.Second

// NoteERPSync implements atsgate.ERPSources. A success is recorded when
// it changes the status or the last one is older than a minute; a failure
// when it changes the status or the code, or the last one is older than a
// second: a busy (or misbehaving) source does not write its row on every
// request, and the row still says what happened last.
func (s *Store) NoteERPSync(ctx context.Context, sourceID int64, code string, at time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	at = at.UTC()
	var res *gorm.DB
	if code == "" {
		res = s.db.WithContext(ctx).Exec(`UPDATE erp_sources SET sync_status = ?, last_success_at = ?
WHERE id = ? AND (sync_status <> ? OR last_success_at IS NULL OR last_success_at < ?)`,
			atsgate.SyncActive, at, sourceID, atsgate.SyncActive, at.Add(-syncSuccessEvery))
	} else {
		code = truncate(code, 64)
		res = s.db.WithContext(ctx).Exec(`UPDATE erp_sources SET sync_status = ?, last_failure_at = ?, last_failure_code = ?
WHERE id = ? AND (sync_status <> ? OR last_failure_code <> ? OR last_failure_at IS NULL OR last_failure_at < ?)`,
			atsgate.SyncError, at, code, sourceID, atsgate.SyncError, code, at.Add(-syncFailureEvery))
	}
	return translate(res.Error, "ERP sync status")
}

// CreateERPJob implements atsgate.ERPJobs over the one create path
// (createJob), adding the ERP step before the insert (erpCreateStep).
func (s *Store) CreateERPJob(ctx context.Context, p *atsgate.Principal, in atsgate.JobInput, publish bool) (*atsgate.Job, error) {
	job, _, err := s.createJob(ctx, p, in, atsgate.DialectERP, func(tx *gorm.DB, row *jobRow) error {
		if !publish && row.State == string(atsgate.StatePublished) {
			// auto_publish false: the job waits for review even when the
			// employer could publish at once.
			row.State, row.PublishedAt = string(atsgate.StatePending), nil
		}
		return s.erpCreateStep(tx, p, row)
	})
	return job, err
}

// erpCreateStep is what an ERP create adds inside the create transaction,
// before the insert:
//
//  1. take the next number of the employer's counter for the year (in the
//     country's time zone) with one upsert; on PostgreSQL the row stays
//     locked until commit, so the employer's ERP creates of a year pass
//     this point one at a time, and on SQLite transactions already do;
//  2. refuse with JOB_EXISTS when an open job of the employer has the
//     same title (trimmed, case folded) — checked after the lock, so two
//     concurrent creates of one title cannot both pass;
//  3. make the job ID "<CODE>-<YEAR>-<NNNN>" the row's external ID,
//     skipping a number an ATS create already took as its external ID.
//
// A create that fails later rolls the counter back with it: numbers are
// never skipped by failures and never given twice.
func (s *Store) erpCreateStep(tx *gorm.DB, p *atsgate.Principal, row *jobRow) error {
	year := p.Country.Local(row.ReceivedAt).Year()
	var seq int64
	if err := tx.Raw(`INSERT INTO erp_job_counters (employer_id, year, last_seq) VALUES (?, ?, 1)
ON CONFLICT (employer_id, year) DO UPDATE SET last_seq = erp_job_counters.last_seq + 1
RETURNING last_seq`, p.Employer.ID, year).Scan(&seq).Error; err != nil {
		return err
	}
	// The states are literals, not parameters, so PostgreSQL can use the
	// partial index jobs_open_title (migration 00007) in every plan.
	var existing []string
	if err := tx.Raw(`SELECT external_id FROM jobs
WHERE employer_id = ? AND state IN ('pending_review', 'published') AND lower(title) = lower(?) ORDER BY id LIMIT 1`,
		p.Employer.ID, strings.TrimSpace(row.Title)).
		Scan(&existing).Error; err != nil {
		return err
	}
	if len(existing) > 0 {
		return atsgate.ExistingJobError(existing[0])
	}
	start := seq
	for {
		row.ExternalID = atsgate.ERPJobID(p.Employer.Code, year, seq)
		var n int64
		if err := tx.Model(&jobRow{}).Where("employer_id = ? AND external_id = ?", p.Employer.ID, row.ExternalID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			break
		}
		seq++
	}
	if seq != start {
		return tx.Exec(`UPDATE erp_job_counters SET last_seq = ? WHERE employer_id = ? AND year = ?`, seq, p.Employer.ID, year).Error
	}
	return nil
}

// ArchiveJob implements atsgate.ERPJobs: an open job is closed (its
// pending edit discarded, as CloseJob does), and the job, open or ended,
// is hidden from the employer's lists. Archiving again changes nothing.
func (s *Store) ArchiveJob(ctx context.Context, p *atsgate.Principal, externalID string) (*atsgate.Job, error) {
	now := s.now().UTC()
	var row jobRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = jobRow{}
		if err := s.forUpdate(tx).Where("employer_id = ? AND external_id = ?", p.Employer.ID, externalID).Take(&row).Error; err != nil {
			return err
		}
		if atsgate.JobState(row.State).CanTransition(atsgate.StateClosed) {
			if row.PendingEdit {
				if err := s.discardEdit(tx, &row, p.Actor(), "the job was archived", now); err != nil {
					return err
				}
			}
			if err := s.transition(tx, &row, atsgate.StateClosed, p.Actor(), "archived", now,
				map[string]any{"closed_at": now, "pending_edit": false, "archived_at": now}); err != nil {
				return err
			}
			// Archiving an open job closes it, as CloseJob does: the
			// employer's endpoint hears of it the same way.
			return s.emitJob(tx, atsgate.EventJobClosed, &row, now)
		}
		if row.ArchivedAt != nil {
			return nil
		}
		row.ArchivedAt = &now
		return tx.Model(&row).Update("archived_at", now).Error
	})
	if err != nil {
		return nil, translate(err, "job "+externalID)
	}
	return jobFromRow(&row, p.Country.PublicURL), nil
}

var (
	_ atsgate.ERPSources = (*Store)(nil)
	_ atsgate.ERPJobs    = (*Store)(nil)
)

// JobByERPID implements atsgate.ERPAdmin: the job whose ERP job ID (its
// external ID, "<EMPLOYER_CODE>-<YEAR>-<NNNN>") this is, whichever
// employer's code it starts with. ENOTFOUND.
func (s *Store) JobByERPID(ctx context.Context, erpID string) (*atsgate.Job, error) {
	code, ok := atsgate.ERPJobCode(erpID)
	if !ok {
		return nil, atsgate.Errorf(atsgate.ENOTFOUND, "%q is not an ERP job ID", erpID)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row jobRow
	err := s.rdb.WithContext(ctx).Where("employer_id = (SELECT id FROM employers WHERE code = ?) AND external_id = ?", code, erpID).
		Take(&row).Error
	if err != nil {
		return nil, translate(err, "job "+erpID)
	}
	return s.withLink(ctx, &row)
}
