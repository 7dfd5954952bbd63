package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// ReviewQueue implements atsgate.Moderation.
func (s *Store) ReviewQueue(ctx context.Context, f atsgate.ReviewFilter) ([]atsgate.Job, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	limit := f.Limit
	if limit <= 0 || limit > maxPageSize {
		limit = defaultPageSize
	}
	q := s.rdb.WithContext(ctx).Where("state = ?", string(atsgate.StatePending))
	if f.CountryID != 0 {
		q = q.Where("country_id = ?", f.CountryID)
	}
	if f.AfterID != 0 {
		q = q.Where("id > ?", f.AfterID)
	}
	// The queue shows the record's columns, the apply details and the
	// start of the description. SUBSTR counts characters on both
	// databases, and PostgreSQL reads only that much of a long value.
	cols := append(slices.Clip(recordColumns), "apply_url", "apply_email",
		fmt.Sprintf("SUBSTR(description, 1, %d) AS description", atsgate.PreviewChars+1))
	var rows []jobRow
	if err := q.Select(cols).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "review queue")
	}
	out := make([]atsgate.Job, len(rows))
	for i := range rows {
		out[i] = *jobFromRow(&rows[i], "")
		out[i].Description, out[i].DescriptionCut = atsgate.CutPreview(out[i].Description)
	}
	return out, nil
}

// Approve implements atsgate.Moderation.
func (s *Store) Approve(ctx context.Context, jobID int64, actor string) (*atsgate.Job, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := s.now().UTC()
	var row jobRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = jobRow{}
		if err := s.forUpdate(tx).Take(&row, jobID).Error; err != nil {
			return err
		}
		if atsgate.JobState(row.State).ReviewsEdit(row.PendingEdit) {
			return s.approveEdit(tx, &row, actor, now)
		}
		if move, err := atsgate.JobState(row.State).Approve(jobID); !move {
			return err
		}
		if err := s.transition(tx, &row, atsgate.StatePublished, actor, "", now,
			map[string]any{"published_at": now, "public_path": atsgate.PublicPath(row.ID, row.Title)}); err != nil {
			return err
		}
		return s.emitJob(tx, atsgate.EventJobPublished, &row, now)
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("job %d", jobID))
	}
	return s.withLink(ctx, &row)
}

// Disapprove implements atsgate.Moderation. The state change and the
// refund are one transaction behind a row lock (PostgreSQL) or the single
// writer (SQLite), and the ledger's unique index on (job_id) for refunds
// is the last line: a job is refunded once however many reviewers click.
func (s *Store) Disapprove(ctx context.Context, jobID int64, actor, reason string) (*atsgate.Job, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, atsgate.Invalid(map[string]string{"reason": "is required"})
	}
	now := s.now().UTC()
	var row jobRow
	err := s.transact(ctx, func(tx *gorm.DB) error {
		row = jobRow{}
		if err := s.forUpdate(tx).Take(&row, jobID).Error; err != nil {
			return err
		}
		if atsgate.JobState(row.State).ReviewsEdit(row.PendingEdit) {
			return s.disapproveEdit(tx, &row, actor, reason, now)
		}
		if move, err := atsgate.JobState(row.State).Disapprove(jobID); !move {
			return err
		}
		if err := s.transition(tx, &row, atsgate.StateDisapproved, actor, reason, now,
			map[string]any{"disapproved_at": now, "disapproval_reason": reason}); err != nil {
			return err
		}
		if err := s.emitJob(tx, atsgate.EventJobDisapproved, &row, now); err != nil {
			return err
		}
		if row.AmountChargedMinor == 0 {
			return nil
		}
		balance, at, err := s.credit(tx, row.EmployerID, row.AmountChargedMinor, now)
		if err != nil {
			return err
		}
		return tx.Create(&ledgerRow{EmployerID: row.EmployerID, Kind: string(atsgate.EntryJobRefund),
			AmountMinor: row.AmountChargedMinor, BalanceAfterMinor: balance, JobID: &row.ID,
			Actor: actor, Note: truncate("disapproved: "+reason, 500), CreatedAt: at}).Error
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("job %d", jobID))
	}
	return jobFromRow(&row, ""), nil
}

// JobEvents implements atsgate.Moderation.
func (s *Store) JobEvents(ctx context.Context, jobID int64) ([]atsgate.JobEvent, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []eventRow
	if err := s.rdb.WithContext(ctx).Where("job_id = ?", jobID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, "job events")
	}
	out := make([]atsgate.JobEvent, len(rows))
	for i, r := range rows {
		out[i] = atsgate.JobEvent{ID: r.ID, JobID: r.JobID, From: atsgate.JobState(r.FromState),
			To: atsgate.JobState(r.ToState), Actor: r.Actor, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC(), Edit: r.Edit}
		if r.Fields != "" && r.Fields != "[]" {
			_ = json.Unmarshal([]byte(r.Fields), &out[i].Fields)
		}
	}
	return out, nil
}
