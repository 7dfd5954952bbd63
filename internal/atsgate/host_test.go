package atsgate_test

import (
	"testing"

	"github.com/atsgate/atsgate/internal/atsgate"
)

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"gh.localhost", "gh.localhost"},
		{"GH.Localhost", "gh.localhost"},
		{"gh.localhost:8080", "gh.localhost"},
		{"jobs.example.com.", "jobs.example.com"},
		{"Jobs.Example.COM.:443", "jobs.example.com"},
		{" ke.localhost ", "ke.localhost"},
		{"[::1]", "[::1]"},
		{"[::1]:8080", "[::1]"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := atsgate.NormalizeHost(tt.in); got != tt.want {
				t.Errorf("NormalizeHost(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
