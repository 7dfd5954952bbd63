package wire

import "github.com/atsgate/atsgate/internal/atsgate"

// ERPSource is an employer's ERP integration as operators see it: never
// its key or secret, only the key's prefix.
type ERPSource struct {
	ID                 int64    `json:"id"`
	EmployerID         int64    `json:"employer_id"`
	Name               string   `json:"name"`
	SourceType         string   `json:"source_type"` // "ERP"
	Description        string   `json:"description"`
	KeyPrefix          string   `json:"key_prefix"`
	TrustedIPs         []string `json:"trusted_ips"` // CIDRs; [] allows any address
	Active             bool     `json:"active"`
	RequireSignature   bool     `json:"require_signature"`
	IntegrationVersion string   `json:"integration_version"`
	// SyncStatus is IDLE until the first request, then ACTIVE, or ERROR
	// while the last request failed.
	SyncStatus      string `json:"sync_status"`
	LastSuccessAt   string `json:"last_success_at"` // RFC 3339 UTC; "" never
	LastFailureAt   string `json:"last_failure_at"`
	LastFailureCode string `json:"last_failure_code"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
}

// NewERPSource is s on the wire.
func NewERPSource(s *atsgate.ERPSource) ERPSource {
	ips := s.TrustedIPs
	if ips == nil {
		ips = []string{}
	}
	return ERPSource{ID: s.ID, EmployerID: s.EmployerID, Name: s.Name, SourceType: s.SourceType, Description: s.Description,
		KeyPrefix: s.KeyPrefix, TrustedIPs: ips, Active: s.Active, RequireSignature: s.RequireSignature,
		IntegrationVersion: s.IntegrationVersion, SyncStatus: s.SyncStatus, LastSuccessAt: instant(s.LastSuccessAt),
		LastFailureAt: instant(s.LastFailureAt), LastFailureCode: s.LastFailureCode, CreatedAt: instant(s.CreatedAt),
		UpdatedAt: instant(s.UpdatedAt)}
}

// NewERPSources is ss on the wire, [] rather than null when there are none.
func NewERPSources(ss []atsgate.ERPSource) []ERPSource {
	out := make([]ERPSource, len(ss))
	for i := range ss {
		out[i] = NewERPSource(&ss[i])
	}
	return out
}

// ERPSourceList is the admin API's list of sources.
type ERPSourceList struct {
	Sources []ERPSource `json:"sources"`
}

// ERPCredentials is a source with its new key and secret, printed once
// when the source is added or rotated: the ERP sends the key as X-API-Key
// and signs with the secret.
type ERPCredentials struct {
	Source    ERPSource `json:"source"`
	APIKey    string    `json:"api_key"`
	APISecret string    `json:"api_secret"`
}
