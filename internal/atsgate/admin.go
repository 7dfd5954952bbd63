package atsgate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Role is what an admin token may do in the back office.
type Role string

// The back-office roles of SPEC section 5.
const (
	// RoleOperator may do everything, including keys, top-ups and runs.
	RoleOperator Role = "operator"
	// RoleReviewer works the moderation queue.
	RoleReviewer Role = "reviewer"
	// RoleFinance reads wallets, statements, reconciliation and the
	// integration log, and changes nothing.
	RoleFinance Role = "finance"
)

// Roles lists every role, for usage messages and validation.
var Roles = []Role{RoleOperator, RoleReviewer, RoleFinance}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleOperator, RoleReviewer, RoleFinance:
		return true
	}
	return false
}

// Permission names one kind of back-office action; every admin endpoint and
// page requires exactly one.
type Permission string

// Back-office permissions.
const (
	PermCountriesRead      Permission = "countries:read"      // the country list
	PermEmployersRead      Permission = "employers:read"      // employers with balances
	PermWalletsRead        Permission = "wallets:read"        // statements and CSV exports
	PermWalletsWrite       Permission = "wallets:write"       // top-ups and adjustments
	PermKeysWrite          Permission = "keys:write"          // issue, rotate, disable API keys
	PermJobsRead           Permission = "jobs:read"           // a job with its events
	PermReviewsRead        Permission = "reviews:read"        // the moderation queue
	PermReviewsWrite       Permission = "reviews:write"       // approve, disapprove
	PermReconciliationRead Permission = "reconciliation:read" // monthly reports
	PermReconciliationRun  Permission = "reconciliation:run"  // post a month's minimum spend
	PermLogsRead           Permission = "logs:read"           // the integration log
	PermWebhooksRead       Permission = "webhooks:read"       // endpoints and deliveries
	PermWebhooksWrite      Permission = "webhooks:write"      // set, disable, re-send
)

// rolePermissions is the one table of who may do what. Operators are not
// listed: they may do everything.
var rolePermissions = map[Role]map[Permission]bool{
	RoleReviewer: {
		PermCountriesRead: true,
		PermJobsRead:      true,
		PermReviewsRead:   true,
		PermReviewsWrite:  true,
	},
	RoleFinance: {
		PermCountriesRead:      true,
		PermEmployersRead:      true,
		PermWalletsRead:        true,
		PermJobsRead:           true,
		PermReconciliationRead: true,
		PermLogsRead:           true,
		PermWebhooksRead:       true,
	},
}

// Can reports whether the role holds permission p.
func (r Role) Can(p Permission) bool {
	if r == RoleOperator {
		return true
	}
	return rolePermissions[r][p]
}

// AdminToken is the stored half of a back-office token: its hash and a
// prefix that identifies it in listings, never the secret.
type AdminToken struct {
	ID        int64
	Name      string
	Role      Role
	Prefix    string
	CreatedAt time.Time
	RevokedAt time.Time // zero while active
}

// Actor names the token's holder in ledger entries and job events.
func (t *AdminToken) Actor() string { return "admin:" + t.Name }

// AdminTokenPrefix starts every admin token, so a leaked one is recognisable
// and can never be mistaken for an employer's API key.
const AdminTokenPrefix = "atsadm_"

// NewAdminToken returns a fresh token "atsadm_<43 base62 characters>"
// (256 random bits), with the hash to store and the prefix to show.
func NewAdminToken() (plain, hash, prefix string, err error) {
	secret, err := randomBase62()
	if err != nil {
		return "", "", "", err
	}
	plain = AdminTokenPrefix + secret
	return plain, HashAPIKey(plain), plain[:len(AdminTokenPrefix)+keyPrefixSecretChars], nil
}

// ValidAdminTokenShape reports whether plain looks like an admin token, so
// obvious junk is refused without a database round trip.
func ValidAdminTokenShape(plain string) bool {
	secret, ok := strings.CutPrefix(plain, AdminTokenPrefix)
	if !ok || len(secret) < 20 || len(secret) > 128 {
		return false
	}
	for i := 0; i < len(secret); i++ {
		if strings.IndexByte(base62, secret[i]) < 0 {
			return false
		}
	}
	return true
}

