package atsgate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Posting is a published job as its country site shows it.
type Posting struct {
	Job
	// Company is the name the job is shown under: its company_name extra,
	// else its employer's name; "" when the job hides its company, so no
	// page, feed or structured data built from a Posting can name it.
	Company string
}

// SiteQuery selects a page of a country's published jobs, newest first.
// Zero fields select everything.
type SiteQuery struct {
	Terms          []string // from SearchTerms; all must match
	State          int64    // a region of the country's taxonomy
	Specialization int64
	Qualification  int64
	JobType        string // one of JobTypes
	WorkplaceType  string // one of WorkplaceTypes
	After          *SiteCursor
	Limit          int
}

// SiteCursor is the keyset position after a listing's last job: newest
// first is (published_at, id) descending, so the next page is everything
// strictly before it, with no OFFSET to walk past.
type SiteCursor struct {
	PublishedAt time.Time
	ID          int64
}

// String encodes the cursor for a page link: microseconds since the epoch
// (both databases keep microseconds) and the ID.
func (c SiteCursor) String() string {
	return strconv.FormatInt(c.PublishedAt.UnixMicro(), 36) + "." + strconv.FormatInt(c.ID, 36)
}

// ParseSiteCursor reads what SiteCursor.String wrote; ok is false for
// anything else, which a listing treats as the first page.
func ParseSiteCursor(s string) (c SiteCursor, ok bool) {
	ts, id, found := strings.Cut(s, ".")
	if !found {
		return c, false
	}
	us, err1 := strconv.ParseInt(ts, 36, 64)
	n, err2 := strconv.ParseInt(id, 36, 64)
	if err1 != nil || err2 != nil || us < 0 || n <= 0 {
		return c, false
	}
	return SiteCursor{PublishedAt: time.UnixMicro(us).UTC(), ID: n}, true
}

// SitePage is one page of a listing.
type SitePage struct {
	Postings []Posting
	Next     *SiteCursor // nil on the last page
}

// SitemapEntry is one job page in a sitemap.
type SitemapEntry struct {
	ID      int64
	Path    string // the job's public path
	LastMod time.Time
}

// Site is what the public country sites read. A job is public while it is
// published and its deadline has not passed in its country: the site does
// not wait for the expiry run to hide it.
type Site interface {
	// Postings returns a page of the country's public jobs, newest first.
	Postings(ctx context.Context, c *Country, q SiteQuery) (*SitePage, error)
	// Posting returns one of the country's jobs in any state, for the job
	// page to answer 200, 301 or 410. ENOTFOUND for an unknown ID and for
	// another country's job.
	Posting(ctx context.Context, c *Country, id int64) (*Posting, error)
	// Sitemap returns up to limit public jobs of the country by ascending
	// ID, skipping the first offset, and the number of public jobs.
	Sitemap(ctx context.Context, c *Country, offset, limit int) (entries []SitemapEntry, total int64, err error)
	// SiteChanged is the last time any of the country's jobs changed, for
	// Last-Modified: every update and transition sets it.
	SiteChanged(ctx context.Context, c *Country) (time.Time, error)
}

// MaxSearchTerms bounds the words of one search: enough for any real
// query, few enough that no query is expensive by length.
const MaxSearchTerms = 8

// SearchTerms splits a visitor's query into the lower-case words both
// databases' full-text indexes hold (runs of letters and digits), dropping
// duplicates and keeping the first MaxSearchTerms. Everything else,
// including every operator of either search syntax, is a separator, so a
// query can never be read as search syntax.
func SearchTerms(q string) []string {
	var terms []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) > 64 || seen[w] {
			continue
		}
		seen[w] = true
		terms = append(terms, w)
		if len(terms) == MaxSearchTerms {
			break
		}
	}
	return terms
}

// Public reports whether the job is on its country's site at now: published
// and not past its deadline there.
func (j *Job) Public(c *Country, now time.Time) bool {
	return j.State == StatePublished && (j.Deadline == "" || j.Deadline >= c.Today(now))
}

// Gone reports whether the job's page answers 410 Gone: it was public and
// has ended (closed, expired, or published past its deadline), or was
// disapproved. A pending job was never public, so it is not gone but
// unknown.
func (j *Job) Gone(c *Country, now time.Time) bool {
	switch j.State {
	case StateClosed, StateExpired, StateDisapproved:
		return true
	case StatePublished:
		return !j.Public(c, now)
	}
	return false
}

// EmploymentType maps a job_type extra to schema.org's employmentType
// (Google's job-posting values); "" when the job gives none. FACULTY has
// no schema.org value of its own and is posted as OTHER.
func EmploymentType(jobType string) string {
	switch jobType {
	case "FULL_TIME", "PART_TIME", "TEMPORARY":
		return jobType
	case "CONTRACT":
		return "CONTRACTOR"
	case "INTERNSHIP":
		return "INTERN"
	case "FACULTY":
		return "OTHER"
	}
	return ""
}

// ValidThrough is the last instant a job with this deadline is open: the
// end of the deadline day in the country's time zone. ok is false for a
// job without a deadline or with an unreadable one.
func ValidThrough(c *Country, deadline string) (t time.Time, ok bool) {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	day, err := time.ParseInLocation(DateLayout, deadline, loc)
	if err != nil {
		return time.Time{}, false
	}
	return day.AddDate(0, 0, 1).Add(-time.Second), true
}

// ConfidentialEmployer is the name the structured data gives the hiring
// organization of a job that hides its company.
const ConfidentialEmployer = "Confidential employer"

// RemoteJob reports whether the job is worked remotely.
func (j *Job) RemoteJob() bool { return j.Extras["workplace_type"] == "REMOTE" }

// FormatSalary formats a salary with its currency: "GHS 4,500".
// The wire's salary is a whole amount of the country's currency.
func FormatSalary(amount int64, currency string) string {
	s := strconv.FormatInt(amount, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s %s", currency, b.String())
}
