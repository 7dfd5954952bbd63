package atsgate

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Content is what visitors can see of a job: every field an update may
// change. The rules of reviewed edits (SPEC section 3) compare contents, so
// a field belongs here exactly when changing it must be reviewed.
//
// The SPEC names title, description, apply URL and email, deadline,
// salary, experience, taxonomy IDs and company fields. The other extras
// (job type, workplace type, department, city, benefits, application
// instructions) and show_company_name are shown on the job page and in its
// structured data too, so they are reviewed as well: nothing a visitor
// reads goes live unreviewed. Only identity and bookkeeping (external ID,
// state, dates, charge) are outside.
type Content struct {
	Title           string            `json:"title"`
	Description     string            `json:"description"`
	Deadline        string            `json:"deadline"`
	ApplyURL        string            `json:"apply_url"`
	ApplyEmail      string            `json:"apply_email"`
	MinExperience   int64             `json:"min_experience"`
	MaxExperience   int64             `json:"max_experience"`
	Salary          int64             `json:"salary"`
	Specialization  int64             `json:"specialization"`
	ShowCompanyName bool              `json:"show_company_name"`
	States          []int64           `json:"states"`
	Qualifications  []int64           `json:"qualifications"`
	Extras          map[string]string `json:"extras"`
}

// Content returns the job's visible content.
func (j *Job) Content() Content {
	return Content{Title: j.Title, Description: j.Description, Deadline: j.Deadline, ApplyURL: j.ApplyURL,
		ApplyEmail: j.ApplyEmail, MinExperience: j.MinExperience, MaxExperience: j.MaxExperience,
		Salary: j.Salary, Specialization: j.Specialization, ShowCompanyName: j.ShowCompanyName,
		States: j.States, Qualifications: j.Qualifications, Extras: j.Extras}
}

// SetContent replaces the job's visible content with c.
func (j *Job) SetContent(c Content) {
	j.Title, j.Description, j.Deadline, j.ApplyURL, j.ApplyEmail = c.Title, c.Description, c.Deadline, c.ApplyURL, c.ApplyEmail
	j.MinExperience, j.MaxExperience, j.Salary, j.Specialization = c.MinExperience, c.MaxExperience, c.Salary, c.Specialization
	j.ShowCompanyName, j.States, j.Qualifications, j.Extras = c.ShowCompanyName, c.States, c.Qualifications, c.Extras
}

// Apply returns c with the fields present in in replacing its own, the
// update rule of both dialects: absent fields stay, an empty extra removes
// it, a non-positive specialization is none. c is not changed.
func (c Content) Apply(in *JobInput) Content {
	out := c
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&out.Title, in.Title)
	set(&out.Description, in.Description)
	set(&out.Deadline, in.Deadline)
	set(&out.ApplyURL, in.ApplyURL)
	set(&out.ApplyEmail, in.ApplyEmail)
	setInt := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&out.MinExperience, in.MinExperience)
	setInt(&out.MaxExperience, in.MaxExperience)
	setInt(&out.Salary, in.Salary)
	if in.Specialization != nil {
		out.Specialization = max(*in.Specialization, 0)
	}
	if in.ShowCompanyName != nil {
		out.ShowCompanyName = *in.ShowCompanyName
	}
	if in.States != nil {
		out.States = slices.Clone(*in.States)
	}
	if in.Qualifications != nil {
		out.Qualifications = slices.Clone(*in.Qualifications)
	}
	if len(in.Extras) > 0 {
		extras := make(map[string]string, len(c.Extras)+len(in.Extras))
		for k, v := range c.Extras {
			extras[k] = v
		}
		for k, v := range in.Extras {
			if v == "" {
				delete(extras, k)
			} else {
				extras[k] = v
			}
		}
		out.Extras = extras
	}
	return out
}

// contentField is one visible field: its wire name and how it reads in a
// diff.
type contentField struct {
	name string
	text func(c *Content) string
}

func ids(v []int64) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

