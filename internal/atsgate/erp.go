package atsgate

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ERP dialect error codes (SPEC section 7): the seed's error dictionary
// and the few the contract adds. They are upper case, as the seed spells
// them, and part of the public API like the ATS codes.
const (
	EMISSINGFIELD     = "MISSING_FIELD"     // 400
	EINVALIDTYPE      = "INVALID_TYPE"      // 400
	EINVALIDURL       = "INVALID_URL"       // 400
	EJOBEXISTS        = "JOB_EXISTS"        // 409, data.job_id names the open job
	EINVALIDSOURCE    = "INVALID_SOURCE"    // 404
	EIPNOTALLOWED     = "IP_NOT_ALLOWED"    // 403
	EINVALIDSIGNATURE = "INVALID_SIGNATURE" // 401
	EINVALIDAPIKEY    = "INVALID_API_KEY"   // 401
	ESOURCEINACTIVE   = "SOURCE_INACTIVE"   // 401
	EJOBNOTFOUND      = "JOB_NOT_FOUND"     // 404
	EINVALIDSTATUS    = "INVALID_STATUS"    // 409
	EBATCHTOOLARGE    = "BATCH_TOO_LARGE"   // 400
)

// EINVALIDENCODING is a request body whose Content-Encoding could not be
// decoded (a broken gzip stream, an encoding atsgate does not take): 400
// in both dialects.
const EINVALIDENCODING = "invalid_encoding"

// ERP sync statuses of a source (SPEC section 7).
const (
	SyncIdle   = "IDLE"
	SyncActive = "ACTIVE"
	SyncError  = "ERROR"
)

// ERPSourceType is the only source type atsgate has.
const ERPSourceType = "ERP"

// MaxBatchOperations is how many operations one ERP batch may hold.
const MaxBatchOperations = 100

// SignatureTolerance is how far X-Timestamp may be from the server's clock.
const SignatureTolerance = 300 * time.Second

