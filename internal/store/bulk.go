package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// LoadPublished inserts jobs of one employer as published, in large
// multi-row batches, for tests and benchmarks that need a country with a
// million jobs: each job's ExternalID, Title, Description, Deadline,
// Salary, Specialization, ShowCompanyName, States, Qualifications, Extras
// and PublishedAt are used (a zero PublishedAt is now); nothing is charged
// and no event is written. IDs are assigned here, after the largest in
// use, so each row's public path is written with it instead of by a
// second update; hence it must not run beside other writers of jobs.
// The search index follows the rows as for any insert. It returns the
// jobs' IDs in order.
func (s *Store) LoadPublished(ctx context.Context, employerID int64, jobs []atsgate.Job) ([]int64, error) {
	now := s.now().UTC()
	var countryID int64
	if err := s.db.WithContext(ctx).Raw(`SELECT country_id FROM employers WHERE id = ?`, employerID).Scan(&countryID).Error; err != nil {
		return nil, translate(err, "employer")
	}
	if countryID == 0 {
		return nil, atsgate.Errorf(atsgate.ENOTFOUND, "employer %d not found", employerID)
	}
	var next int64
	if err := s.db.WithContext(ctx).Raw(`SELECT coalesce(max(id), 0) FROM jobs`).Scan(&next).Error; err != nil {
		return nil, translate(err, "jobs")
	}
	// A batch stays under both drivers' limit on bound parameters
	// (PostgreSQL 65,535; SQLite 32,766) at 28 columns a row.
	const batch = 1000
	ids := make([]int64, 0, len(jobs))
	rows := make([]jobRow, 0, batch)
	flush := func(tx *gorm.DB) error {
		if len(rows) == 0 {
			return nil
		}
		err := tx.Create(&rows).Error
		rows = rows[:0]
		return err
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		for i := range jobs {
			j := &jobs[i]
			next++
			published := j.PublishedAt.UTC()
			if j.PublishedAt.IsZero() {
				published = now
			}
			r := jobRow{ID: next, EmployerID: employerID, CountryID: countryID, ExternalID: j.ExternalID,
				Dialect: atsgate.DialectATS, State: string(atsgate.StatePublished), Title: j.Title, Description: j.Description,
				Deadline: j.Deadline, ApplyURL: j.ApplyURL, ApplyEmail: j.ApplyEmail, Salary: j.Salary,
				Specialization: j.Specialization, ShowCompanyName: j.ShowCompanyName,
				States: mustJSON(orEmpty(j.States)), Qualifications: mustJSON(orEmpty(j.Qualifications)), Extras: "{}",
				PublicPath: atsgate.PublicPath(next, j.Title), ReceivedAt: published, UpdatedAt: published, PublishedAt: &published}
			if len(j.Extras) > 0 {
				r.Extras = mustJSON(j.Extras)
			}
			rows = append(rows, r)
			ids = append(ids, next)
			if len(rows) == batch {
				if err := flush(tx); err != nil {
					return err
				}
			}
		}
		if err := flush(tx); err != nil {
			return err
		}
		if s.dialect == Postgres {
			// The sequence must continue after the IDs given here.
			return tx.Exec(`SELECT setval(pg_get_serial_sequence('jobs', 'id'), (SELECT max(id) FROM jobs))`).Error
		}
		return nil // AUTOINCREMENT follows explicit IDs by itself
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("load %d jobs", len(jobs)))
	}
	// Fresh statistics, so the planner knows the new rows at once.
	analyze := `ANALYZE jobs`
	if s.dialect == SQLite {
		analyze = `ANALYZE`
	}
	if err := s.db.WithContext(ctx).Exec(analyze).Error; err != nil {
		return nil, translate(err, "analyze jobs")
	}
	return ids, nil
}

func orEmpty(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
