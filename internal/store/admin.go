package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/atsgate/atsgate/internal/atsgate"
)

type adminTokenRow struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	Role      string
	Hash      string
	Prefix    string
	CreatedAt time.Time
	RevokedAt *time.Time
}

func (adminTokenRow) TableName() string { return "admin_tokens" }

func (r *adminTokenRow) domain() atsgate.AdminToken {
	return atsgate.AdminToken{ID: r.ID, Name: r.Name, Role: atsgate.Role(r.Role), Prefix: r.Prefix,
		CreatedAt: r.CreatedAt.UTC(), RevokedAt: timeOrZero(r.RevokedAt)}
}

type adminSessionRow struct {
	ID        string `gorm:"primaryKey"`
	TokenID   int64
	CSRF      string `gorm:"column:csrf"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (adminSessionRow) TableName() string { return "admin_sessions" }

// IssueAdminToken creates a back-office token with a role and returns the
// plain token: the only time it exists outside the caller's hands. EINVALID
// for an unknown role or an over-long name; ECONFLICT when an active token
// already has the name, which is the holder's actor (admin:<name>) in
// ledgers and job events and so must say who acted. The unique index
// admin_tokens_active_name decides, so concurrent issues cannot both win;
// a revoked token's name may be given again.
func (s *Store) IssueAdminToken(ctx context.Context, name string, role atsgate.Role) (plain string, tok *atsgate.AdminToken, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	name = strings.TrimSpace(name)
	fields := map[string]string{}
	if !role.Valid() {
		fields["role"] = "must be operator, reviewer or finance"
	}
	if name == "" {
		name = string(role)
	}
	if len(name) > 100 || strings.ContainsAny(name, "\r\n\t") {
		fields["name"] = "must be at most 100 characters on one line"
	}
	if len(fields) > 0 {
		return "", nil, atsgate.Invalid(fields)
	}
	plain, hash, prefix, err := atsgate.NewAdminToken()
	if err != nil {
		return "", nil, atsgate.Internal(err)
	}
	row := adminTokenRow{Name: name, Role: string(role), Hash: hash, Prefix: prefix, CreatedAt: s.now().UTC()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return "", nil, &atsgate.Error{Code: atsgate.ECONFLICT, Err: err, Message: fmt.Sprintf(
				"an active admin token is already named %q; choose another name, or revoke that token first", name)}
		}
		return "", nil, translate(err, "admin token")
	}
	t := row.domain()
	return plain, &t, nil
}

// AdminTokens lists every back-office token, newest first.
func (s *Store) AdminTokens(ctx context.Context) ([]atsgate.AdminToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []adminTokenRow
	if err := s.rdb.WithContext(ctx).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "admin tokens")
	}
	out := make([]atsgate.AdminToken, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// RevokeAdminToken revokes a token and ends its sessions. ENOTFOUND when
// no active token has this ID.
func (s *Store) RevokeAdminToken(ctx context.Context, id int64) error {
	return s.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&adminTokenRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.now().UTC())
		if res.Error != nil {
			return translate(res.Error, "admin token")
		}
		if res.RowsAffected == 0 {
			return atsgate.Errorf(atsgate.ENOTFOUND, "no active admin token %d", id)
		}
		return translate(tx.Where("token_id = ?", id).Delete(&adminSessionRow{}).Error, "admin sessions")
	})
}

// AuthenticateAdmin implements atsgate.Admins. Tokens are looked up on
// every request, so a revocation takes effect at once everywhere.
func (s *Store) AuthenticateAdmin(ctx context.Context, hash string) (*atsgate.AdminToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []adminTokenRow
	if err := s.rdb.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", hash).Limit(1).Find(&rows).Error; err != nil {
		return nil, translate(err, "admin token")
	}
	if len(rows) == 0 {
		return nil, atsgate.Errorf(atsgate.EUNAUTHORIZED, "the admin token is not valid")
	}
	t := rows[0].domain()
	return &t, nil
}

// CreateAdminSession implements atsgate.Admins. Expired sessions are swept
// on the way, so the table stays the size of the signed-in staff.
func (s *Store) CreateAdminSession(ctx context.Context, tokenID int64, ttl time.Duration) (string, *atsgate.AdminSession, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	cookie, id, err := atsgate.NewSessionSecret()
	if err != nil {
		return "", nil, atsgate.Internal(err)
	}
	csrf, _, err := atsgate.NewSessionSecret()
	if err != nil {
		return "", nil, atsgate.Internal(err)
	}
	now := s.now().UTC()
	row := adminSessionRow{ID: id, TokenID: tokenID, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	var tok adminTokenRow
	err = s.transact(ctx, func(tx *gorm.DB) error {
		var toks []adminTokenRow
		if err := tx.Where("id = ? AND revoked_at IS NULL", tokenID).Limit(1).Find(&toks).Error; err != nil {
			return err
		}
		if len(toks) == 0 {
			return atsgate.Errorf(atsgate.EUNAUTHORIZED, "the admin token is not valid")
		}
		tok = toks[0]
		if err := tx.Where("expires_at < ?", now).Delete(&adminSessionRow{}).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return "", nil, translate(err, "admin session")
	}
	return cookie, &atsgate.AdminSession{ID: id, Token: tok.domain(), CSRF: csrf, CreatedAt: now, ExpiresAt: row.ExpiresAt}, nil
}

// AdminSession implements atsgate.Admins.
func (s *Store) AdminSession(ctx context.Context, id string) (*atsgate.AdminSession, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var r struct {
		ID         string
		TokenID    int64
		CSRF       string `gorm:"column:csrf"`
		CreatedAt  time.Time
		ExpiresAt  time.Time
		TName      string
		TRole      string
		TPrefix    string
		TCreatedAt time.Time
	}
	err := s.rdb.WithContext(ctx).Raw(`
SELECT s.id, s.token_id, s.csrf, s.created_at, s.expires_at,
       t.name AS t_name, t.role AS t_role, t.prefix AS t_prefix, t.created_at AS t_created_at
FROM admin_sessions s
JOIN admin_tokens t ON t.id = s.token_id
WHERE s.id = ? AND s.expires_at > ? AND t.revoked_at IS NULL`, id, s.now().UTC()).Scan(&r).Error
	if err != nil {
		return nil, translate(err, "admin session")
	}
	if r.ID == "" {
		return nil, atsgate.Errorf(atsgate.EUNAUTHORIZED, "the session has ended; sign in again")
	}
	return &atsgate.AdminSession{ID: r.ID, CSRF: r.CSRF, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		Token: atsgate.AdminToken{ID: r.TokenID, Name: r.TName, Role: atsgate.Role(r.TRole), Prefix: r.TPrefix, CreatedAt: r.TCreatedAt.UTC()}}, nil
}

// DeleteAdminSession implements atsgate.Admins.
func (s *Store) DeleteAdminSession(ctx context.Context, id string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return translate(s.db.WithContext(ctx).Where("id = ?", id).Delete(&adminSessionRow{}).Error, "admin session")
}

// EmployerPage implements atsgate.BackOffice: keyset pages by ID, so a
// page costs the same however far into the list it is. It reads one row
// more than the page to know whether another follows: that is its own
// business, so a caller asks for the page it shows, up to the largest.
func (s *Store) EmployerPage(ctx context.Context, countryID, afterID int64, limit int) ([]atsgate.Employer, int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if limit < 1 || limit > atsgate.MaxEmployerPage {
		return nil, 0, atsgate.Invalid(map[string]string{"limit": fmt.Sprintf("must be 1–%d", atsgate.MaxEmployerPage)})
	}
	q := s.rdb.WithContext(ctx).Where("id > ?", afterID)
	if countryID != 0 {
		q = q.Where("country_id = ?", countryID)
	}
	var rows []employerRow
	if err := q.Order("id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "employers")
	}
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	out := make([]atsgate.Employer, len(rows))
	for i := range rows {
		out[i] = *employerFromRow(&rows[i])
	}
	return out, next, nil
}

var _ atsgate.BackOffice = (*Store)(nil)

// CountryBalances implements atsgate.BackOffice: one aggregate over the
// wallets, never a walk over the employers.
func (s *Store) CountryBalances(ctx context.Context) ([]atsgate.CountryBalance, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []struct {
		CountryID int64
		Currency  string
		Employers int64
		Minor     int64
	}
	err := s.rdb.WithContext(ctx).Raw(`
SELECT e.country_id, w.currency, COUNT(*) AS employers, COALESCE(SUM(w.balance_minor), 0) AS minor
FROM wallets w JOIN employers e ON e.id = w.employer_id
GROUP BY e.country_id, w.currency
ORDER BY e.country_id, w.currency`).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "country balances")
	}
	out := make([]atsgate.CountryBalance, len(rows))
	for i, r := range rows {
		out[i] = atsgate.CountryBalance{CountryID: r.CountryID, Employers: r.Employers,
			Balance: atsgate.Money{Amount: fromMinor(r.Minor), Currency: r.Currency}}
	}
	return out, nil
}
