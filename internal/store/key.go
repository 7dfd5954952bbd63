package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/atsgate/atsgate/internal/atsgate"
)

type keyRow struct {
	ID         int64 `gorm:"primaryKey"`
	EmployerID int64
	Prefix     string
	Hash       string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (keyRow) TableName() string { return "api_keys" }

// IssueKey creates a new active key for the employer, revoking any active
// one in the same transaction, and returns the plain key: the only time it
// exists outside the caller's hands. With mustHaveActive (rotate) it is
// ENOTFOUND when the employer has no active key.
func (s *Store) IssueKey(ctx context.Context, employerID int64, mustHaveActive bool) (plain string, key *atsgate.APIKey, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var emp employerRow
	if err := s.rdb.WithContext(ctx).Take(&emp, employerID).Error; err != nil {
		return "", nil, translate(err, fmt.Sprintf("employer %d", employerID))
	}
	var country countryRow
	if err := s.rdb.WithContext(ctx).Take(&country, emp.CountryID).Error; err != nil {
		return "", nil, translate(err, "country")
	}
	plain, hash, prefix, err := atsgate.NewAPIKey(country.Code)
	if err != nil {
		return "", nil, atsgate.Internal(err)
	}
	now := s.now().UTC()
	row := keyRow{EmployerID: employerID, Prefix: prefix, Hash: hash, CreatedAt: now}
	err = s.transact(ctx, func(tx *gorm.DB) error {
		// Key changes of one employer take turns: without this, a concurrent
		// issue's new key is invisible to this UPDATE, so a rotate answers
		// ENOTFOUND and an issue hits the one-active-key index. NO KEY UPDATE
		// leaves job inserts (FOR KEY SHARE on the employer) unblocked.
		if s.dialect == Postgres {
			if err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Select("id").Take(&employerRow{}, employerID).Error; err != nil {
				return err
			}
		}
		res := tx.Model(&keyRow{}).Where("employer_id = ? AND revoked_at IS NULL", employerID).Update("revoked_at", now)
		if res.Error != nil {
			return res.Error
		}
		if mustHaveActive && res.RowsAffected == 0 {
			return atsgate.Errorf(atsgate.ENOTFOUND, "employer %d has no active key to rotate; issue one", employerID)
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return "", nil, translate(err, "api key")
	}
	s.authChanged(ctx) // the revoked key, if any, is refused everywhere from now on
	return plain, &atsgate.APIKey{ID: row.ID, EmployerID: employerID, Prefix: prefix, CreatedAt: now}, nil
}

// DisableKey revokes the employer's active key. ENOTFOUND when none is.
func (s *Store) DisableKey(ctx context.Context, employerID int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Model(&keyRow{}).
		Where("employer_id = ? AND revoked_at IS NULL", employerID).Update("revoked_at", s.now().UTC())
	if res.Error != nil {
		return translate(res.Error, "api key")
	}
	if res.RowsAffected == 0 {
		return atsgate.Errorf(atsgate.ENOTFOUND, "employer %d has no active key", employerID)
	}
	s.authChanged(ctx)
	return nil
}

// Keys lists an employer's keys, newest first.
func (s *Store) Keys(ctx context.Context, employerID int64) ([]atsgate.APIKey, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []keyRow
	if err := s.rdb.WithContext(ctx).Where("employer_id = ?", employerID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "api keys")
	}
	out := make([]atsgate.APIKey, len(rows))
	for i, r := range rows {
		out[i] = atsgate.APIKey{ID: r.ID, EmployerID: r.EmployerID, Prefix: r.Prefix, CreatedAt: r.CreatedAt.UTC(), RevokedAt: timeOrZero(r.RevokedAt)}
	}
	return out, nil
}

// principalRow is the employer and country half of the one-query joins
// behind Authenticate and AuthenticateERP: an employer's key and its ERP
// sources must make the same Principal of the same columns. Both hold it
// as a named field tagged embedded: GORM does not read an unexported
// struct embedded without a name, and would leave it empty.
type principalRow struct {
	Employer    employerRow `gorm:"embedded"`
	CID         int64
	CCode       string
	CName       string
	CCurrency   string
	CTimeZone   string
	CPriceMinor int64
	CPublicURL  string
}

// principal is the Principal of r for the key keyID with keyPrefix.
func (s *Store) principal(r *principalRow, keyID int64, keyPrefix string) atsgate.Principal {
	c := countryRow{ID: r.CID, Code: r.CCode, Name: r.CName, Currency: r.CCurrency, TimeZone: r.CTimeZone,
		PriceMinor: r.CPriceMinor, PublicURL: r.CPublicURL}
	return atsgate.Principal{
		Employer:  *employerFromRow(&r.Employer),
		Country:   *s.countryFromRow(&c, nil),
		KeyID:     keyID,
		KeyPrefix: keyPrefix,
	}
}

// authRow is the one-query join behind Authenticate.
type authRow struct {
	KeyID     int64
	KeyPrefix string
	Principal principalRow `gorm:"embedded"`
}

// Authenticate implements atsgate.Directory. The store looks the key up on
// every call; the HTTP layer's AuthCache avoids the call while the shared
// authentication generation, bumped by every key change (authChanged), says
// nothing changed, so a rotation or disable still takes effect on the very
// next request on every instance.
func (s *Store) Authenticate(ctx context.Context, keyHash string) (*atsgate.Principal, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var r authRow
	err := s.rdb.WithContext(ctx).Raw(`
SELECT k.id AS key_id, k.prefix AS key_prefix,
       e.id, e.country_id, e.name, e.code, e.price_minor, e.auto_publish,
       e.min_monthly_spend_minor, e.commitment_start, e.active, e.created_at,
       c.id AS c_id, c.code AS c_code, c.name AS c_name, c.currency AS c_currency,
       c.time_zone AS c_time_zone, c.price_minor AS c_price_minor, c.public_url AS c_public_url
FROM api_keys k
JOIN employers e ON e.id = k.employer_id
JOIN countries c ON c.id = e.country_id
WHERE k.hash = ? AND k.revoked_at IS NULL`, keyHash).Scan(&r).Error
	if err != nil {
		return nil, translate(err, "api key")
	}
	if r.KeyID == 0 || !r.Principal.Employer.Active {
		return nil, atsgate.Errorf(atsgate.EUNAUTHORIZED, "the API key is not valid")
	}
	p := s.principal(&r.Principal, r.KeyID, r.KeyPrefix)
	return &p, nil
}
