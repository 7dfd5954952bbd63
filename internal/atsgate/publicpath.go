package atsgate

import (
	"fmt"
	"strconv"
	"strings"
)

// publicPathPrefix starts the path of every job page on a country site.
const publicPathPrefix = "/jobs/"

// maxSlugBytes bounds the slug: enough words of a title to read, short
// enough for a link to stay on one line.
const maxSlugBytes = 60

// PublicPath is where a published job lives on its country site:
// "/jobs/<id>-<slug of the title>", or "/jobs/<id>" when the title has no
// ASCII letter or digit. The ID alone identifies the job; the slug is for
// people and search engines, so a page reached with an old or mangled slug
// can be redirected to this one.
func PublicPath(id int64, title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= maxSlugBytes {
			break
		}
	}
	if b.Len() == 0 {
		return fmt.Sprintf("%s%d", publicPathPrefix, id)
	}
	return fmt.Sprintf("%s%d-%s", publicPathPrefix, id, b.String())
}

// ParsePublicPath reads a path shaped like PublicPath's, "/jobs/<id>" or
// "/jobs/<id>-<slug>", and returns the job ID and the slug as written (""
// when there is none). The ID must be a positive decimal without leading
// zeros, so each job has one spelling of it; the slug may be anything
// without a slash, so that the caller, not the parser, decides whether a
// slug that differs from the job's current one earns a redirect. ok is
// false for every other path.
func ParsePublicPath(path string) (id int64, slug string, ok bool) {
	rest, found := strings.CutPrefix(path, publicPathPrefix)
	if !found {
		return 0, "", false
	}
	digits, slug, hasSlug := strings.Cut(rest, "-")
	if digits == "" || digits[0] == '0' || len(digits) > 19 {
		return 0, "", false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, "", false
		}
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, "", false // beyond int64
	}
	if hasSlug && (slug == "" || strings.Contains(slug, "/")) {
		return 0, "", false
	}
	return id, slug, true
}
