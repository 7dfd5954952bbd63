package atsgate_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
)

func TestDueMonths(t *testing.T) {
	t.Parallel()
	kiritimati := time.FixedZone("UTC+14", 14*3600)
	honolulu := time.FixedZone("UTC-10", -10*3600)
	tests := []struct {
		name string
		now  time.Time
		want []string
	}{
		{"mid-month", time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC), []string{"2026-09", "2026-10"}},
		{"first instant of a month", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), []string{"2026-10", "2026-11"}},
		{"last instant of a month", time.Date(2026, 10, 31, 23, 59, 59, 999999999, time.UTC), []string{"2026-09", "2026-10"}},
		{"January reaches back a year", time.Date(2027, 1, 3, 8, 0, 0, 0, time.UTC), []string{"2026-12", "2027-01"}},
		{"March 31st is not confused by February", time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC), []string{"2026-02", "2026-03"}},
		// The months are UTC months whatever zone now is expressed in.
		{"ahead of UTC", time.Date(2026, 11, 1, 9, 0, 0, 0, kiritimati), []string{"2026-09", "2026-10"}},
		{"behind UTC", time.Date(2026, 10, 31, 20, 0, 0, 0, honolulu), []string{"2026-10", "2026-11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, atsgate.DueMonths(tt.now)); diff != "" {
				t.Errorf("DueMonths(%v) (-want +got):\n%s", tt.now, diff)
			}
		})
	}
}
