package wire

import (
	"github.com/atsgate/atsgate/internal/atsgate"
)

// AdminToken is a back-office token as listings show it: its public
// prefix, never the secret.
type AdminToken struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Prefix    string `json:"prefix"`
	CreatedAt string `json:"created_at"`
	RevokedAt string `json:"revoked_at"` // "" while active
}

// NewAdminTokens is toks on the wire, [] rather than null when there are
// none.
func NewAdminTokens(toks []atsgate.AdminToken) []AdminToken {
	out := make([]AdminToken, len(toks))
	for i, t := range toks {
		out[i] = AdminToken{ID: t.ID, Name: t.Name, Role: string(t.Role), Prefix: t.Prefix,
			CreatedAt: instant(t.CreatedAt), RevokedAt: instant(t.RevokedAt)}
	}
	return out
}

// IssuedAdminToken is a new back-office token, the only time its secret is
// ever printed.
type IssuedAdminToken struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Prefix    string `json:"prefix"`
	Token     string `json:"token"`
	CreatedAt string `json:"created_at"`
}

// NewIssuedAdminToken is the plain token plain, just issued as t, on the
// wire.
func NewIssuedAdminToken(plain string, t *atsgate.AdminToken) IssuedAdminToken {
	return IssuedAdminToken{ID: t.ID, Name: t.Name, Role: string(t.Role), Prefix: t.Prefix, Token: plain,
		CreatedAt: instant(t.CreatedAt)}
}

// AdminTokenRevoked answers the revocation of a back-office token.
type AdminTokenRevoked struct {
	ID      int64 `json:"id"`
	Revoked bool  `json:"revoked"`
}

// LogEntry is one API request of the integration log. CountryID is absent
// when the host named no country, EmployerID when authentication failed.
type LogEntry struct {
	ID           int64   `json:"id"`
	Time         string  `json:"time"`
	CountryID    int64   `json:"country_id,omitempty"`
	EmployerID   int64   `json:"employer_id,omitempty"`
	KeyPrefix    string  `json:"key_prefix"`
	Dialect      string  `json:"dialect"`
	Operation    string  `json:"operation"`
	Source       string  `json:"source"` // the ERP source's name; "" for the ATS dialect
	Action       string  `json:"action"` // RESPONSE or ERROR, as the ERP seed names them
	ExternalID   string  `json:"external_id"`
	Status       int     `json:"status"`
	ErrorCode    string  `json:"error_code"`
	DurationMS   float64 `json:"duration_ms"` // a duration, not money: a float is exact enough
	ClientIP     string  `json:"client_ip"`
	RequestID    string  `json:"request_id"`
	Method       string  `json:"method"`
	Path         string  `json:"path"`
	RequestBody  string  `json:"request_body"`
	ResponseBody string  `json:"response_body"`
}

// NewLogEntries is entries on the wire, [] rather than null when there
// are none.
func NewLogEntries(entries []atsgate.LogEntry) []LogEntry {
	out := make([]LogEntry, len(entries))
	for i := range entries {
		l := &entries[i]
		out[i] = LogEntry{ID: l.ID, Time: instant(l.Time), CountryID: l.CountryID, EmployerID: l.EmployerID,
			KeyPrefix: l.KeyPrefix, Dialect: l.Dialect, Operation: l.Operation, Source: l.Source,
			Action: atsgate.LogAction(l.Status), ExternalID: l.ExternalID,
			Status: l.Status, ErrorCode: l.ErrorCode, DurationMS: float64(l.Duration.Microseconds()) / 1000,
			ClientIP: l.ClientIP, RequestID: l.RequestID, Method: l.Method, Path: l.Path,
			RequestBody: l.RequestBody, ResponseBody: l.ResponseBody}
	}
	return out
}

// LogList is the admin API's page of the integration log, newest first.
// NextBefore, when present, is the ?before= of the next page.
type LogList struct {
	Logs       []LogEntry `json:"logs"`
	NextBefore int64      `json:"next_before,omitempty"`
}

// Migration answers a migration of the database.
type Migration struct {
	Migrated bool   `json:"migrated"`
	Dialect  string `json:"dialect"`
}
