package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// editRow is one proposed edit of a published job (migration 00005).
type editRow struct {
	ID        int64 `gorm:"primaryKey"`
	JobID     int64
	Status    string
	Content   string // atsgate.Content as JSON
	Fields    string // JSON array of field names
	Actor     string
	CreatedAt time.Time
	DecidedBy string
	DecidedAt *time.Time
	Reason    string
}

func (editRow) TableName() string { return "job_edits" }

func (r *editRow) edit() atsgate.Edit {
	e := atsgate.Edit{ID: r.ID, JobID: r.JobID, Status: atsgate.EditStatus(r.Status), Actor: r.Actor,
		CreatedAt: r.CreatedAt.UTC(), DecidedBy: r.DecidedBy, DecidedAt: timeOrZero(r.DecidedAt), Reason: r.Reason}
	// Both were written by this package from typed values; a decoding
	// error would mean a hand-edited row, and shows as an empty edit.
	_ = json.Unmarshal([]byte(r.Content), &e.Content)
	_ = json.Unmarshal([]byte(r.Fields), &e.Fields)
	return e
}

// pendingEditRow reads the pending edit of a job whose row says it has
// one.
func pendingEditRow(tx *gorm.DB, jobID int64) (*editRow, error) {
	var e editRow
	if err := tx.Where("job_id = ? AND status = ?", jobID, string(atsgate.EditPending)).Take(&e).Error; err != nil {
		return nil, fmt.Errorf("pending edit of job %d: %w", jobID, err)
	}
	return &e, nil
}

// closeEdit ends the job's pending edit, if any, with status.
func closeEdit(tx *gorm.DB, jobID int64, status atsgate.EditStatus, by, reason string, now time.Time) error {
	return tx.Model(&editRow{}).Where("job_id = ? AND status = ?", jobID, string(atsgate.EditPending)).
		Updates(map[string]any{"status": string(status), "decided_by": by, "decided_at": now, "reason": reason}).Error
}

// editEvent records a step of an edit of the job in row, which keeps its
// state.
func editEvent(tx *gorm.DB, row *jobRow, step, actor, reason string, fields []string, now time.Time) error {
	if fields == nil {
		fields = []string{}
	}
	return tx.Create(&eventRow{JobID: row.ID, FromState: row.State, ToState: row.State, Actor: actor,
		Reason: reason, Edit: step, Fields: mustJSON(fields), CreatedAt: now}).Error
}

// discardEdit discards the pending edit of the locked job row because the
// job is ending; the caller clears pending_edit with the transition.
func (s *Store) discardEdit(tx *gorm.DB, row *jobRow, actor, reason string, now time.Time) error {
	e, err := pendingEditRow(tx, row.ID)
	if err != nil {
		return err
	}
	if err := closeEdit(tx, row.ID, atsgate.EditDiscarded, actor, reason, now); err != nil {
		return err
	}
	return editEvent(tx, row, atsgate.EventEditDiscarded, actor, reason, e.edit().Fields, now)
}

// approveEdit applies the pending edit of the locked, published job row.
func (s *Store) approveEdit(tx *gorm.DB, row *jobRow, actor string, now time.Time) error {
	e, err := pendingEditRow(tx, row.ID)
	if err != nil {
		return err
	}
	content := e.edit().Content
	changed := atsgate.Changed(row.content(), content)
	row.setContent(content)
	row.PendingEdit = false
	row.UpdatedAt = now
	if err := saveContent(tx, row); err != nil {
		return err
	}
	if err := closeEdit(tx, row.ID, atsgate.EditApproved, actor, "", now); err != nil {
		return err
	}
	if err := editEvent(tx, row, atsgate.EventEditApproved, actor, "", changed, now); err != nil {
		return err
	}
	return s.emitJob(tx, atsgate.EventJobEditApproved, row, now)
}

// disapproveEdit discards the pending edit of the locked, published job
// row with the reviewer's reason. Nothing is refunded: the job itself
// stays published as approved.
func (s *Store) disapproveEdit(tx *gorm.DB, row *jobRow, actor, reason string, now time.Time) error {
	e, err := pendingEditRow(tx, row.ID)
	if err != nil {
		return err
	}
	if err := closeEdit(tx, row.ID, atsgate.EditDisapproved, actor, reason, now); err != nil {
		return err
	}
	row.PendingEdit = false
	if err := tx.Model(row).Update("pending_edit", false).Error; err != nil {
		return err
	}
	if err := editEvent(tx, row, atsgate.EventEditDisapproved, actor, reason, atsgate.Changed(row.content(), e.edit().Content), now); err != nil {
		return err
	}
	return s.emitJob(tx, atsgate.EventJobEditDisapproved, row, now)
}

// ApproveEdit implements atsgate.Moderation.
func (s *Store) ApproveEdit(ctx context.Context, jobID, editID int64, actor string) (*atsgate.Job, error) {
	return s.decideEdit(ctx, jobID, editID, func(tx *gorm.DB, row *jobRow, now time.Time) error {
		return s.approveEdit(tx, row, actor, now)
	})
}

