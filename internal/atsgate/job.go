package atsgate

import (
	"time"

	"github.com/shopspring/decimal"
)

// JobState is where a job is in its lifecycle.
type JobState string

// The job lifecycle: pending_review → published | disapproved;
// pending_review | published → closed; published → expired.
const (
	StatePending     JobState = "pending_review"
	StatePublished   JobState = "published"
	StateDisapproved JobState = "disapproved"
	StateClosed      JobState = "closed"
	StateExpired     JobState = "expired"
)

// Valid reports whether s is a known state.
func (s JobState) Valid() bool {
	switch s {
	case StatePending, StatePublished, StateDisapproved, StateClosed, StateExpired:
		return true
	}
	return false
}

// Open reports whether the job can still change: only pending and
// published jobs accept updates.
func (s JobState) Open() bool { return s == StatePending || s == StatePublished }

// Job is a posting as stored.
type Job struct {
	ID          int64
	EmployerID  int64
	CountryID   int64
	ExternalID  string
	Dialect     string
	State       JobState
	Title       string
	Description string // raw as received; sanitise wherever it is shown
	Deadline    string // "2006-01-02" or ""
	ApplyURL    string
	ApplyEmail  string

	MinExperience   int64
	MaxExperience   int64
	Salary          int64
	Specialization  int64
	ShowCompanyName bool
	States          []int64
	Qualifications  []int64
	Extras          map[string]string // keys from ExtraFields

	AmountCharged     decimal.Decimal
	ReceivedAt        time.Time
	UpdatedAt         time.Time
	PublishedAt       time.Time // zero until published
	ClosedAt          time.Time // zero unless closed or expired
	DisapprovedAt     time.Time // zero unless disapproved
	DisapprovalReason string
	// PublicLink is the job's page on its country site, once published.
	PublicLink string
}

// JobEvent records one state transition of a job.
type JobEvent struct {
	ID        int64
	JobID     int64
	From      JobState // "" for creation
	To        JobState
	Actor     string
	Reason    string
	CreatedAt time.Time
}

// JobFilter selects a page of an employer's jobs, newest first.
type JobFilter struct {
	State  JobState // "" for all
	Cursor string   // opaque, from the previous page's NextCursor
	Limit  int      // 1–200
}

// JobPage is one page of a listing.
type JobPage struct {
	Jobs       []Job
	NextCursor string // "" on the last page
}

// ReviewFilter selects the moderation queue.
type ReviewFilter struct {
	CountryID int64 // 0 for all countries
	AfterID   int64 // keyset: jobs with a larger ID
	Limit     int
}
