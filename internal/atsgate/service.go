package atsgate

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Directory resolves hosts to countries and keys to employers.
type Directory interface {
	// CountryByHost returns the country serving host (lower case, no port).
	// ENOTFOUND when no country does.
	CountryByHost(ctx context.Context, host string) (*Country, error)
	// Authenticate returns the active employer owning the key with this
	// hash. EUNAUTHORIZED for an unknown, revoked or inactive key.
	Authenticate(ctx context.Context, keyHash string) (*Principal, error)
}

// Jobs is what an integrator does with jobs. Every method acts only on the
// principal's own employer: another employer's job is ENOTFOUND.
type Jobs interface {
	// CreateJob stores a new job and charges its price in one transaction.
	// When the employer already has a job with in.ExternalID it returns that
	// job with created=false and charges nothing. EFUNDS when the wallet
	// cannot pay.
	CreateJob(ctx context.Context, p *Principal, in JobInput) (job *Job, created bool, err error)
	// UpdateJob replaces the fields present in in, or, for a published job
	// of an employer without auto-publish whose visible content would
	// change, stores them as the job's pending edit (PlanUpdate decides).
	// ENOTFOUND, ECONFLICT when the job is closed, expired or disapproved.
	UpdateJob(ctx context.Context, p *Principal, in JobInput) (*Job, error)
	// CloseJob closes an open job, discarding its pending edit; a job
	// already ended is returned as is. ENOTFOUND.
	CloseJob(ctx context.Context, p *Principal, externalID string) (*Job, error)
	// Job returns one of the employer's jobs. ENOTFOUND.
	Job(ctx context.Context, employerID int64, externalID string) (*Job, error)
	// ListJobs returns a page of the employer's jobs, newest first, with
	// what a job record shows: no description, extras, taxonomy IDs, apply
	// URL or email, salary or experience. EINVALID for a cursor it did not
	// issue.
	ListJobs(ctx context.Context, employerID int64, f JobFilter) (*JobPage, error)
}

// Moderation is what the review team does.
type Moderation interface {
	// ReviewQueue lists jobs awaiting review, oldest first, with what the
	// queue shows: each description is a preview (CutPreview), and the
	// extras, taxonomy IDs, salary and experience are left out.
	ReviewQueue(ctx context.Context, f ReviewFilter) ([]Job, error)
	// PendingEdits lists the pending edits of published jobs with their
	// live jobs, oldest edit first; f.AfterID is an edit ID.
	PendingEdits(ctx context.Context, f ReviewFilter) ([]PendingEdit, error)
	// PendingEdit returns a job's pending edit with the live job.
	// ENOTFOUND when the job has none.
	PendingEdit(ctx context.Context, jobID int64) (*PendingEdit, error)
	// Approve publishes a pending job, or applies a published job's pending
	// edit; approving a published job without one is a no-op. ENOTFOUND,
	// ECONFLICT for a job in any other state.
	Approve(ctx context.Context, jobID int64, actor string) (*Job, error)
	// Disapprove marks a pending job disapproved and refunds its charge, once
	// however often it is called; on a published job it discards the
	// pending edit, refunding nothing. ENOTFOUND, ECONFLICT (also for a
	// published job without a pending edit), EINVALID without a reason.
	Disapprove(ctx context.Context, jobID int64, actor, reason string) (*Job, error)
	// ApproveEdit applies the job's pending edit if it is still editID,
	// the one the reviewer read. ENOTFOUND, ECONFLICT when the job has no
	// pending edit or another one.
	ApproveEdit(ctx context.Context, jobID, editID int64, actor string) (*Job, error)
	// DisapproveEdit discards the job's pending edit if it is still
	// editID, refunding nothing. ENOTFOUND, ECONFLICT as ApproveEdit,
	// EINVALID without a reason.
	DisapproveEdit(ctx context.Context, jobID, editID int64, actor, reason string) (*Job, error)
	// JobEvents lists a job's transitions, oldest first.
	JobEvents(ctx context.Context, jobID int64) ([]JobEvent, error)
}

// Wallets moves money outside of job charges and reports on it.
type Wallets interface {
	// TopUp credits a positive amount. With a reference (see
	// CheckReference) it is idempotent: when the employer's ledger already
	// has an entry with that reference, and it is the same request (see
	// LedgerEntry.Repeats), TopUp posts nothing and returns that entry with
	// created=false. EINVALID for amount <= 0 or a bad reference,
	// ENOTFOUND, ECONFLICT when the reference belongs to a different
	// request.
	TopUp(ctx context.Context, employerID int64, amount decimal.Decimal, actor, note, reference string) (entry *LedgerEntry, created bool, err error)
	// Adjust posts a signed correction with a mandatory note, idempotent
	// by reference like TopUp, with the same error codes.
	Adjust(ctx context.Context, employerID int64, amount decimal.Decimal, actor, note, reference string) (entry *LedgerEntry, created bool, err error)
	// Statement sums up the entries posted in [from, to): opening and
	// closing balances, totals by kind, count; zero times leave that end
	// open. It reads no entry into memory. ENOTFOUND.
	Statement(ctx context.Context, employerID int64, from, to time.Time) (*Statement, error)
	// StatementEntries returns one page of the entries posted in [from,
	// to), in posting order. EINVALID for a limit out of range.
	StatementEntries(ctx context.Context, employerID int64, from, to time.Time, p EntryPage) ([]LedgerEntry, error)
	// EachStatementEntry calls fn with each entry posted in [from, to), in
	// posting order, up to lastID (0: the last one posted when it begins),
	// a page at a time, so memory stays flat however long the ledger is.
	// It stops at fn's first error and returns it.
	EachStatementEntry(ctx context.Context, employerID int64, from, to time.Time, lastID int64, fn func(*LedgerEntry) error) error
}
