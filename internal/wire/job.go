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
	// PendingEdit is true while an update of the published job waits for
	// review; the fields above are the live, approved content.
	PendingEdit bool `json:"pending_edit"`
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
		PublicLink: j.PublicLink, DisapprovalReason: j.DisapprovalReason, PendingEdit: j.PendingEdit}
}

// JobEvent is one state transition of a job, or one step of an edit of its
// content, its time local to the job's country. From is "" for the job's
// creation. Edit is "" for a transition, else the step ("held",
// "approved", "disapproved", "discarded", or "live" for an auto-publish
// employer's edit), with Fields the visible fields it changes and From and
// To both the job's state.
type JobEvent struct {
	Time   string   `json:"time"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Actor  string   `json:"actor"`
	Reason string   `json:"reason"`
	Edit   string   `json:"edit"`
	Fields []string `json:"fields"`
}

// NewJobEvents is the history evs of a job of country c on the wire, []
// rather than null when there is none.
func NewJobEvents(evs []atsgate.JobEvent, c *atsgate.Country) []JobEvent {
	out := make([]JobEvent, len(evs))
	for i, ev := range evs {
		out[i] = JobEvent{Time: local(c, ev.CreatedAt), From: string(ev.From), To: string(ev.To), Actor: ev.Actor,
			Reason: ev.Reason, Edit: ev.Edit, Fields: ev.Fields}
		if out[i].Fields == nil {
			out[i].Fields = []string{}
		}
	}
	return out
}

// FieldChange is one field of an edit's diff: its wire name and its value
// before and after, as the job shows them ("" for none). A description's
// sides are sanitised HTML, like Job.Description.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Edit is a published job's pending edit: who proposed it when (local to
// the job's country), and what it would change in the live job.
type Edit struct {
	ID           int64         `json:"id"`
	JobID        int64         `json:"job_id"`
	Actor        string        `json:"actor"`
	ProposedDate string        `json:"proposed_date"`
	Changes      []FieldChange `json:"changes"`
}

// NewEdit is the pending edit p, of a job of country c, on the wire;
// sanitize is NewJob's.
func NewEdit(p *atsgate.PendingEdit, c *atsgate.Country, sanitize func(html string) string) Edit {
	diff := p.Changes()
	changes := make([]FieldChange, len(diff))
	for i, d := range diff {
		changes[i] = FieldChange{Field: d.Field, Old: d.Old, New: d.New}
		if d.Field == "description" {
			changes[i].Old, changes[i].New = sanitize(d.Old), sanitize(d.New)
		}
	}
	return Edit{ID: p.Edit.ID, JobID: p.Edit.JobID, Actor: p.Edit.Actor, ProposedDate: local(c, p.Edit.CreatedAt), Changes: changes}
}

// PendingEdit is an entry of the edits half of the moderation queue: the
// live job and its pending edit.
type PendingEdit struct {
	Job  Job  `json:"job"`
	Edit Edit `json:"edit"`
}

// JobList is the admin API's page of the moderation queue, oldest first:
// pending jobs, and beside them the pending edits of published jobs, each
// list paged by its own keyset. NextAfter, when present, is the ?after= of
// the jobs' next page; NextEditAfter the ?edits_after= of the edits'.
type JobList struct {
	Jobs          []Job         `json:"jobs"`
	NextAfter     int64         `json:"next_after,omitempty"`
	Edits         []PendingEdit `json:"edits"`
	NextEditAfter int64         `json:"next_edit_after,omitempty"`
}

// JobDetail is the admin API's job with its history and, for a published
// job, its pending edit (null when it has none).
type JobDetail struct {
	Job         Job        `json:"job"`
	Events      []JobEvent `json:"events"`
	PendingEdit *Edit      `json:"pending_edit"`
}

// JobResponse is the admin API's answer to an approval or a disapproval:
// the job as it now is.
type JobResponse struct {
	Job Job `json:"job"`
}