func num(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// contentFields lists the visible fields in the order a diff shows them,
// the extras (by their wire names) after the job's own fields. An empty
// list, a zero number and an absent extra all read "": that is how the
// job shows them.
var contentFields = func() []contentField {
	f := []contentField{
		{"title", func(c *Content) string { return c.Title }},
		{"description", func(c *Content) string { return c.Description }},
		{"deadline", func(c *Content) string { return c.Deadline }},
		{"apply_url", func(c *Content) string { return c.ApplyURL }},
		{"apply_email", func(c *Content) string { return c.ApplyEmail }},
		{"min_experience", func(c *Content) string { return num(c.MinExperience) }},
		{"max_experience", func(c *Content) string { return num(c.MaxExperience) }},
		{"salary", func(c *Content) string { return num(c.Salary) }},
		{"specialization", func(c *Content) string { return num(c.Specialization) }},
		{"states", func(c *Content) string { return ids(c.States) }},
		{"qualifications", func(c *Content) string { return ids(c.Qualifications) }},
		{"show_company_name", func(c *Content) string { return strconv.FormatBool(c.ShowCompanyName) }},
	}
	extras := make([]string, 0, len(ExtraFields))
	for k := range ExtraFields {
		extras = append(extras, k)
	}
	slices.Sort(extras)
	for _, k := range extras {
		f = append(f, contentField{k, func(c *Content) string { return c.Extras[k] }})
	}
	return f
}()

// FieldChange is one field of a diff between two contents, each side as
// the job shows it ("" for none). Descriptions are raw: sanitise them
// wherever they are shown.
type FieldChange struct {
	Field string
	Old   string
	New   string
}

// Diff lists the visible fields that differ from old to new, in a fixed
// order; none when the two read the same.
func Diff(old, new Content) []FieldChange {
	var out []FieldChange
	for _, f := range contentFields {
		if o, n := f.text(&old), f.text(&new); o != n {
			out = append(out, FieldChange{Field: f.name, Old: o, New: n})
		}
	}
	return out
}

// Changed names the visible fields that differ from old to new.
func Changed(old, new Content) []string {
	d := Diff(old, new)
	names := make([]string, len(d))
	for i, c := range d {
		names[i] = c.Field
	}
	return names
}

// UpdateKind is what an update does to a job, as PlanUpdate decides it.
type UpdateKind int

// What an update does.
const (
	// UpdateLive writes the update to the job at once: a pending job, an
	// auto-publish employer's job, or an update that changes nothing
	// visible.
	UpdateLive UpdateKind = iota
	// UpdateHold stores the update as the job's pending edit (replacing
	// an older one); the job keeps its approved content.
	UpdateHold
	// UpdateKeep leaves the pending edit as it is: the update proposes
	// exactly what is already pending (an ATS resending its job).
	UpdateKeep
	// UpdateWithdraw discards the pending edit: the update takes the
	// proposal back to the live content.
	UpdateWithdraw
)

// UpdatePlan is PlanUpdate's decision.
type UpdatePlan struct {
	Kind UpdateKind
	// Content is the job's content after the update: the new live
	// content for UpdateLive, the proposal for UpdateHold.
	Content Content
	// Changed names the visible fields that differ from the live content
	// (UpdateLive, UpdateHold), or that the withdrawn edit had changed
	// (UpdateWithdraw).
	Changed []string
	// Discard is true when a pending edit must be closed as replaced:
	// UpdateLive of an auto-publish employer that had one, UpdateHold
	// over an older edit.
	Discard bool
}

// PlanUpdate decides what update in does to a job in state s whose live
// content is live and whose pending edit proposes pending (nil when it has
// none), for an employer that auto-publishes or not.
//
// The integrator sees its job as it last sent it, so the update applies
// over the pending proposal when there is one: an edit of the title
// followed by an edit of the description proposes both. Only a published
// job of an employer without auto-publish holds edits; everything else
// goes live as before.
func PlanUpdate(s JobState, autoPublish bool, live Content, pending *Content, in *JobInput) UpdatePlan {
	base := live
	if pending != nil {
		base = *pending
	}
	next := base.Apply(in)
	changed := Changed(live, next)
	if s != StatePublished || autoPublish {
		return UpdatePlan{Kind: UpdateLive, Content: next, Changed: changed, Discard: pending != nil}
	}
	switch {
	case len(changed) == 0 && pending == nil:
		return UpdatePlan{Kind: UpdateLive, Content: live}
	case len(changed) == 0:
		return UpdatePlan{Kind: UpdateWithdraw, Content: live, Changed: Changed(live, *pending)}
	case pending != nil && len(Changed(*pending, next)) == 0:
		return UpdatePlan{Kind: UpdateKeep, Content: *pending, Changed: changed}
	}
	return UpdatePlan{Kind: UpdateHold, Content: next, Changed: changed, Discard: pending != nil}
}

// ReviewsEdit reports whether a reviewer's approve or disapprove of a job
// in state s acts on its pending edit rather than on the job: only a
// published job's edit is reviewed; a pending job is reviewed itself.
func (s JobState) ReviewsEdit(hasPendingEdit bool) bool {
	return s == StatePublished && hasPendingEdit
}

// EditStatus is where a proposed edit is in its review.
type EditStatus string

// Edit statuses: pending until a reviewer approves or disapproves it, a
// newer edit replaces it, or the job ends or the integrator takes it back
// (discarded).
const (
	EditPending     EditStatus = "pending"
	EditApproved    EditStatus = "approved"
	EditDisapproved EditStatus = "disapproved"
	EditReplaced    EditStatus = "replaced"
	EditDiscarded   EditStatus = "discarded"
)

// Edit steps recorded in job events (JobEvent.Edit).
const (
	EventEditHeld        = "held"        // an update was stored as the pending edit
	EventEditApproved    = "approved"    // a reviewer applied it
	EventEditDisapproved = "disapproved" // a reviewer refused it
	EventEditDiscarded   = "discarded"   // withdrawn by the integrator, or the job ended
	EventEditLive        = "live"        // an auto-publish employer's edit went live at once
)

// Edit is a proposed change of a published job's content.
type Edit struct {
	ID        int64
	JobID     int64
	Status    EditStatus
	Content   Content  // the whole proposed content
	Fields    []string // the fields it changed when proposed
	Actor     string
	CreatedAt time.Time
	DecidedBy string
	DecidedAt time.Time // zero while pending
	Reason    string
}

// PendingEdit is a pending edit with the job it would change, as the
// review queue lists it.
type PendingEdit struct {
	Edit Edit
	Job  Job // the live, approved job
}

// Changes is the field-by-field diff the edit would make to the job as it
// is now.
func (p *PendingEdit) Changes() []FieldChange { return Diff(p.Job.Content(), p.Edit.Content) }