// randomBase62 is 256 random bits as 43 base62 characters.
func randomBase62() (string, error) {
	plain, _, _, err := NewAPIKey("xx")
	if err != nil {
		return "", err
	}
	_, secret, _ := SplitAPIKey(plain)
	return secret, nil
}

// AdminSession is a signed-in browser: the cookie holds a random secret whose
// hash is the session's ID; CSRF is the token every form must echo back.
type AdminSession struct {
	ID        string // SHA-256 hex of the cookie value
	Token     AdminToken
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NewSessionSecret returns a random cookie value and its hash, or a CSRF
// token (when only the first is used).
func NewSessionSecret() (plain, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	plain = hex.EncodeToString(b)
	return plain, HashAPIKey(plain), nil
}

// AdminSessionTTL is how long a back-office sign-in lasts.
const AdminSessionTTL = 12 * time.Hour

// Admins authenticates back-office users.
type Admins interface {
	// AuthenticateAdmin returns the active token with this hash.
	// EUNAUTHORIZED for an unknown or revoked one.
	AuthenticateAdmin(ctx context.Context, hash string) (*AdminToken, error)
	// CreateAdminSession starts a session for an active token and returns
	// the cookie value, which exists nowhere else. EUNAUTHORIZED.
	CreateAdminSession(ctx context.Context, tokenID int64, ttl time.Duration) (cookie string, s *AdminSession, err error)
	// AdminSession returns the live session whose cookie hashes to id.
	// EUNAUTHORIZED when it is unknown, expired, or its token was revoked.
	AdminSession(ctx context.Context, id string) (*AdminSession, error)
	// DeleteAdminSession ends a session; ending an unknown one is no error.
	DeleteAdminSession(ctx context.Context, id string) error
}

// BackOffice is everything the back office reads and changes, beyond the
// moderation and wallet interfaces.
type BackOffice interface {
	Admins
	Moderation
	Wallets
	Reconciler
	LogReader
	ERPAdmin
	// Countries lists every country, by code.
	Countries(ctx context.Context) ([]Country, error)
	// Country returns a country by ID or code. ENOTFOUND.
	Country(ctx context.Context, idOrCode string) (*Country, error)
	// EmployerPage lists up to limit (1–MaxEmployerPage) employers with
	// IDs above afterID, optionally of one country, by ID, and the afterID
	// of the next page: 0 when this one is the last. EINVALID for a limit
	// out of range.
	EmployerPage(ctx context.Context, countryID, afterID int64, limit int) (emps []Employer, next int64, err error)
	// Employer returns one employer. ENOTFOUND.
	Employer(ctx context.Context, id int64) (*Employer, error)
	// Balances returns each employer's wallet balance, by employer ID.
	Balances(ctx context.Context, employerIDs []int64) (map[int64]Money, error)
	// IssueKey makes a new active key for the employer, revoking any other;
	// with mustHaveActive (rotation) ENOTFOUND when there is none.
	IssueKey(ctx context.Context, employerID int64, mustHaveActive bool) (plain string, key *APIKey, err error)
	// DisableKey revokes the employer's active key. ENOTFOUND.
	DisableKey(ctx context.Context, employerID int64) error
	// Keys lists an employer's keys, newest first.
	Keys(ctx context.Context, employerID int64) ([]APIKey, error)
	// JobByID returns any job. ENOTFOUND.
	JobByID(ctx context.Context, id int64) (*Job, error)
	// CountryBalances sums the wallets of each country's employers.
	CountryBalances(ctx context.Context) ([]CountryBalance, error)
}

// MaxEmployerPage bounds a page of employers.
const MaxEmployerPage = 200

// CountryBalance is the money held in one country's wallets.
type CountryBalance struct {
	CountryID int64
	Employers int64
	Balance   Money
}

// LogReader reads the integration log.
type LogReader interface {
	// Logs returns entries matching f, newest first.
	Logs(ctx context.Context, f LogFilter) ([]LogEntry, error)
}