// DisapproveEdit implements atsgate.Moderation.
func (s *Store) DisapproveEdit(ctx context.Context, jobID, editID int64, actor, reason string) (*atsgate.Job, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, atsgate.Invalid(map[string]string{"reason": "is required"})
	}
	return s.decideEdit(ctx, jobID, editID, func(tx *gorm.DB, row *jobRow, now time.Time) error {
		return s.disapproveEdit(tx, row, actor, reason, now)
	})
}

// decideEdit runs decide on the locked job when editID is still its
// pending edit. The check and the decision share the row lock, so an edit
// replaced after the reviewer read it is never decided in its place.
func (s *Store) decideEdit(ctx context.Context, jobID, editID int64, decide func(tx *gorm.DB, row *jobRow, now time.Time) error) (*atsgate.Job, error) {
	now := s.now().UTC()
	var row jobRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = jobRow{}
		if err := s.forUpdate(tx).Take(&row, jobID).Error; err != nil {
			return err
		}
		if !atsgate.JobState(row.State).ReviewsEdit(row.PendingEdit) {
			return atsgate.Errorf(atsgate.ECONFLICT, "job %d has no pending edit (it was decided, withdrawn or discarded)", jobID)
		}
		e, err := pendingEditRow(tx, row.ID)
		if err != nil {
			return err
		}
		if e.ID != editID {
			return atsgate.Errorf(atsgate.ECONFLICT, "the pending edit of job %d is now edit %d, not %d: the employer changed it; review it again", jobID, e.ID, editID)
		}
		return decide(tx, &row, now)
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("job %d", jobID))
	}
	return s.withLink(ctx, &row)
}

// PendingEdits implements atsgate.Moderation: keyset on the edit ID, so a
// replaced edit, being new content, goes to the back of the queue.
func (s *Store) PendingEdits(ctx context.Context, f atsgate.ReviewFilter) ([]atsgate.PendingEdit, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	limit := f.Limit
	if limit <= 0 || limit > maxPageSize {
		limit = defaultPageSize
	}
	q := s.db.WithContext(ctx).Model(&editRow{}).Select("job_edits.*").
		Joins("JOIN jobs ON jobs.id = job_edits.job_id").
		Where("job_edits.status = ? AND jobs.state = ?", string(atsgate.EditPending), string(atsgate.StatePublished))
	if f.CountryID != 0 {
		q = q.Where("jobs.country_id = ?", f.CountryID)
	}
	if f.AfterID != 0 {
		q = q.Where("job_edits.id > ?", f.AfterID)
	}
	var edits []editRow
	if err := q.Order("job_edits.id").Limit(limit).Find(&edits).Error; err != nil {
		return nil, translate(err, "pending edits")
	}
	if len(edits) == 0 {
		return []atsgate.PendingEdit{}, nil
	}
	jobIDs := make([]int64, len(edits))
	for i := range edits {
		jobIDs[i] = edits[i].JobID
	}
	var jobs []jobRow
	if err := s.db.WithContext(ctx).Where("id IN ?", jobIDs).Find(&jobs).Error; err != nil {
		return nil, translate(err, "jobs with pending edits")
	}
	urls, err := s.publicURLs(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*jobRow, len(jobs))
	for i := range jobs {
		byID[jobs[i].ID] = &jobs[i]
	}
	out := make([]atsgate.PendingEdit, 0, len(edits))
	for i := range edits {
		j := byID[edits[i].JobID]
		if j == nil {
			continue
		}
		out = append(out, atsgate.PendingEdit{Edit: edits[i].edit(), Job: *jobFromRow(j, urls[j.CountryID])})
	}
	return out, nil
}

// publicURLs maps each country ID to its public URL.
func (s *Store) publicURLs(ctx context.Context) (map[int64]string, error) {
	var rows []countryRow
	if err := s.db.WithContext(ctx).Select("id", "public_url").Find(&rows).Error; err != nil {
		return nil, translate(err, "countries")
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.PublicURL
	}
	return out, nil
}

// PendingEdit implements atsgate.Moderation.
func (s *Store) PendingEdit(ctx context.Context, jobID int64) (*atsgate.PendingEdit, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var out *atsgate.PendingEdit
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// One transaction, so the live job and its edit are read as of
		// one moment, never an approval half-seen.
		var row jobRow
		if err := tx.Take(&row, jobID).Error; err != nil {
			return err
		}
		if !row.PendingEdit {
			return atsgate.Errorf(atsgate.ENOTFOUND, "job %d has no pending edit", jobID)
		}
		e, err := pendingEditRow(tx, jobID)
		if err != nil {
			return err
		}
		var publicURL string
		if err := tx.Model(&countryRow{}).Where("id = ?", row.CountryID).Pluck("public_url", &publicURL).Error; err != nil {
			return err
		}
		out = &atsgate.PendingEdit{Edit: e.edit(), Job: *jobFromRow(&row, publicURL)}
		return nil
	}, s.snapshot())
	if err != nil {
		return nil, translate(err, fmt.Sprintf("job %d", jobID))
	}
	return out, nil
}

// snapshot is the transaction options of a read that must see one moment:
// PostgreSQL's default, read committed, gives each statement its own
// snapshot; SQLite's read transactions already see one.
func (s *Store) snapshot() *sql.TxOptions {
	if s.dialect == Postgres {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}
