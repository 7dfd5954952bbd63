package atsgate_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

func TestEmployerInputValidate(t *testing.T) {
	t.Parallel()
	decimalEqual := cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })
	t.Run("valid", func(t *testing.T) {
		tests := []struct {
			name    string
			in      atsgate.EmployerInput
			want    atsgate.Employer
			derived bool
		}{
			{"derived code", atsgate.EmployerInput{CountryID: 3, Name: "  Acme Ltd. "},
				atsgate.Employer{CountryID: 3, Name: "Acme Ltd.", Code: "ACMELTD", Active: true}, true},
			{"long name", atsgate.EmployerInput{CountryID: 3, Name: "A Very Long Company Name Indeed"},
				atsgate.Employer{CountryID: 3, Name: "A Very Long Company Name Indeed", Code: "AVERYLONGC", Active: true}, true},
			{"no ASCII in the name", atsgate.EmployerInput{CountryID: 3, Name: "Ωμέγα"},
				atsgate.Employer{CountryID: 3, Name: "Ωμέγα", Code: "EMP", Active: true}, true},
			{"chosen code", atsgate.EmployerInput{CountryID: 3, Name: "Beta", Code: " beta_1 "},
				atsgate.Employer{CountryID: 3, Name: "Beta", Code: "BETA_1", Active: true}, false},
			{"price and commitment", atsgate.EmployerInput{CountryID: 3, Name: "C", Price: "12.5", AutoPublish: true,
				MinMonthlySpend: "500", CommitmentStart: "2026-10"},
				atsgate.Employer{CountryID: 3, Name: "C", Code: "C", Price: decimal.NewNullDecimal(decimal.RequireFromString("12.5")),
					AutoPublish: true, MinMonthlySpend: decimal.NewNullDecimal(decimal.RequireFromString("500")),
					CommitmentStart: "2026-10", Active: true}, true},
			{"free jobs", atsgate.EmployerInput{CountryID: 3, Name: "D", Price: "0"},
				atsgate.Employer{CountryID: 3, Name: "D", Code: "D", Price: decimal.NewNullDecimal(decimal.Zero), Active: true}, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.in.Validate()
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if diff := cmp.Diff(tt.want, *got, decimalEqual); diff != "" {
					t.Errorf("Validate (-want +got):\n%s", diff)
				}
				if d := tt.in.DerivedCode(); d != tt.derived {
					t.Errorf("DerivedCode() = %v, want %v", d, tt.derived)
				}
			})
		}
	})
	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name   string
			in     atsgate.EmployerInput
			fields []string
		}{
			{"no name", atsgate.EmployerInput{Name: " "}, []string{"name"}},
			{"min spend without commitment start", atsgate.EmployerInput{Name: "X", MinMonthlySpend: "500"}, []string{"commitment_start"}},
			{"bad commitment start", atsgate.EmployerInput{Name: "X", MinMonthlySpend: "500", CommitmentStart: "2026-13"}, []string{"commitment_start"}},
			{"commitment start without min spend", atsgate.EmployerInput{Name: "X", CommitmentStart: "2026-10"}, []string{"min_monthly_spend"}},
			{"negative min spend", atsgate.EmployerInput{Name: "X", MinMonthlySpend: "-1", CommitmentStart: "2026-10"}, []string{"min_monthly_spend"}},
			{"bad price", atsgate.EmployerInput{Name: "X", Price: "ten"}, []string{"price"}},
			{"negative price", atsgate.EmployerInput{Name: "X", Price: "-1"}, []string{"price"}},
			{"sub-minor price", atsgate.EmployerInput{Name: "X", Price: "1.001"}, []string{"price"}},
			{"huge price", atsgate.EmployerInput{Name: "X", Price: "1000000000000000.01"}, []string{"price"}},
			{"bad code", atsgate.EmployerInput{Name: "X", Code: "A-B"}, []string{"code"}},
			{"long code", atsgate.EmployerInput{Name: "X", Code: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}, []string{"code"}},
			{"everything", atsgate.EmployerInput{Code: "_", Price: "x", MinMonthlySpend: "y"},
				[]string{"code", "commitment_start", "min_monthly_spend", "name", "price"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e, err := tt.in.Validate()
				if e != nil {
					t.Errorf("Validate returned an employer with error %v", err)
				}
				if diff := cmp.Diff(tt.fields, fieldNames(t, err)); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			})
		}
	})
}
