package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// postingRow is a job with its employer's name, as the site queries read it.
type postingRow struct {
	Job          jobRow `gorm:"embedded"`
	EmployerName string
	Matches      int64 `gorm:"-"` // the search's matches (PostgreSQL's index plan)
}

// posting converts a row, leaving the company empty when the job hides it.
func (r *postingRow) posting(c *atsgate.Country) atsgate.Posting {
	p := atsgate.Posting{Job: *jobFromRow(&r.Job, c.PublicURL)}
	if p.ShowCompanyName {
		p.Company = p.Extras["company_name"]
		if p.Company == "" {
			p.Company = r.EmployerName
		}
	}
	return p
}

// publicJobs is where every site query starts: the country's published
// jobs within their deadline. The state is a literal, not a parameter, so
// PostgreSQL can match the partial indexes of migrations 6 and 10.
const publicJobs = `jobs.country_id = ? AND jobs.state = 'published' AND (jobs.deadline = '' OR jobs.deadline >= ?)`

// postingList is what postingRow holds, in the order jobRow.scan reads
// them: jobs.* would also read PostgreSQL's search document (migration
// 10), as large as the description and never shown.
var postingList = func() string {
	cols := strings.Split(jobColumns, ",")
	for i, c := range cols {
		cols[i] = "jobs." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ") + `, employers.name AS employer_name`
}()

// postingJoin and postingColumns complete postingList into a query.
const postingJoin = `JOIN employers ON employers.id = jobs.employer_id `

var postingColumns = `SELECT ` + postingList + ` FROM jobs ` + postingJoin

// facetTokens are the lexemes of q's filters, as migration 10 writes them
// into each job's search document (PostgreSQL's jobs.search_doc, SQLite's
// job_search.facets): zst<region>, zqu<qualification>,
// zsp<specialization>, zjt<job type>, zwt<workplace type>, types
// lower-cased with everything but letters and digits removed.
func facetTokens(q atsgate.SiteQuery) []string {
	var out []string
	for _, f := range []struct {
		prefix string
		id     int64
	}{{"zst", q.State}, {"zqu", q.Qualification}, {"zsp", q.Specialization}} {
		if f.id > 0 {
			out = append(out, f.prefix+strconv.FormatInt(f.id, 10))
		}
	}
	for _, f := range []struct{ prefix, value string }{{"zjt", q.JobType}, {"zwt", q.WorkplaceType}} {
		if f.value == "" {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(f.value) {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			}
		}
		out = append(out, f.prefix+b.String())
	}
	return out
}

// Postings implements atsgate.Site.
func (s *Store) Postings(ctx context.Context, c *atsgate.Country, q atsgate.SiteQuery) (*atsgate.SitePage, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	where := []string{publicJobs}
	args := []any{c.ID, c.Today(s.now())}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.After != nil {
		// A row comparison, which both databases turn into one range of
		// the (published_at, id) index; the equivalent OR is a filter.
		add(`(jobs.published_at, jobs.id) < (?, ?)`, q.After.PublishedAt.UTC(), q.After.ID)
	}
	const order = " ORDER BY jobs.published_at DESC, jobs.id DESC LIMIT ?"
	var rows []postingRow
	facets := facetTokens(q)
	switch {
	case len(q.Terms) == 0 && len(facets) == 0:
	case s.dialect == Postgres:
		match, matchArgs, err := s.pgMatch(ctx, c, q.Terms, facets)
		if err != nil {
			return nil, err
		}
		// First walk the newest jobs, at most rare() of them, testing each
		// against the stored document: a common word or filter fills the
		// page within a few rows, and then that is the page, since the
		// window is the start of the same order. Otherwise the matches are
		// few among the newest: find them all through the GIN index and
		// sort them (OFFSET 0 keeps the subquery from being pulled up, so
		// the index must be used). A search whose first page came from the
		// index last time (searchCounts) goes there straight away.
		key := strconv.FormatInt(c.ID, 10) + "\x00" + match + "\x00" + fmt.Sprint(matchArgs...)
		if !s.counts.toIndex(key, s.rare(), time.Now()) {
			walk := `SELECT ` + postingList + ` FROM (SELECT jobs.* FROM jobs WHERE ` + strings.Join(where, " AND ") +
				` ORDER BY jobs.published_at DESC, jobs.id DESC LIMIT ` + strconv.Itoa(s.rare()) + `) AS jobs ` + postingJoin +
				`WHERE ` + match + order
			if rows, err = s.postingRows(ctx, false, walk, append(append(append([]any{}, args...), matchArgs...), limit+1)...); err != nil {
				return nil, translate(err, "list public jobs")
			}
			if len(rows) > limit {
				break
			}
		}
		// The page's IDs are chosen among the matches by their (ID,
		// publication time) alone, so only the page's rows are then read
		// in full (at 3,000 matches that halved the statement's time), and
		// the matches are counted on the way.
		gin := `SELECT ` + postingList + `, m.n FROM (SELECT m.id, m.n FROM (SELECT jobs.id, jobs.published_at, count(*) OVER () AS n
FROM jobs WHERE ` + strings.Join(where, " AND ") + ` AND ` + match + ` OFFSET 0) AS m
ORDER BY m.published_at DESC, m.id DESC LIMIT ?) AS m JOIN jobs ON jobs.id = m.id ` + postingJoin +
			`ORDER BY jobs.published_at DESC, jobs.id DESC`
		if rows, err = s.postingRows(ctx, true, gin, append(append(append([]any{}, args...), matchArgs...), limit+1)...); err != nil {
			return nil, translate(err, "list public jobs")
		}
		if q.After == nil {
			// Only a first page counts every match; a later one, those
			// after its cursor.
			var n int64
			if len(rows) > 0 {
				n = rows[0].Matches
			}
			s.counts.set(key, n, time.Now())
		}
		if rows == nil {
			rows = []postingRow{}
		}
	default:
		if err := s.sqliteMatch(ctx, q.Terms, facets, add); err != nil {
			return nil, err
		}
	}
	if rows == nil {
		args = append(args, limit+1)
		var err error
		if rows, err = s.postingRows(ctx, false, postingColumns+"WHERE "+strings.Join(where, " AND ")+order, args...); err != nil {
			return nil, translate(err, "list public jobs")
		}
	}
	page := &atsgate.SitePage{}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.Next = &atsgate.SiteCursor{PublishedAt: timeOrZero(last.Job.PublishedAt), ID: last.Job.ID}
	}
	page.Postings = make([]atsgate.Posting, len(rows))
	for i := range rows {
		page.Postings[i] = rows[i].posting(c)
	}
	return page, nil
}

