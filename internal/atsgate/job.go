package atsgate

import (
	"strings"
	"time"
	"unicode/utf8"

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

// jobTransitions is the one table of the job lifecycle: the states a job
// may move to from each state. Creation ("" to pending_review, or to
// published for an employer that auto-publishes) is not a transition.
// Disapproved, closed and expired jobs are final: a refund or an ended
// posting is never undone.
var jobTransitions = map[JobState][]JobState{
	StatePending:   {StatePublished, StateDisapproved, StateClosed},
	StatePublished: {StateClosed, StateExpired},
}

// CanTransition reports whether a job in state s may move to state to.
func (s JobState) CanTransition(to JobState) bool {
	for _, t := range jobTransitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// Approve decides what approving job id in state s does: true when the
// job moves to published; false, with no error, when it is published
// already, so a reviewer's second click changes nothing; ECONFLICT for
// any state that cannot become published.
func (s JobState) Approve(id int64) (move bool, err error) {
	return s.moderate(id, StatePublished, "approved")
}

// Disapprove decides what disapproving job id in state s does: true when
// the job moves to disapproved; false, with no error, when it is
// disapproved already, so it is refunded once however often reviewers
// click; ECONFLICT for any state that cannot become disapproved.
func (s JobState) Disapprove(id int64) (move bool, err error) {
	return s.moderate(id, StateDisapproved, "disapproved")
}

func (s JobState) moderate(id int64, to JobState, verb string) (bool, error) {
	switch {
	case s == to:
		return false, nil
	case s.CanTransition(to):
		return true, nil
	}
	// Only pending_review leads to published or disapproved (see
	// jobTransitions), hence "a pending job".
	return false, Errorf(ECONFLICT, "job %d is %s; only a pending job can be %s", id, s, verb)
}

// CheckUpdate returns nil when a job in state s accepts updates, and the
// ECONFLICT an integrator gets otherwise: an ended job keeps the content it
// ended with.
func (s JobState) CheckUpdate() error {
	if !s.Open() {
		return Errorf(ECONFLICT, "the job is %s and can no longer be updated", s)
	}
	return nil
}

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
	// DescriptionCut says that Description is only a preview: its first
	// PreviewChars characters, as the moderation queue lists them.
	DescriptionCut bool
	Deadline       string // "2006-01-02" or ""
	ApplyURL       string
	ApplyEmail     string

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
	// PendingEdit is true while an update of the published job waits for
	// review; the fields above stay the approved, live content meanwhile.
	PendingEdit bool
	// ArchivedAt is when the ERP dialect archived the job (closed and
	// hidden from the employer's lists); zero otherwise.
	ArchivedAt time.Time
}

// PreviewChars bounds the description a listing carries as a preview. A
// description may be 512 KiB, so a queue page of fifty would otherwise be
// 25 MB to read and sanitise for a reviewer who reads the first lines.
const PreviewChars = 1000

// CutPreview turns the start of a description, read as at most
// PreviewChars+1 characters, into its preview: the first PreviewChars
// characters, less a tag the cut left open (sanitising would drop its
// start and show the rest as text), and whether anything was cut.
func CutPreview(start string) (preview string, cut bool) {
	if utf8.RuneCountInString(start) <= PreviewChars {
		return start, false
	}
	n := 0
	for i := range start {
		if n == PreviewChars {
			start = start[:i]
			break
		}
		n++
	}
	if lt := strings.LastIndexByte(start, '<'); lt > strings.LastIndexByte(start, '>') {
		start = start[:lt]
	}
	return start, true
}

// JobEvent records one state transition of a job, or one step of an edit
// of its content (then From and To are the job's unchanged state).
type JobEvent struct {
	ID        int64
	JobID     int64
	From      JobState // "" for creation
	To        JobState
	Actor     string
	Reason    string
	CreatedAt time.Time
	// Edit is the edit step (EventEditHeld, …); "" for a transition.
	Edit string
	// Fields names the visible fields the edit changes.
	Fields []string
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
