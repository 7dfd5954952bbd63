package atsgate

import (
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field limits.
const (
	MaxExternalIDChars = 191
	MaxTitleChars      = 255
	MaxShortTextChars  = 255
	MaxLongTextChars   = 65535
	MaxDescriptionSize = 512 << 10
	MaxExperience      = 70
	MaxSalary          = 1_000_000_000_000
	MaxTaxonomyIDs     = 100
)

// ExtraFields are the optional free-form fields both dialects accept. Each
// maps to whether it holds a long text (up to MaxLongTextChars) rather than a
// short one.
var ExtraFields = map[string]bool{
	"company_name":             false,
	"company_website":          false,
	"company_about":            true,
	"company_logo_url":         false,
	"job_type":                 false,
	"workplace_type":           false,
	"department":               false,
	"location_city":            false,
	"benefits":                 true,
	"application_instructions": true,
	// From the ERP seed: the ERP dialect's location, salary and
	// qualifications texts (the ATS dialect's qualifications are taxonomy
	// IDs, so the ERP text is kept apart).
	"location_state":      false,
	"location_country":    false,
	"salary_range":        false,
	"qualifications_text": true,
}

// JobTypes and WorkplaceTypes are the accepted values of those extras,
// compared after NormalizeEnum.
var (
	JobTypes       = []string{"FULL_TIME", "PART_TIME", "CONTRACT", "INTERNSHIP", "FACULTY", "TEMPORARY"}
	WorkplaceTypes = []string{"ON_SITE", "REMOTE", "HYBRID"}
)

// JobInput is a create or update as a dialect decoded it. A nil pointer
// means the field was absent: create uses the default, update keeps the
// stored value.
type JobInput struct {
	ExternalID      string
	Title           *string
	Description     *string
	Deadline        *string // "2006-01-02"; dialects drop unparseable values
	ApplyURL        *string
	ApplyEmail      *string
	MinExperience   *int64
	MaxExperience   *int64
	Salary          *int64
	Specialization  *int64
	ShowCompanyName *bool
	States          *[]int64
	Qualifications  *[]int64
	Extras          map[string]string
	// Warnings are what the dialect accepted but ignored, by field, to
	// tell the client (the ATS seed ignores an unreadable deadline; the
	// client should still learn that its job has none).
	Warnings map[string]string
}

// Rules is what validation needs to know beyond the input itself.
type Rules struct {
	Create   bool
	Today    string    // the country's current date, "2006-01-02"
	Taxonomy *Taxonomy // the country's; nil accepts no positive IDs
}

// Validate normalises in place and adds what is wrong to fields, keyed by
// the wire name of each field. It returns fields for convenience.
func (in *JobInput) Validate(r Rules, fields map[string]string) map[string]string {
	bad := func(k, msg string) {
		if _, seen := fields[k]; !seen {
			fields[k] = msg
		}
	}
	if msg := CheckExternalID(in.ExternalID); msg != "" {
		bad("external_id", msg)
	}
	// PostgreSQL cannot store U+0000 in text; refuse it in every field
	// rather than let the database fail.
	for k, v := range map[string]*string{"title": in.Title, "description": in.Description,
		"apply_url": in.ApplyURL, "apply_email": in.ApplyEmail} {
		if v != nil && strings.IndexByte(*v, 0) >= 0 {
			bad(k, "must not contain NUL characters")
		}
	}
	for k, v := range in.Extras {
		if strings.IndexByte(v, 0) >= 0 {
			bad(k, "must not contain NUL characters")
		}
	}
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		if t == "" {
			bad("title", "must not be empty")
		}
		t = truncateRunes(t, MaxTitleChars)
		in.Title = &t
	} else if r.Create {
		bad("title", "is required")
	}
	if in.Description != nil {
		if strings.TrimSpace(*in.Description) == "" {
			bad("description", "must not be empty")
		} else if len(*in.Description) > MaxDescriptionSize {
			bad("description", "must be at most 512 KiB")
		}
	} else if r.Create {
		bad("description", "is required")
	}
	if in.Deadline != nil && *in.Deadline < r.Today {
		bad("deadline", "is in the past")
	}
	if in.ApplyURL != nil {
		u := strings.TrimSpace(*in.ApplyURL)
		if u != "" && !IsWebURL(u) {
			bad("apply_url", "must be an absolute http or https URL")
		}
		in.ApplyURL = &u
	}
	if in.ApplyEmail != nil {
		e := strings.TrimSpace(*in.ApplyEmail)
		if e != "" && !IsEmail(e) {
			bad("apply_email", "must be a valid email address")
		}
		in.ApplyEmail = &e
	}
	checkRange := func(k string, v *int64, max int64) {
		if v != nil && (*v < 0 || *v > max) {
			bad(k, "is out of range")
		}
	}
	checkRange("min_experience", in.MinExperience, MaxExperience)
	checkRange("max_experience", in.MaxExperience, MaxExperience)
	checkRange("salary", in.Salary, MaxSalary)
	if in.MinExperience != nil && in.MaxExperience != nil && *in.MaxExperience > 0 && *in.MaxExperience < *in.MinExperience {
		bad("max_experience", "must not be less than min_experience")
	}
	if in.Specialization != nil && *in.Specialization > 0 && !r.Taxonomy.HasSpecialization(*in.Specialization) {
		bad("specialization", "is not a known specialization ID")
	}
	in.States = keepKnown(in.States, "states", r.Taxonomy.HasState, bad)
	in.Qualifications = keepKnown(in.Qualifications, "qualifications", r.Taxonomy.HasQualification, bad)
	for k, v := range in.Extras {
		long, known := ExtraFields[k]
		if !known {
			delete(in.Extras, k)
			continue
		}
		v = strings.TrimSpace(v)
		max := MaxShortTextChars
		if long {
			max = MaxLongTextChars
		}
		switch {
		case utf8.RuneCountInString(v) > max:
			bad(k, "is too long")
		case v == "":
		case k == "company_website" || k == "company_logo_url":
			if !IsWebURL(v) {
				bad(k, "must be an absolute http or https URL")
			}
		case k == "job_type":
			if v = NormalizeEnum(v); !contains(JobTypes, v) {
				bad(k, "must be one of "+strings.Join(JobTypes, ", "))
			}
		case k == "workplace_type":
			if v = NormalizeEnum(v); !contains(WorkplaceTypes, v) {
				bad(k, "must be one of "+strings.Join(WorkplaceTypes, ", "))
			}
		}
		in.Extras[k] = v
	}
	return fields
}

