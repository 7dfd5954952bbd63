package atsgate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutPreview(t *testing.T) {
	long := strings.Repeat("é", PreviewChars+1) // two bytes a character: cut by characters
	for _, tt := range []struct {
		name, in, want string
		cut            bool
	}{
		{"short", "<p>Hello</p>", "<p>Hello</p>", false},
		{"exactly the preview", long[:2*PreviewChars], long[:2*PreviewChars], false},
		{"one more", long, long[:2*PreviewChars], true},
		{"open tag dropped", "<p>" + strings.Repeat("a", PreviewChars-10) + `<a href="https://exam` + "ple", "<p>" + strings.Repeat("a", PreviewChars-10), true},
		{"closed tag kept", strings.Repeat("a", PreviewChars-4) + "<b>bold", strings.Repeat("a", PreviewChars-4) + "<b>b", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := CutPreview(tt.in)
			if got != tt.want || cut != tt.cut {
				t.Errorf("CutPreview = %q (%d chars), %v; want %q (%d chars), %v", got, utf8.RuneCountInString(got), cut,
					tt.want, utf8.RuneCountInString(tt.want), tt.cut)
			}
		})
	}
}