// ERPSource is an employer's ERP integration: its name (what requests
// send as source_name), its credentials (stored as a hash, and the secret
// also sealed) and its state.
type ERPSource struct {
	ID                 int64
	EmployerID         int64
	Name               string
	SourceType         string
	Description        string
	KeyPrefix          string
	TrustedIPs         []string // CIDRs; empty allows any address
	Active             bool
	RequireSignature   bool
	IntegrationVersion string
	SyncStatus         string
	LastSuccessAt      time.Time
	LastFailureAt      time.Time
	LastFailureCode    string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// ERPSourceInput is what an operator gives to add a source.
type ERPSourceInput struct {
	EmployerID         int64
	Name               string
	Description        string
	TrustedIPs         string // comma-separated CIDRs or addresses
	IntegrationVersion string
	RequireSignature   bool
}

// sourceNameRE is the shape of a source name: it is sent in every request
// body, so it stays plain.
var sourceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$`)

// Validate normalises the input and returns the source it describes, or
// EINVALID naming the bad fields.
func (in ERPSourceInput) Validate() (*ERPSource, error) {
	fields := map[string]string{}
	name := strings.TrimSpace(in.Name)
	if !sourceNameRE.MatchString(name) {
		fields["name"] = "must be 1–100 letters, digits, '_', '-' or '.', starting with a letter or digit"
	}
	if in.EmployerID <= 0 {
		fields["employer"] = "is required"
	}
	ips, err := ParseTrustedIPs(in.TrustedIPs)
	if err != nil {
		fields["trusted_ips"] = err.Error()
	}
	version := strings.TrimSpace(in.IntegrationVersion)
	if version == "" {
		version = "1.0"
	}
	if len(version) > 32 {
		fields["integration_version"] = "must be at most 32 characters"
	}
	desc := strings.TrimSpace(in.Description)
	if len(desc) > 1000 {
		fields["description"] = "must be at most 1000 characters"
	}
	if len(fields) > 0 {
		return nil, Invalid(fields)
	}
	return &ERPSource{EmployerID: in.EmployerID, Name: name, SourceType: ERPSourceType, Description: desc,
		TrustedIPs: ips, Active: true, RequireSignature: in.RequireSignature, IntegrationVersion: version,
		SyncStatus: SyncIdle}, nil
}

// ParseTrustedIPs reads a comma-separated list of CIDRs and single
// addresses (IPv4 or IPv6) into canonical CIDRs.
func ParseTrustedIPs(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			part = fmt.Sprintf("%s/%d", ip, bits)
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR", part)
		}
		out = append(out, n.String())
	}
	return out, nil
}

// AllowsIP reports whether the client address ip may use the source: any
// address when the list is empty. An IPv4-mapped IPv6 address counts as
// its IPv4 form.
func (s *ERPSource) AllowsIP(ip string) bool {
	if len(s.TrustedIPs) == 0 {
		return true
	}
	addr := net.ParseIP(strings.TrimSpace(ip))
	if addr == nil {
		return false
	}
	for _, cidr := range s.TrustedIPs {
		if _, n, err := net.ParseCIDR(cidr); err == nil && n.Contains(addr) {
			return true
		}
	}
	return false
}

// ERPPrincipal is an authenticated ERP caller: the employer and country
// of its source, the source, and the source's signing secret, opened for
// this request only.
type ERPPrincipal struct {
	Principal
	Source ERPSource
	Secret []byte
}

// ERPSources manages the ERP sources and authenticates their keys.
type ERPSources interface {
	// AuthenticateERP returns the source whose key has this hash, with its
	// employer, country and opened secret; it is read on every call, never
	// cached, so a rotation or disable acts on the very next request.
	// EINVALIDAPIKEY for an unknown key, ESOURCEINACTIVE for a disabled
	// source or an inactive employer.
	AuthenticateERP(ctx context.Context, keyHash string) (*ERPPrincipal, error)
	// NoteERPSync records the outcome of a source's request for its sync
	// status: success (code "") or failure with its error code.
	NoteERPSync(ctx context.Context, sourceID int64, code string, at time.Time) error
}

// ERPJobs is what the ERP dialect adds to Jobs.
type ERPJobs interface {
	// CreateERPJob stores a new job like CreateJob, giving it the next ERP
	// job ID of its employer and year as its external ID. It is published
	// at once only when publish is set and the employer may auto-publish;
	// otherwise it waits for review. EJOBEXISTS (with the open job's ID in
	// the error's JobID) when an open job of the employer has the same
	// title, EFUNDS when the wallet cannot pay.
	CreateERPJob(ctx context.Context, p *Principal, in JobInput, publish bool) (*Job, error)
	// ArchiveJob closes an open job (CloseJob) and hides it from the
	// employer's lists. ENOTFOUND.
	ArchiveJob(ctx context.Context, p *Principal, externalID string) (*Job, error)
}

// ExistingJobError is the EJOBEXISTS refusal with the job already open
// under that title.
func ExistingJobError(jobID string) *Error {
	return &Error{Code: EJOBEXISTS, Message: "an open job with this title already exists; update it instead",
		JobID: jobID}
}

// ERPJobID formats the ERP job ID of an employer's seq-th job of a year:
// "ACME-2026-0001". Past 9999 the number simply grows a digit.
func ERPJobID(employerCode string, year int, seq int64) string {
	return fmt.Sprintf("%s-%d-%04d", employerCode, year, seq)
}

// SameTitle is how JOB_EXISTS compares titles: trimmed, case folded.
func SameTitle(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// ERPStatus is how the ERP dialect names a job's state (SPEC section 7).
func ERPStatus(s JobState, archived bool) string {
	switch {
	case archived:
		return "ARCHIVED"
	case s == StatePending:
		return "DRAFT"
	case s == StatePublished:
		return "PUBLISHED"
	}
	return "CLOSED"
}

// NewERPCredentials returns a fresh source key "erp_<cc>_<secret>" (with
// its hash and public prefix) and a fresh signing secret (with its hash).
func NewERPCredentials(countryCode string) (key, keyHash, keyPrefix, secret, secretHash string, err error) {
	plain, _, _, err := NewAPIKey(countryCode)
	if err != nil {
		return "", "", "", "", "", err
	}
	key = "erp_" + strings.TrimPrefix(plain, "mjm_")
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", "", "", "", "", err
	}
	secret = "erpsec_" + hex.EncodeToString(buf)
	return key, HashAPIKey(key), ERPKeyPrefix(key), secret, HashAPIKey(secret), nil
}

// ERPKeyPrefix is the part of an ERP key safe to show and log
// ("erp_gh_AbCd"); "" for anything not shaped like one.
func ERPKeyPrefix(plain string) string {
	rest, ok := strings.CutPrefix(plain, "erp_")
	if !ok {
		return ""
	}
	p := KeyPrefix("mjm_" + rest)
	if p == "" {
		return ""
	}
	return "erp_" + strings.TrimPrefix(p, "mjm_")
}

// SignERP is the hex HMAC-SHA256 of timestamp + "." + body under secret:
// what X-Signature carries after "sha256=".
func SignERP(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// CheckERPSignature verifies a request's X-Timestamp and X-Signature
// against the secret at time now, in constant time. EINVALIDSIGNATURE,
// with a message saying which part failed.
func CheckERPSignature(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	bad := func(msg string) error { return Errorf(EINVALIDSIGNATURE, "%s", msg) }
	if timestamp == "" || signature == "" {
		return bad("this source requires signed requests: send X-Timestamp and X-Signature: sha256=<hex HMAC-SHA256 of timestamp + \".\" + body>")
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return bad("X-Timestamp must be Unix seconds")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > SignatureTolerance || d < -SignatureTolerance {
		return bad("X-Timestamp is more than 300 seconds from the server's time")
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(signature), "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return bad("X-Signature must be sha256=<hex>")
	}
	want, _ := hex.DecodeString(SignERP(secret, strings.TrimSpace(timestamp), body))
	if !hmac.Equal(got, want) {
		return bad("the signature does not match the body and timestamp")
	}
	return nil
}

// ERPAdmin is how operators manage ERP sources (CLI and back office).
type ERPAdmin interface {
	// CreateERPSource adds a source and returns its key and secret in
	// clear, the only time they are shown. EINVALID, ENOTFOUND (employer),
	// ECONFLICT (a name the employer already uses).
	CreateERPSource(ctx context.Context, in ERPSourceInput) (src *ERPSource, key, secret string, err error)
	// ERPSources lists one employer's sources (0: everyone's), by ID.
	ERPSources(ctx context.Context, employerID int64) ([]ERPSource, error)
	// ERPSource returns one source. ENOTFOUND.
	ERPSource(ctx context.Context, id int64) (*ERPSource, error)
	// ERPSourceByName returns an employer's source by name. ENOTFOUND.
	ERPSourceByName(ctx context.Context, employerID int64, name string) (*ERPSource, error)
	// RotateERPSource replaces a source's key and secret; the old ones
	// stop at once. ENOTFOUND.
	RotateERPSource(ctx context.Context, id int64) (src *ERPSource, key, secret string, err error)
	// SetERPSourceActive enables or disables a source. ENOTFOUND.
	SetERPSourceActive(ctx context.Context, id int64, active bool) (*ERPSource, error)
	// JobByERPID returns the job with this ERP job ID, which is also its
	// external ID. ENOTFOUND.
	JobByERPID(ctx context.Context, erpID string) (*Job, error)
}

// erpJobIDRE is the shape of an ERP job ID.
var erpJobIDRE = regexp.MustCompile(`^([A-Z0-9][A-Z0-9_]{0,31})-(\d{4})-(\d{4,})$`)

// ERPJobCode returns the employer code an ERP job ID starts with.
func ERPJobCode(id string) (string, bool) {
	m := erpJobIDRE.FindStringSubmatch(id)
	if m == nil {
		return "", false
	}
	return m[1], true
}
