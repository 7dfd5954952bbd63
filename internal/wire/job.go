package wire

import "github.com/atsgate/atsgate/internal/atsgate"

// Job is a job as the board's own people see it: the back office and the
// CLI. Integrators read a different record, the ATS dialect's.
//
// Description is sanitised HTML, safe to render: the raw description is
// whatever an integrator sent. In the moderation queue it is a preview, the
// first atsgate.PreviewChars characters, and DescriptionTruncated says
// when there is more; a job read on its own has all of it. Dates are local
// to the job's country; PublishedDate is "" until the job is published.
type Job struct {
	ID          int64  `json:"id"`
	EmployerID  int64  `json:"employer_id"`
	CountryID   int64  `json:"country_id"`
	ExternalID  string `json:"external_id"`
	Dialect     string `json:"dialect"`
	State       string `json:"state"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// DescriptionTruncated: Description is the start of a longer one.
	DescriptionTruncated bool   `json:"description_truncated"`
	Deadline             string `json:"deadline"` // "2006-01-02" or ""
	ApplyURL             string `json:"apply_url"`
	ApplyEmail           string `json:"apply_email"`
	AmountCharged        string `json:"amount_charged"`
	Currency             string `json:"currency"`
	ReceivedDate         string `json:"received_date"`
	PublishedDate        string `json:"published_date"`
	PublicLink           string `json:"public_link"`
	DisapprovalReason    string `json:"disapproval_reason"`
}

// NewJob is j, of country c, on the wire. sanitize makes the description
// safe HTML; every caller passes the same user-content policy, which this
// package, knowing no HTML library, cannot hold itself.
func NewJob(j *atsgate.Job, c *atsgate.Country, sanitize func(html string) string) Job {
	return Job{ID: j.ID, EmployerID: j.EmployerID, CountryID: j.CountryID, ExternalID: j.ExternalID,
		Dialect: j.Dialect, State: string(j.State), Title: j.Title, Description: sanitize(j.Description),
		DescriptionTruncated: j.DescriptionCut, Deadline: j.Deadline, ApplyURL: j.ApplyURL, ApplyEmail: j.ApplyEmail,
		AmountCharged: amount(j.AmountCharged), Currency: c.Currency,
		ReceivedDate: local(c, j.ReceivedAt), PublishedDate: local(c, j.PublishedAt),
		PublicLink: j.PublicLink, DisapprovalReason: j.DisapprovalReason}
}

// JobEvent is one state transition of a job, its time local to the job's
// country. From is "" for the job's creation.
type JobEvent struct {
	Time   string `json:"time"`
	From   string `json:"from"`
	To     string `json:"to"`
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// NewJobEvents is the history evs of a job of country c on the wire, []
// rather than null when there is none.
func NewJobEvents(evs []atsgate.JobEvent, c *atsgate.Country) []JobEvent {
	out := make([]JobEvent, len(evs))
	for i, ev := range evs {
		out[i] = JobEvent{Time: local(c, ev.CreatedAt), From: string(ev.From), To: string(ev.To), Actor: ev.Actor, Reason: ev.Reason}
	}
	return out
}

// JobList is the admin API's page of the moderation queue, oldest first.
// NextAfter, when present, is the ?after= of the next page.
type JobList struct {
	Jobs      []Job `json:"jobs"`
	NextAfter int64 `json:"next_after,omitempty"`
}

// JobDetail is the admin API's job with its history.
type JobDetail struct {
	Job    Job        `json:"job"`
	Events []JobEvent `json:"events"`
}

// JobResponse is the admin API's answer to an approval or a disapproval:
// the job as it now is.
type JobResponse struct {
	Job Job `json:"job"`
}
