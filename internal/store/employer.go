package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

type employerRow struct {
	ID                   int64 `gorm:"primaryKey"`
	CountryID            int64
	Name                 string
	Code                 string
	PriceMinor           *int64 `gorm:"column:price_minor"`
	AutoPublish          bool
	MinMonthlySpendMinor *int64  `gorm:"column:min_monthly_spend_minor"`
	CommitmentStart      *string `gorm:"column:commitment_start"`
	Active               bool
	CreatedAt            time.Time
}

func (employerRow) TableName() string { return "employers" }

func employerFromRow(r *employerRow) *atsgate.Employer {
	e := &atsgate.Employer{
		ID: r.ID, CountryID: r.CountryID, Name: r.Name, Code: r.Code,
		Price: nullFromMinor(r.PriceMinor), AutoPublish: r.AutoPublish,
		MinMonthlySpend: nullFromMinor(r.MinMonthlySpendMinor), Active: r.Active,
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.CommitmentStart != nil {
		e.CommitmentStart = *r.CommitmentStart
	}
	return e
}

// CreateEmployer adds an employer and its empty wallet. EINVALID for what
// atsgate.EmployerInput.Validate refuses, ENOTFOUND for an unknown
// country, ECONFLICT for a chosen code already taken.
func (s *Store) CreateEmployer(ctx context.Context, in atsgate.EmployerInput) (*atsgate.Employer, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	e, err := in.Validate()
	if err != nil {
		return nil, err
	}
	row := employerRow{CountryID: e.CountryID, Name: e.Name, PriceMinor: nullToMinor(e.Price), AutoPublish: e.AutoPublish,
		MinMonthlySpendMinor: nullToMinor(e.MinMonthlySpend), Active: e.Active, CreatedAt: s.now().UTC()}
	if e.CommitmentStart != "" {
		row.CommitmentStart = &e.CommitmentStart
	}
	code, explicitCode := e.Code, !in.DerivedCode()
	country, err := s.Country(ctx, fmt.Sprint(e.CountryID))
	if err != nil {
		return nil, err
	}
	create := func(tx *gorm.DB) error {
		row.ID = 0
		row.Code = code
		if !explicitCode {
			// A derived code gets a numeric suffix when taken.
			var taken []string
			if err := tx.Model(&employerRow{}).Where("code = ? OR code LIKE ?", code, code+"_%").Pluck("code", &taken).Error; err != nil {
				return err
			}
			row.Code = uniqueCode(code, taken)
		}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, "employer code "+row.Code)
		}
		return tx.Create(&walletRow{EmployerID: row.ID, Currency: country.Currency, UpdatedAt: row.CreatedAt}).Error
	}
	err = s.transact(ctx, create)
	// Two employers created at once with the same derived code: the loser
	// of the unique index tries again with the next free suffix.
	for attempt := 0; attempt < 10 && !explicitCode && atsgate.ErrorCode(err) == atsgate.ECONFLICT; attempt++ {
		err = s.transact(ctx, create)
	}
	if err != nil {
		return nil, translate(err, "employer")
	}
	return employerFromRow(&row), nil
}

// uniqueCode is base when it is free, else base_2, base_3, … whichever
// comes first that is not taken.
func uniqueCode(base string, taken []string) string {
	set := map[string]bool{}
	for _, t := range taken {
		set[t] = true
	}
	if !set[base] {
		return base
	}
	for i := 2; ; i++ {
		c := fmt.Sprintf("%s_%d", base, i)
		if !set[c] {
			return c
		}
	}
}

// Employers lists employers, optionally of one country, by ID.
func (s *Store) Employers(ctx context.Context, countryID int64) ([]atsgate.Employer, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []employerRow
	q := s.rdb.WithContext(ctx).Order("id")
	if countryID != 0 {
		q = q.Where("country_id = ?", countryID)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err, "employers")
	}
	out := make([]atsgate.Employer, len(rows))
	for i := range rows {
		out[i] = *employerFromRow(&rows[i])
	}
	return out, nil
}

// Employer returns one employer. ENOTFOUND.
func (s *Store) Employer(ctx context.Context, id int64) (*atsgate.Employer, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var row employerRow
	if err := s.rdb.WithContext(ctx).Take(&row, id).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("employer %d", id))
	}
	return employerFromRow(&row), nil
}
