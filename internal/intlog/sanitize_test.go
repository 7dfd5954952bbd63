package intlog_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/intlog"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	key, _, prefix, err := atsgate.NewAPIKey("gh")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"no key", `{"title":"mjm is not a key"}`, `{"title":"mjm is not a key"}`},
		{"whole key", key, prefix},
		{"in JSON", `{"k":"` + key + `"}`, `{"k":"` + prefix + `"}`},
		{"twice", key + " and " + key, prefix + " and " + prefix},
		{"prefix alone stays", prefix, prefix},
		{"short secret stays", "mjm_gh_Ab", "mjm_gh_Ab"},
		{"not a country", "mjm_G1_AbCdEfGh", "mjm_G1_AbCdEfGh"},
		{"truncated at the end", "xx mjm_ke_AbCdEf", "xx mjm_ke_AbCd"},
		{"dangling", "mjm_", "mjm_"},
		{"dangling cc", "mjm_gh", "mjm_gh"},
		{"overlong secret", "mjm_gh_" + strings.Repeat("Z", 300), "mjm_gh_ZZZZ"},
		{"next to text", "Bearer " + key + ".", "Bearer " + prefix + "."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := intlog.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"ascii", "abcdef", 5, "abcde"},
		{"inside a 2-byte char", "abcdé", 5, "abcd"},
		{"inside a 3-byte char", "abc€x", 4, "abc"},
		{"after a 3-byte char", "abc€x", 6, "abc€"},
		{"inside a 4-byte char", "a😀b", 3, "a"},
		{"garbage", strings.Repeat("\x80", 10), 5, strings.Repeat("\x80", 5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := intlog.Cut(tc.in, tc.n); got != tc.want {
				t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if got := intlog.CutBytes([]byte(tc.in), tc.n); got != tc.want {
				t.Errorf("CutBytes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
	big := strings.Repeat("é", atsgate.MaxLoggedBody) // 32 KiB
	got := intlog.Cut(big, atsgate.MaxLoggedBody)
	if len(got) != atsgate.MaxLoggedBody || !utf8.ValidString(got) {
		t.Errorf("Cut of a 2-byte body: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestSafePath(t *testing.T) {
	t.Parallel()
	key, _, prefix, _ := atsgate.NewAPIKey("ng")
	tests := []struct {
		name, path, query, want string
	}{
		{"no query", "/api/ats/jobs", "", "/api/ats/jobs"},
		{"plain query", "/api/ats/jobs", "external_id=J-1&limit=5", "/api/ats/jobs?external_id=J-1&limit=5"},
		{"api_key", "/erp/", "api_key=secret123&x=1", "/erp/?api_key=REDACTED&x=1"},
		{"API_KEY upper", "/erp/", "API_KEY=secret123", "/erp/?API_KEY=REDACTED"},
		{"escaped name", "/erp/", "api%5Fkey=secret123", "/erp/?api%5Fkey=REDACTED"},
		{"token", "/x", "token=abc", "/x?token=REDACTED"},
		{"key-shaped value anywhere", "/x", "q=" + key, "/x?q=" + prefix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := intlog.SafePath(tc.path, tc.query); got != tc.want {
				t.Errorf("SafePath(%q, %q) = %q, want %q", tc.path, tc.query, got, tc.want)
			}
		})
	}
}
