package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// expireBatch is how many jobs one expiry transaction handles.
const expireBatch = 500

// ExpireJobs moves every published job whose deadline has passed to
// expired, with a job event by "system", and returns how many it moved. A
// deadline is a calendar day in the job's country: the job stays published
// through that whole day and expires from midnight, local time, after it.
//
// Each batch is one conditional UPDATE (… WHERE state = 'published'), so
// instances running it at once expire each job once and record one event.
func (s *Store) ExpireJobs(ctx context.Context) (int, error) {
	var countries []countryRow
	if err := s.bounded(ctx, func(ctx context.Context) error {
		return s.rdb.WithContext(ctx).Select("id", "time_zone").Order("id").Find(&countries).Error
	}); err != nil {
		return 0, translate(err, "countries")
	}
	now := s.now().UTC()
	total := 0
	for _, c := range countries {
		today := now.In(s.location(c.TimeZone)).Format(atsgate.DateLayout)
		for {
			var ids []int64
			err := s.bounded(ctx, func(ctx context.Context) error {
				return s.rdb.WithContext(ctx).Model(&jobRow{}).
					Where("state = ? AND country_id = ? AND deadline <> '' AND deadline < ?", string(atsgate.StatePublished), c.ID, today).
					Order("id").Limit(expireBatch).Pluck("id", &ids).Error
			})
			if err != nil {
				return total, translate(err, "jobs past their deadline")
			}
			if len(ids) == 0 {
				break
			}
			n, err := s.expire(ctx, ids, now)
			total += n
			if err != nil {
				return total, err
			}
			if len(ids) < expireBatch {
				break
			}
		}
	}
	return total, nil
}

// expire moves the jobs among ids that are still published to expired,
// the one way into expired (atsgate's lifecycle table), in one conditional
// statement rather than job by job through transition.
func (s *Store) expire(ctx context.Context, ids []int64, now time.Time) (int, error) {
	var done []int64
	err := s.transact(ctx, func(tx *gorm.DB) error {
		done = nil
		if err := tx.Raw(`UPDATE jobs SET state = ?, closed_at = ?, updated_at = ?, pending_edit = FALSE
WHERE id IN ? AND state = ? RETURNING id`,
			string(atsgate.StateExpired), now, now, ids, string(atsgate.StatePublished)).Scan(&done).Error; err != nil {
			return err
		}
		if len(done) == 0 {
			return nil
		}
		// An expired job's content is final, like a closed one's: its
		// pending edit is discarded, before the transition in its history.
		var discarded []editRow
		if err := tx.Raw(`UPDATE job_edits SET status = ?, decided_by = 'system', decided_at = ?, reason = 'the job expired'
WHERE job_id IN ? AND status = ? RETURNING job_id, fields`,
			string(atsgate.EditDiscarded), now, done, string(atsgate.EditPending)).Scan(&discarded).Error; err != nil {
			return err
		}
		events := make([]eventRow, 0, len(done)+len(discarded))
		for _, e := range discarded {
			events = append(events, eventRow{JobID: e.JobID, FromState: string(atsgate.StatePublished), ToState: string(atsgate.StatePublished),
				Actor: "system", Reason: "the job expired", Edit: atsgate.EventEditDiscarded, Fields: e.Fields, CreatedAt: now})
		}
		for _, id := range done {
			events = append(events, eventRow{JobID: id, FromState: string(atsgate.StatePublished), ToState: string(atsgate.StateExpired),
				Actor: "system", Reason: "deadline passed", CreatedAt: now})
		}
		if err := tx.Create(&events).Error; err != nil {
			return err
		}
		return s.emitJobs(tx, atsgate.EventJobExpired, done, now)
	})
	if err != nil {
		return 0, translate(err, "expire jobs")
	}
	return len(done), nil
}
