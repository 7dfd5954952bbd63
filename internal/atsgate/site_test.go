package atsgate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSearchTerms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"Accountant", []string{"accountant"}},
		{`"nurse" OR title:doctor* -x NEAR(a b)`, []string{"nurse", "or", "title", "doctor", "x", "near", "a", "b"}},
		{"Café café  CAFÉ", []string{"café"}},
		{"a b c d e f g h i j", []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"'; DROP TABLE jobs; --", []string{"drop", "table", "jobs"}},
	} {
		if diff := cmp.Diff(tc.want, SearchTerms(tc.in)); diff != "" {
			t.Errorf("SearchTerms(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestSiteCursorRoundTrip(t *testing.T) {
	c := SiteCursor{PublishedAt: time.Date(2026, 6, 18, 9, 14, 32, 123456000, time.UTC), ID: 42}
	got, ok := ParseSiteCursor(c.String())
	if !ok || !got.PublishedAt.Equal(c.PublishedAt) || got.ID != 42 {
		t.Errorf("ParseSiteCursor(%q) = %v, %v", c.String(), got, ok)
	}
	for _, bad := range []string{"", "x", "1.", ".1", "1.-1", "zz.0"} {
		if _, ok := ParseSiteCursor(bad); ok {
			t.Errorf("ParseSiteCursor(%q) ok", bad)
		}
	}
}

func TestValidThroughIsTheEndOfTheDeadlineDayInTheCountry(t *testing.T) {
	lagos, _ := time.LoadLocation("Africa/Lagos")
	c := &Country{Location: lagos}
	got, ok := ValidThrough(c, "2026-07-01")
	if !ok || got.Format(time.RFC3339) != "2026-07-01T23:59:59+01:00" {
		t.Errorf("ValidThrough = %v, %v", got.Format(time.RFC3339), ok)
	}
	if _, ok := ValidThrough(c, ""); ok {
		t.Error(`ValidThrough("") ok`)
	}
}

func TestEmploymentTypeCoversEveryJobType(t *testing.T) {
	google := map[string]bool{"FULL_TIME": true, "PART_TIME": true, "CONTRACTOR": true, "TEMPORARY": true,
		"INTERN": true, "VOLUNTEER": true, "PER_DIEM": true, "OTHER": true}
	for _, jt := range JobTypes {
		if got := EmploymentType(jt); !google[got] {
			t.Errorf("EmploymentType(%q) = %q, not one of Google's values", jt, got)
		}
	}
	if got := EmploymentType(""); got != "" {
		t.Errorf(`EmploymentType("") = %q`, got)
	}
}

func TestPublicAndGone(t *testing.T) {
	c := &Country{Location: time.UTC}
	now := time.Date(2026, 6, 18, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		state        JobState
		deadline     string
		public, gone bool
	}{
		{StatePublished, "", true, false},
		{StatePublished, "2026-06-18", true, false},
		{StatePublished, "2026-06-17", false, true},
		{StatePending, "", false, false},
		{StateClosed, "", false, true},
		{StateExpired, "", false, true},
		{StateDisapproved, "", false, true},
	} {
		j := &Job{State: tc.state, Deadline: tc.deadline}
		if j.Public(c, now) != tc.public || j.Gone(c, now) != tc.gone {
			t.Errorf("%s deadline %q: public %v gone %v, want %v %v", tc.state, tc.deadline,
				j.Public(c, now), j.Gone(c, now), tc.public, tc.gone)
		}
	}
}

func TestFormatSalary(t *testing.T) {
	for in, want := range map[int64]string{0: "GHS 0", 999: "GHS 999", 4500: "GHS 4,500", 1234567: "GHS 1,234,567"} {
		if got := FormatSalary(in, "GHS"); got != want {
			t.Errorf("FormatSalary(%d) = %q, want %q", in, got, want)
		}
	}
}
