package atsgate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
)

func TestPublicPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id    int64
		title string
		want  string
	}{
		{7, "Senior Go Engineer", "/jobs/7-senior-go-engineer"},
		{8, "  --C++ / Rust!! ", "/jobs/8-c-rust"},
		{9, "Ωμέγα", "/jobs/9"},
		{10, "", "/jobs/10"},
		{11, strings.Repeat("a", 100), "/jobs/11-" + strings.Repeat("a", 60)},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := atsgate.PublicPath(tt.id, tt.title); got != tt.want {
				t.Errorf("PublicPath(%d, %q) = %q, want %q", tt.id, tt.title, got, tt.want)
			}
		})
	}
}

func TestParsePublicPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		id   int64
		slug string
		ok   bool
	}{
		{"/jobs/7-senior-go-engineer", 7, "senior-go-engineer", true},
		{"/jobs/10", 10, "", true},
		{"/jobs/9223372036854775807-x", 9223372036854775807, "x", true},
		// A stale or hand-typed slug still names the job; the site decides
		// whether to redirect to the current one.
		{"/jobs/7-Old-Title", 7, "Old-Title", true},
		{"/jobs/7-a--b", 7, "a--b", true},

		{"", 0, "", false},
		{"/jobs/", 0, "", false},
		{"/jobs", 0, "", false},
		{"jobs/7", 0, "", false},
		{"/Jobs/7", 0, "", false},
		{"/job/7", 0, "", false},
		{"/jobs/0", 0, "", false},
		{"/jobs/007-bond", 0, "", false},
		{"/jobs/-7", 0, "", false},
		{"/jobs/+7", 0, "", false},
		{"/jobs/7x", 0, "", false},
		{"/jobs/7-", 0, "", false},
		{"/jobs/7/", 0, "", false},
		{"/jobs/7-a/b", 0, "", false},
		{"/jobs/9223372036854775808", 0, "", false},
		{"/jobs/99999999999999999999", 0, "", false},
		{"/jobs/７", 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			id, slug, ok := atsgate.ParsePublicPath(tt.path)
			if id != tt.id || slug != tt.slug || ok != tt.ok {
				t.Errorf("ParsePublicPath(%q) = %d, %q, %v; want %d, %q, %v", tt.path, id, slug, ok, tt.id, tt.slug, tt.ok)
			}
		})
	}
}

// FuzzPublicPath: every path PublicPath makes parses back to its ID and
// slug.
func FuzzPublicPath(f *testing.F) {
	f.Add(int64(7), "Senior Go Engineer")
	f.Add(int64(1), "")
	f.Add(int64(9223372036854775807), "--C++ / Rust!!")
	f.Add(int64(42), "Ωμέγα 2026")
	f.Fuzz(func(t *testing.T, id int64, title string) {
		if id <= 0 {
			t.Skip()
		}
		path := atsgate.PublicPath(id, title)
		gotID, slug, ok := atsgate.ParsePublicPath(path)
		if !ok || gotID != id {
			t.Fatalf("ParsePublicPath(%q) = %d, %q, %v; want %d", path, gotID, slug, ok, id)
		}
		rebuilt := fmt.Sprintf("/jobs/%d", id)
		if slug != "" {
			rebuilt += "-" + slug
		}
		if rebuilt != path {
			t.Fatalf("ParsePublicPath(%q) = %d, %q: rebuilds as %q", path, gotID, slug, rebuilt)
		}
	})
}