// postingRows runs a site query (placeholders ?) and reads its rows; when
// counted, the query's last column is the search's count of matches. On
// PostgreSQL it goes through pgx itself, as the API's hottest reads do
// (see jobPG), which scans without GORM's reflection, and a slice argument
// is a PostgreSQL array (write = ANY(?), not IN ?); on SQLite through GORM.
func (s *Store) postingRows(ctx context.Context, counted bool, query string, args ...any) ([]postingRow, error) {
	if s.dialect != Postgres {
		var rows []postingRow
		err := s.rdb.WithContext(ctx).Raw(query, args...).Scan(&rows).Error
		return rows, err
	}
	return pgxRows(ctx, s, 0, numbered(query), args, func(r *postingRow) []any {
		if counted {
			return r.Job.scan(&r.EmployerName, &r.Matches)
		}
		return r.Job.scan(&r.EmployerName)
	})
}

// numbered turns a query's ? placeholders into PostgreSQL's $1, $2, …
// The site's queries have no ? of their own (no jsonb ? operators, no
// literals holding one).
func numbered(query string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// The search: every term must match the job's title, description or shown
// company, and every facet (facetTokens) must be the job's.
//
// Either database has two plans: walk the newest-first index and test each
// job, which stops at the page's end and is fast when many jobs match, and
// ruinous when few do; or fetch the matches from the text index and sort
// them, the reverse. Planners guess a word's frequency badly, so the data
// decides: PostgreSQL walks at most RareMatches of the newest jobs first
// (Postings), SQLite counts the matches up to RareMatches in FTS5.

// sqliteMatch adds the FTS5 condition.
func (s *Store) sqliteMatch(ctx context.Context, terms, facets []string, add func(string, ...any)) error {
	// The terms are letters and digits only (atsgate.SearchTerms), so
	// quoting each makes a phrase of one word and no FTS5 syntax. The
	// terms are matched in the text columns and the facets in their own
	// column only.
	parts := make([]string, 0, len(terms)+len(facets))
	for _, t := range terms {
		parts = append(parts, `{title description company} : "`+t+`"`)
	}
	for _, f := range facets {
		parts = append(parts, `facets : "`+f+`"`)
	}
	match := strings.Join(parts, " AND ")
	// FTS5 counts matches cheaply (20,000 in about 2 ms) but answers one
	// row's EXISTS slowly (0.2 to 0.6 ms a row): walking the newest jobs
	// pays off only for far commoner searches than on PostgreSQL. A filter
	// matching 3,000 of a million jobs took 4 s to walk and 25 ms through
	// the matches (the sqlite3 shell on the benchmark's database).
	rare := s.rare()
	if s.rareMatches == 0 {
		rare = SQLiteRareMatches
	}
	var n int64
	err := s.rdb.WithContext(ctx).Raw(`SELECT count(*) FROM (SELECT rowid FROM job_search WHERE job_search MATCH ? LIMIT `+
		strconv.Itoa(rare)+`)`, match).Scan(&n).Error
	if err != nil {
		return translate(err, "search probe")
	}
	if n < int64(rare) {
		add(`jobs.id IN (SELECT rowid FROM job_search WHERE job_search MATCH ?)`, match)
	} else {
		add(`EXISTS (SELECT 1 FROM job_search WHERE job_search MATCH ? AND job_search.rowid = jobs.id)`, match)
	}
	return nil
}

// pgMatch is the condition on PostgreSQL's stored document (migration
// 10): one tsquery of the terms at weight D, where the text is, and the
// facets at weight A, where only the facets are. A term that also names
// employers (a job that names no company shows its employer's name, which
// lives in employers) is its own condition, matched either way; the few
// employers it names are found first, so the jobs side stays GIN lookups.
func (s *Store) pgMatch(ctx context.Context, c *atsgate.Country, terms, facets []string) (string, []any, error) {
	var joined, conds []string
	var joinedArgs, condArgs []any
	for _, term := range terms {
		var ids []int64
		err := s.rdb.WithContext(ctx).Raw(`SELECT id FROM employers WHERE country_id = ? AND to_tsvector('simple', name) @@ plainto_tsquery('simple', ?)`,
			c.ID, term).Scan(&ids).Error
		if err != nil {
			return "", nil, translate(err, "search employers")
		}
		// The term is letters and digits (atsgate.SearchTerms): no
		// tsquery syntax.
		if len(ids) == 0 {
			joined = append(joined, `to_tsquery('simple', ?)`)
			joinedArgs = append(joinedArgs, term+":D")
			continue
		}
		conds = append(conds, `(jobs.search_doc @@ to_tsquery('simple', ?) OR (jobs.show_company_name AND coalesce(jobs.extras::jsonb ->> 'company_name', '') = '' AND jobs.employer_id = ANY(?)))`)
		condArgs = append(condArgs, term+":D", ids)
	}
	if len(facets) > 0 {
		// Facets are letters and digits (facetTokens): no tsquery syntax.
		joined = append(joined, `to_tsquery('simple', ?)`)
		joinedArgs = append(joinedArgs, strings.Join(facets, ":A & ")+":A")
	}
	var all []string
	var args []any
	if len(joined) > 0 {
		all = append(all, `jobs.search_doc @@ (`+strings.Join(joined, " && ")+`)`)
		args = append(args, joinedArgs...)
	}
	return strings.Join(append(all, conds...), " AND "), append(args, condArgs...), nil
}

// RareMatches is where a search stops counting as rare: below it, sorting
// the matches costs less than walking the newest jobs to find them. On
// PostgreSQL it is how many of the newest jobs a search walks before it
// turns to the GIN index. SQLite's walk costs far more a row, so there it
// is SQLiteRareMatches, how many FTS5 matches a search counts.
const (
	RareMatches       = 2000
	SQLiteRareMatches = 20_000
)

// WithRareMatches sets where a search stops counting as rare on both
// databases (RareMatches and SQLiteRareMatches unless set), so tests
// reach both search plans with few jobs.
func WithRareMatches(n int) Option { return func(s *Store) { s.rareMatches = n } }

// rare is the store's RareMatches.
func (s *Store) rare() int {
	if s.rareMatches > 0 {
		return s.rareMatches
	}
	return RareMatches
}

// Posting implements atsgate.Site.
func (s *Store) Posting(ctx context.Context, c *atsgate.Country, id int64) (*atsgate.Posting, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.postingRows(ctx, false, postingColumns+`WHERE jobs.id = ? AND jobs.country_id = ?`, id, c.ID)
	if err != nil {
		return nil, translate(err, "public job")
	}
	if len(rows) == 0 {
		return nil, atsgate.Errorf(atsgate.ENOTFOUND, "job %d not found", id)
	}
	p := rows[0].posting(c)
	return &p, nil
}

// Sitemap implements atsgate.Site. A sitemap part is read by offset: parts
// are fetched by crawlers, rarely, and a part's first ID cannot be known
// without counting to it anyway.
func (s *Store) Sitemap(ctx context.Context, c *atsgate.Country, offset, limit int) ([]atsgate.SitemapEntry, int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	today := c.Today(s.now())
	var total int64
	if err := s.rdb.WithContext(ctx).Raw(`SELECT count(*) FROM jobs WHERE `+publicJobs, c.ID, today).Scan(&total).Error; err != nil {
		return nil, 0, translate(err, "count public jobs")
	}
	var rows []struct {
		ID         int64
		PublicPath string
		UpdatedAt  time.Time
	}
	err := s.rdb.WithContext(ctx).Raw(`SELECT jobs.id, jobs.public_path, jobs.updated_at FROM jobs WHERE `+publicJobs+
		` ORDER BY jobs.id LIMIT ? OFFSET ?`, c.ID, today, limit, offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, translate(err, "sitemap")
	}
	out := make([]atsgate.SitemapEntry, len(rows))
	for i, r := range rows {
		out[i] = atsgate.SitemapEntry{ID: r.ID, Path: r.PublicPath, LastMod: r.UpdatedAt.UTC()}
	}
	return out, total, nil
}

// SiteChanged implements atsgate.Site, through the index on (country_id,
// updated_at). Pending jobs count too: a spurious change only costs a
// cache a refetch.
func (s *Store) SiteChanged(ctx context.Context, c *atsgate.Country) (time.Time, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var at []time.Time
	err := s.rdb.WithContext(ctx).Raw(`SELECT updated_at FROM jobs WHERE country_id = ? ORDER BY updated_at DESC LIMIT 1`, c.ID).
		Scan(&at).Error
	if err != nil {
		return time.Time{}, translate(err, "site change time")
	}
	if len(at) == 0 {
		return c.CreatedAt.UTC(), nil
	}
	return at[0].UTC(), nil
}

var _ atsgate.Site = (*Store)(nil)
