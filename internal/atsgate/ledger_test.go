package atsgate_test

import (
	"strings"
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

func TestCheckReference(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ref string
		ok  bool
	}{
		{"GH-2291", true},
		{"form-7KQ2XBSN4Q3QOE3V5ZDLV3B4QA", true},
		{"virement n° 12 à Lomé", true},
		{strings.Repeat("é", atsgate.MaxReferenceLength), true},
		{strings.Repeat("e", atsgate.MaxReferenceLength+1), false},
		{"two\nlines", false},
		{"bell\a", false},
		{"\x1b[2J", false},
		{"bad \xff utf-8", false},
	} {
		if got := atsgate.CheckReference(tt.ref) == ""; got != tt.ok {
			t.Errorf("atsgate.CheckReference(%q) = %q, want ok %v", tt.ref, atsgate.CheckReference(tt.ref), tt.ok)
		}
	}
}

func TestEntryRepeats(t *testing.T) {
	t.Parallel()
	e := atsgate.LedgerEntry{Kind: atsgate.EntryTopup, Amount: decimal.RequireFromString("500"), Note: "bank", Actor: "cli:alice"}
	for _, tt := range []struct {
		name   string
		kind   atsgate.EntryKind
		amount string
		note   string
		want   bool
	}{
		{"same request", atsgate.EntryTopup, "500.00", "bank", true},
		{"another amount", atsgate.EntryTopup, "500.01", "bank", false},
		{"another note", atsgate.EntryTopup, "500", "cash", false},
		{"another kind", atsgate.EntryAdjustment, "500", "bank", false},
	} {
		if got := e.Repeats(tt.kind, decimal.RequireFromString(tt.amount), tt.note); got != tt.want {
			t.Errorf("%s: Repeats = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestMoneyString: people read money with two decimals, grouped
// thousands and the currency, whatever the sign or size.
func TestMoneyString(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0.00 GHS", "5": "5.00 GHS", "12.5": "12.50 GHS", "999.99": "999.99 GHS", "1000": "1,000.00 GHS",
		"-1000": "-1,000.00 GHS", "500000": "500,000.00 GHS", "1234567.89": "1,234,567.89 GHS",
		"-0.5": "-0.50 GHS", "1000000000000000": "1,000,000,000,000,000.00 GHS",
	} {
		if got := (atsgate.Money{Amount: decimal.RequireFromString(in), Currency: "GHS"}).String(); got != want {
			t.Errorf("Money(%s) = %q, want %q", in, got, want)
		}
	}
}