// CheckExternalID says what is wrong with an external ID, or "" when it is
// acceptable: 1–191 characters of valid UTF-8 without control characters.
func CheckExternalID(id string) string {
	switch n := utf8.RuneCountInString(id); {
	case n == 0:
		return "is required"
	case n > MaxExternalIDChars:
		return "must be at most 191 characters"
	case !utf8.ValidString(id):
		return "must be valid UTF-8"
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// keepKnown drops non-positive and repeated IDs and flags unknown ones.
func keepKnown(ids *[]int64, key string, known func(int64) bool, bad func(k, msg string)) *[]int64 {
	if ids == nil {
		return nil
	}
	out := make([]int64, 0, len(*ids))
	seen := make(map[int64]bool, len(*ids))
	for _, id := range *ids {
		if id <= 0 || seen[id] {
			continue
		}
		seen[id] = true
		if !known(id) {
			bad(key, "contains an unknown ID")
		}
		out = append(out, id)
	}
	if len(out) > MaxTaxonomyIDs {
		bad(key, "has too many IDs")
	}
	return &out
}

// NormalizeEnum turns "full-time" or "On site" into "FULL_TIME"/"ON_SITE".
func NormalizeEnum(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "_", " ", "_").Replace(s)
	if s == "ONSITE" {
		s = "ON_SITE"
	}
	return s
}

// IsWebURL reports whether s is an absolute http(s) URL with a host.
func IsWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Hostname() != "" && strings.IndexFunc(s, unicode.IsSpace) < 0
}

// IsEmail reports whether s is a bare address such as "jobs@example.com".
func IsEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n]))
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// deadlineLayouts are the forms ParseDeadline accepts. Numeric day/month
// orders (01/02/2026) are left out on purpose: they are ambiguous.
var deadlineLayouts = []string{
	"2006-01-02",
	"2006/01/02",
	"2006.01.02",
	"20060102",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	time.RFC3339,
	time.RFC3339Nano,
	"2 January 2006",
	"2 Jan 2006",
	"02 January 2006",
	"02 Jan 2006",
	"January 2, 2006",
	"Jan 2, 2006",
	"January 2 2006",
	"Jan 2 2006",
	"2-Jan-2006",
	"02-Jan-2006",
	"Mon, 2 Jan 2006",
	"Monday, 2 January 2006",
	"Monday, January 2, 2006",
}

// ParseDeadline reads a deadline in one of the unambiguous common forms and
// returns it as "2006-01-02". A date-time keeps the date as written, without
// moving it between time zones.
func ParseDeadline(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return "", false
	}
	for _, layout := range deadlineLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1000 || t.Year() > 9999 {
				return "", false
			}
			return t.Format(DateLayout), true
		}
	}
	return "", false
}
