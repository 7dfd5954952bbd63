package wire

import "github.com/atsgate/atsgate/internal/atsgate"

// JobRecord is the ATS dialect's job record, the one integrators read: the
// body of every ATS API answer about a job, and data.job of a webhook
// event. It keeps the ATS dialect's older field names. Dates are local to
// the job's country; unknown ones are "", never null.
type JobRecord struct {
	ExternalID        string `json:"external_id"`
	State             string `json:"state"`
	ReceivedDate      string `json:"received_date"`
	PublishedDate     string `json:"published_date"`
	PublicLink        string `json:"public_link"`
	AmountCharged     string `json:"amount_charged"`
	Title             string `json:"title"`
	Deadline          string `json:"deadline"`
	UpdatedDate       string `json:"updated_date"`
	ClosedDate        string `json:"closed_date"`
	DisapprovalReason string `json:"disapproval_reason"`
	// PendingEdit is true while an update of the published job waits for
	// the board's review; the other fields are the live values until a
	// reviewer approves it. Always present.
	PendingEdit bool `json:"pending_edit"`
	// Warnings, on a create or update, names what the request sent that
	// was accepted but ignored; absent when there is nothing to say.
	Warnings map[string]string `json:"warnings,omitempty"`
}

// NewJobRecord is job j of country c as the ATS API shows it. The amount
// keeps the ATS dialect's form (decimal.String: "50", "12.5").
func NewJobRecord(j *atsgate.Job, c *atsgate.Country) JobRecord {
	return JobRecord{
		ExternalID: j.ExternalID, State: string(j.State), ReceivedDate: local(c, j.ReceivedAt),
		PublishedDate: local(c, j.PublishedAt), PublicLink: j.PublicLink, AmountCharged: j.AmountCharged.String(),
		Title: j.Title, Deadline: j.Deadline, UpdatedDate: local(c, j.UpdatedAt), ClosedDate: local(c, j.ClosedAt),
		DisapprovalReason: j.DisapprovalReason, PendingEdit: j.PendingEdit,
	}
}
