package atsgate_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// TestAmountRules: ParseAmount, CheckAmount and CheckPrice apply one rule,
// so an amount typed by an operator and one built in code meet the same
// bounds.
func TestAmountRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		parseOK   bool
		amountMsg string
		priceMsg  string
	}{
		{"0", true, "", ""},
		{"12.50", true, "", ""},
		{"-20", true, "", "must not be negative"},
		{"1.005", false, "must have at most two decimals", "must have at most two decimals"},
		{"-1.005", false, "must have at most two decimals", "must not be negative"},
		{"1000000000000000", true, "", ""},
		{"-1000000000000000", true, "", "must not be negative"},
		{"1000000000000000.01", false, "is too large", "is too large"},
		{"-1000000000000000.01", false, "is too large", "must not be negative"},
		{"92233720368547758.08", false, "is too large", "is too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d := decimal.RequireFromString(tt.in)
			if _, err := atsgate.ParseAmount(tt.in); (err == nil) != tt.parseOK {
				t.Errorf("ParseAmount(%q) error = %v, want ok %v", tt.in, err, tt.parseOK)
			}
			if got := atsgate.CheckAmount(d); got != tt.amountMsg {
				t.Errorf("CheckAmount(%s) = %q, want %q", tt.in, got, tt.amountMsg)
			}
			if got := atsgate.CheckPrice(d); got != tt.priceMsg {
				t.Errorf("CheckPrice(%s) = %q, want %q", tt.in, got, tt.priceMsg)
			}
		})
	}
	for _, bad := range []string{"ten", "1e3", "1E3", "1.5e2", "+5", " 5", "5 ", "1,000", "1_000", ".5", "5.", "-", "", "0x10", "Infinity", "NaN"} {
		if _, err := atsgate.ParseAmount(bad); err == nil {
			t.Errorf("ParseAmount(%q) = nil error, want a refusal", bad)
		}
	}
}
