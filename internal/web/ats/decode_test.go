package ats

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/atsgate/atsgate/internal/atsgate"
)

func ptr[T any](v T) *T { return &v }

// noFields is what fieldErrs is when a body decodes without type errors.
var noFields = map[string]string{}

func TestDecodeJob(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       atsgate.JobInput
		wantFields map[string]string
	}{
		{
			name: "seed example",
			body: `{
				"external_id": "JOB-2024-0042",
				"title": "Software Engineer",
				"description": "We are looking for a software engineer to join our team...",
				"deadline": "2024-09-30",
				"apply_url": "https://careers.example.com/apply/42",
				"min_experience": 2,
				"max_experience": 5
			}`,
			want: atsgate.JobInput{
				ExternalID:    "JOB-2024-0042",
				Title:         ptr("Software Engineer"),
				Description:   ptr("We are looking for a software engineer to join our team..."),
				Deadline:      ptr("2024-09-30"),
				ApplyURL:      ptr("https://careers.example.com/apply/42"),
				MinExperience: ptr[int64](2),
				MaxExperience: ptr[int64](5),
			},
			wantFields: noFields,
		},
		{
			name: "every field",
			body: `{
				"external_id": "A-1", "title": "T", "description": "<p>D</p>",
				"deadline": "2030-01-31", "apply_url": "https://x.example/a",
				"apply_email": "jobs@x.example", "min_experience": 1,
				"max_experience": 3, "salary": 250000, "specialization": 12,
				"show_company_name": false, "states": [1, 2], "qualifications": [3],
				"company_name": "Acme", "company_website": "https://acme.example",
				"company_about": "About", "company_logo_url": "https://acme.example/l.png",
				"job_type": "full-time", "workplace_type": "remote",
				"department": "Eng", "location_city": "Lagos",
				"benefits": "Lunch", "application_instructions": "Apply online"
			}`,
			want: atsgate.JobInput{
				ExternalID:      "A-1",
				Title:           ptr("T"),
				Description:     ptr("<p>D</p>"),
				Deadline:        ptr("2030-01-31"),
				ApplyURL:        ptr("https://x.example/a"),
				ApplyEmail:      ptr("jobs@x.example"),
				MinExperience:   ptr[int64](1),
				MaxExperience:   ptr[int64](3),
				Salary:          ptr[int64](250000),
				Specialization:  ptr[int64](12),
				ShowCompanyName: ptr(false),
				States:          ptr([]int64{1, 2}),
				Qualifications:  ptr([]int64{3}),
				Extras: map[string]string{
					"company_name":             "Acme",
					"company_website":          "https://acme.example",
					"company_about":            "About",
					"company_logo_url":         "https://acme.example/l.png",
					"job_type":                 "full-time",
					"workplace_type":           "remote",
					"department":               "Eng",
					"location_city":            "Lagos",
					"benefits":                 "Lunch",
					"application_instructions": "Apply online",
				},
			},
			wantFields: noFields,
		},
		{
			name:       "empty object",
			body:       `{}`,
			wantFields: noFields,
		},
		{
			name:       "unknown keys are ignored",
			body:       `{"external_id": "X", "colour": [1, {"a": null}], "Title": 5, "extras": {"company_name": 1}}`,
			want:       atsgate.JobInput{ExternalID: "X"},
			wantFields: noFields,
		},
		{
			name: "null is absent for every field",
			body: `{"external_id": null, "title": null, "description": null, "deadline": null,
				"apply_url": null, "apply_email": null, "min_experience": null,
				"max_experience": null, "salary": null, "specialization": null,
				"show_company_name": null, "states": null, "qualifications": null,
				"company_name": null, "benefits": null}`,
			wantFields: noFields,
		},
		{
			name:       "repeated key: last wins",
			body:       `{"title": 5, "title": "Second"}`,
			want:       atsgate.JobInput{Title: ptr("Second")},
			wantFields: noFields,
		},
		{
			name:       "strings are kept as sent",
			body:       `{"external_id": "  A 1\t", "title": "  T  ", "description": "", "apply_email": " a@b.example "}`,
			want:       atsgate.JobInput{ExternalID: "  A 1\t", Title: ptr("  T  "), Description: ptr(""), ApplyEmail: ptr(" a@b.example ")},
			wantFields: noFields,
		},
		{
			name:       "escapes and unicode",
			body:       `{"title": "Caf\u00e9 \"Chef\" \ud83c\udf73", "description": "Ñandú\n"}`,
			want:       atsgate.JobInput{Title: ptr("Café \"Chef\" 🍳"), Description: ptr("Ñandú\n")},
			wantFields: noFields,
		},
		{
			name:       "invalid UTF-8 in a string is replaced",
			body:       "{\"title\": \"a\xffb\"}",
			want:       atsgate.JobInput{Title: ptr("a\ufffdb")},
			wantFields: noFields,
		},

		// external_id
		{name: "external_id integer", body: `{"external_id": 42}`, want: atsgate.JobInput{ExternalID: "42"}, wantFields: noFields},
		{name: "external_id negative integer", body: `{"external_id": -7}`, want: atsgate.JobInput{ExternalID: "-7"}, wantFields: noFields},
		{name: "external_id zero", body: `{"external_id": 0}`, want: atsgate.JobInput{ExternalID: "0"}, wantFields: noFields},
		{
			name:       "external_id integer beyond int64 keeps its text",
			body:       `{"external_id": 123456789012345678901234567890}`,
			want:       atsgate.JobInput{ExternalID: "123456789012345678901234567890"},
			wantFields: noFields,
		},
		{name: "external_id empty string", body: `{"external_id": ""}`, wantFields: noFields},
		{name: "external_id fraction", body: `{"external_id": 42.0}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "external_id exponent", body: `{"external_id": 1e2}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "external_id boolean", body: `{"external_id": true}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "external_id object", body: `{"external_id": {"id": "X"}}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "external_id array", body: `{"external_id": ["X"]}`, wantFields: map[string]string{"external_id": "must be a string"}},

		// Wrong types for the other strings.
		{name: "title number", body: `{"title": 5}`, wantFields: map[string]string{"title": "must be a string"}},
		{name: "description boolean", body: `{"description": true}`, wantFields: map[string]string{"description": "must be a string"}},
		{name: "apply_url array", body: `{"apply_url": ["https://x.example"]}`, wantFields: map[string]string{"apply_url": "must be a string"}},
		{name: "apply_email object", body: `{"apply_email": {}}`, wantFields: map[string]string{"apply_email": "must be a string"}},
		{
			name: "every extra with a wrong type",
			body: `{"company_name": 1, "company_website": true, "company_about": [], "company_logo_url": {},
				"job_type": 2, "workplace_type": false, "department": 3.5, "location_city": [1],
				"benefits": {"a": 1}, "application_instructions": 0, "title": "kept"}`,
			want: atsgate.JobInput{Title: ptr("kept")},
			wantFields: map[string]string{
				"company_name": "must be a string", "company_website": "must be a string",
				"company_about": "must be a string", "company_logo_url": "must be a string",
				"job_type": "must be a string", "workplace_type": "must be a string",
				"department": "must be a string", "location_city": "must be a string",
				"benefits": "must be a string", "application_instructions": "must be a string",
			},
		},
		{
			name:       "one bad extra does not drop the good ones",
			body:       `{"company_name": "Acme", "department": 7}`,
			want:       atsgate.JobInput{Extras: map[string]string{"company_name": "Acme"}},
			wantFields: map[string]string{"department": "must be a string"},
		},
		{
			name: "all type errors at once",
			body: `{"external_id": false, "title": 1, "description": [], "apply_url": 2, "apply_email": 3,
				"min_experience": "x", "max_experience": 1.5, "salary": true, "specialization": [],
				"show_company_name": "yes", "states": "x", "qualifications": {}, "deadline": 5}`,
			want: atsgate.JobInput{Warnings: map[string]string{"deadline": "not a date string; ignored (send YYYY-MM-DD)"}},
			wantFields: map[string]string{
				"external_id": "must be a string", "title": "must be a string",
				"description": "must be a string", "apply_url": "must be a string",
				"apply_email": "must be a string", "min_experience": "must be an integer",
				"max_experience": "must be an integer", "salary": "must be an integer",
				"specialization": "must be an integer", "show_company_name": "must be a boolean",
				"states": "must be an array of integers", "qualifications": "must be an array of integers",
			},
		},

		// deadline
		{name: "deadline Y-m-d", body: `{"deadline": "2024-09-30"}`, want: atsgate.JobInput{Deadline: ptr("2024-09-30")}, wantFields: noFields},
		{name: "deadline long form", body: `{"deadline": "30 September 2024"}`, want: atsgate.JobInput{Deadline: ptr("2024-09-30")}, wantFields: noFields},
		{name: "deadline date-time", body: `{"deadline": "2024-09-30T23:59:59+01:00"}`, want: atsgate.JobInput{Deadline: ptr("2024-09-30")}, wantFields: noFields},
		{name: "deadline unparseable is ignored", body: `{"deadline": "next Friday"}`, want: atsgate.JobInput{Warnings: map[string]string{"deadline": "not understood; ignored (send YYYY-MM-DD)"}}, wantFields: noFields},
		{name: "deadline ambiguous is ignored", body: `{"deadline": "01/02/2026"}`, want: atsgate.JobInput{Warnings: map[string]string{"deadline": "not understood; ignored (send YYYY-MM-DD)"}}, wantFields: noFields},
		{name: "deadline empty is ignored", body: `{"deadline": ""}`, wantFields: noFields},
		{name: "deadline number is ignored", body: `{"deadline": 20240930}`, want: atsgate.JobInput{Warnings: map[string]string{"deadline": "not a date string; ignored (send YYYY-MM-DD)"}}, wantFields: noFields},
		{name: "deadline boolean is ignored", body: `{"deadline": true}`, want: atsgate.JobInput{Warnings: map[string]string{"deadline": "not a date string; ignored (send YYYY-MM-DD)"}}, wantFields: noFields},
		{name: "deadline object is ignored", body: `{"deadline": {"date": "2024-09-30"}}`, want: atsgate.JobInput{Warnings: map[string]string{"deadline": "not a date string; ignored (send YYYY-MM-DD)"}}, wantFields: noFields},

		// show_company_name: every accepted form.
		{name: "boolean true", body: `{"show_company_name": true}`, want: atsgate.JobInput{ShowCompanyName: ptr(true)}, wantFields: noFields},
		{name: "boolean false", body: `{"show_company_name": false}`, want: atsgate.JobInput{ShowCompanyName: ptr(false)}, wantFields: noFields},
		{name: "boolean 1", body: `{"show_company_name": 1}`, want: atsgate.JobInput{ShowCompanyName: ptr(true)}, wantFields: noFields},
		{name: "boolean 0", body: `{"show_company_name": 0}`, want: atsgate.JobInput{ShowCompanyName: ptr(false)}, wantFields: noFields},
		{name: `boolean "true"`, body: `{"show_company_name": "true"}`, want: atsgate.JobInput{ShowCompanyName: ptr(true)}, wantFields: noFields},
		{name: `boolean "false"`, body: `{"show_company_name": "false"}`, want: atsgate.JobInput{ShowCompanyName: ptr(false)}, wantFields: noFields},
		{name: `boolean "1"`, body: `{"show_company_name": "1"}`, want: atsgate.JobInput{ShowCompanyName: ptr(true)}, wantFields: noFields},
		{name: `boolean "0"`, body: `{"show_company_name": "0"}`, want: atsgate.JobInput{ShowCompanyName: ptr(false)}, wantFields: noFields},
		{name: `boolean "TRUE"`, body: `{"show_company_name": "TRUE"}`, want: atsgate.JobInput{ShowCompanyName: ptr(true)}, wantFields: noFields},
		{name: `boolean "False"`, body: `{"show_company_name": "False"}`, want: atsgate.JobInput{ShowCompanyName: ptr(false)}, wantFields: noFields},
		{name: "boolean 2", body: `{"show_company_name": 2}`, wantFields: map[string]string{"show_company_name": "must be a boolean"}},
		{name: "boolean 1.0", body: `{"show_company_name": 1.0}`, wantFields: map[string]string{"show_company_name": "must be a boolean"}},
		{name: `boolean "yes"`, body: `{"show_company_name": "yes"}`, wantFields: map[string]string{"show_company_name": "must be a boolean"}},
		{name: `boolean " true"`, body: `{"show_company_name": " true"}`, wantFields: map[string]string{"show_company_name": "must be a boolean"}},
		{name: "boolean empty string", body: `{"show_company_name": ""}`, wantFields: map[string]string{"show_company_name": "must be a boolean"}},
		{name: "boolean array", body: `{"show_company_name": [true]}`, wantFields: map[string]string{"show_company_name": "must be a boolean"}},
		{name: "boolean object", body: `{"show_company_name": {}}`, wantFields: map[string]string{"show_company_name": "must be a boolean"}},

		// Integers (each field shares one rule; wrong-type messages per field above).
		{name: "integer plain", body: `{"salary": 5}`, want: atsgate.JobInput{Salary: ptr[int64](5)}, wantFields: noFields},
		{name: "integer with zero fraction", body: `{"salary": 5.0}`, want: atsgate.JobInput{Salary: ptr[int64](5)}, wantFields: noFields},
		{name: "integer with exponent", body: `{"salary": 1.5e3}`, want: atsgate.JobInput{Salary: ptr[int64](1500)}, wantFields: noFields},
		{name: "integer with upper-case exponent", body: `{"salary": 2E+2}`, want: atsgate.JobInput{Salary: ptr[int64](200)}, wantFields: noFields},
		{name: "integer negative keeps sign", body: `{"min_experience": -3}`, want: atsgate.JobInput{MinExperience: ptr[int64](-3)}, wantFields: noFields},
		{name: "integer negative zero", body: `{"min_experience": -0.0}`, want: atsgate.JobInput{MinExperience: ptr[int64](0)}, wantFields: noFields},
		{name: "integer zero with huge exponent", body: `{"salary": 0e999999999999999}`, want: atsgate.JobInput{Salary: ptr[int64](0)}, wantFields: noFields},
		{name: "integer max int64", body: `{"salary": 9223372036854775807}`, want: atsgate.JobInput{Salary: ptr[int64](9223372036854775807)}, wantFields: noFields},
		{name: "integer min int64", body: `{"salary": -9223372036854775808}`, want: atsgate.JobInput{Salary: ptr[int64](-9223372036854775808)}, wantFields: noFields},
		{name: "integer digit string", body: `{"max_experience": "5"}`, want: atsgate.JobInput{MaxExperience: ptr[int64](5)}, wantFields: noFields},
		{name: "integer digit string with leading zeros", body: `{"specialization": "007"}`, want: atsgate.JobInput{Specialization: ptr[int64](7)}, wantFields: noFields},
		{name: "integer digit string zero", body: `{"salary": "0"}`, want: atsgate.JobInput{Salary: ptr[int64](0)}, wantFields: noFields},
		{name: "integer word", body: `{"salary": "five"}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer fraction", body: `{"salary": 2.5}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer small fraction", body: `{"salary": 5.000000000000000000001}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer tiny", body: `{"salary": 1e-400}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer negative exponent", body: `{"salary": 15e-1}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer overflow", body: `{"salary": 9223372036854775808}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer negative overflow", body: `{"salary": -9223372036854775809}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer overflow by exponent", body: `{"salary": 1e19}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer huge exponent", body: `{"salary": 1e999999999999}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer digit string overflow", body: `{"salary": "99999999999999999999"}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer negative string", body: `{"salary": "-5"}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer plus string", body: `{"salary": "+5"}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer spaced string", body: `{"salary": " 5"}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer decimal string", body: `{"salary": "5.0"}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer separated string", body: `{"salary": "1,000"}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer empty string", body: `{"salary": ""}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer boolean", body: `{"salary": true}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer object", body: `{"salary": {"amount": 5}}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "integer array", body: `{"salary": [5]}`, wantFields: map[string]string{"salary": "must be an integer"}},
		{name: "min_experience wrong type", body: `{"min_experience": "two"}`, wantFields: map[string]string{"min_experience": "must be an integer"}},
		{name: "max_experience wrong type", body: `{"max_experience": false}`, wantFields: map[string]string{"max_experience": "must be an integer"}},
		{name: "specialization wrong type", body: `{"specialization": "IT"}`, wantFields: map[string]string{"specialization": "must be an integer"}},

		// Integer arrays.
		{name: "array of integers", body: `{"states": [1, 2, 3]}`, want: atsgate.JobInput{States: ptr([]int64{1, 2, 3})}, wantFields: noFields},
		{name: "array keeps non-positive and repeated IDs", body: `{"qualifications": [0, -1, 5, 5]}`, want: atsgate.JobInput{Qualifications: ptr([]int64{0, -1, 5, 5})}, wantFields: noFields},
		{name: "array of mixed integer forms", body: `{"states": ["1", 2, 3.0, "04"]}`, want: atsgate.JobInput{States: ptr([]int64{1, 2, 3, 4})}, wantFields: noFields},
		{name: "empty array", body: `{"states": []}`, want: atsgate.JobInput{States: ptr([]int64{})}, wantFields: noFields},
		{name: "single integer as array", body: `{"states": 7}`, want: atsgate.JobInput{States: ptr([]int64{7})}, wantFields: noFields},
		{name: "single digit string as array", body: `{"qualifications": "7"}`, want: atsgate.JobInput{Qualifications: ptr([]int64{7})}, wantFields: noFields},
		{name: "array with a word", body: `{"states": [1, "Lagos"]}`, wantFields: map[string]string{"states": "must be an array of integers"}},
		{name: "array with a fraction", body: `{"states": [1.5]}`, wantFields: map[string]string{"states": "must be an array of integers"}},
		{name: "array with null", body: `{"states": [null]}`, wantFields: map[string]string{"states": "must be an array of integers"}},
		{name: "array of arrays", body: `{"states": [[1]]}`, wantFields: map[string]string{"states": "must be an array of integers"}},
		{name: "array with a boolean", body: `{"qualifications": [true]}`, wantFields: map[string]string{"qualifications": "must be an array of integers"}},
		{name: "array as word", body: `{"qualifications": "BSc"}`, wantFields: map[string]string{"qualifications": "must be an array of integers"}},
		{name: "array as comma list", body: `{"states": "1,2"}`, wantFields: map[string]string{"states": "must be an array of integers"}},
		{name: "array as object", body: `{"states": {"0": 1}}`, wantFields: map[string]string{"states": "must be an array of integers"}},
		{name: "array as boolean", body: `{"states": true}`, wantFields: map[string]string{"states": "must be an array of integers"}},
		{name: "array as fraction", body: `{"states": 1.5}`, wantFields: map[string]string{"states": "must be an array of integers"}},

		// Bodies that are still one object.
		{name: "byte order mark", body: "\ufeff{\"title\": \"T\"}", want: atsgate.JobInput{Title: ptr("T")}, wantFields: noFields},
		{name: "surrounding whitespace", body: " \r\n\t{\"title\": \"T\"} \r\n\t", want: atsgate.JobInput{Title: ptr("T")}, wantFields: noFields},
		{name: "brackets inside strings do not count as depth", body: `{"title": "` + strings.Repeat("[{", 100) + `"}`, want: atsgate.JobInput{Title: ptr(strings.Repeat("[{", 100))}, wantFields: noFields},
		{
			name:       "escaped quotes and backslashes inside strings",
			body:       `{"title": "a\"[[[\\", "description": "\\\"{{{"}`,
			want:       atsgate.JobInput{Title: ptr(`a"[[[\`), Description: ptr(`\"{{{`)},
			wantFields: noFields,
		},
		{name: "depth 32 is accepted", body: nested(32), wantFields: noFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fields, err := DecodeJob([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeJob: unexpected error %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("input mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("field errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// nested returns an object whose deepest bracket is at the given depth, the
// object itself being depth 1.
func nested(depth int) string {
	return `{"a": ` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + `}`
}

// invalidJSONTests are bodies both decoders refuse, with the message an
// integrator sees.
var invalidJSONTests = []struct {
	name string
	body string
	want string
}{
	{"empty body", ``, "the body is empty; send a JSON object"},
	{"whitespace only", " \n\t ", "the body is empty; send a JSON object"},
	{"byte order mark only", "\ufeff", "the body is empty; send a JSON object"},
	{"truncated", `{"title": "T"`, "the body is not valid JSON: unexpected end of input"},
	{"truncated string", `{"title": "T`, "the body is not valid JSON: unexpected end of input"},
	{"open brace", `{`, "the body is not valid JSON: unexpected end of input"},
	{"missing colon", `{"title" "T"}`, "the body is not valid JSON: invalid character '\"' after object key (at byte 10)"},
	{"trailing comma", `{"title": "T",}`, "the body is not valid JSON: invalid character '}' looking for beginning of object key string (at byte 15)"},
	{"single quotes", `{'title': 'T'}`, "the body is not valid JSON: invalid character '\\'' looking for beginning of object key string (at byte 2)"},
	{"bad escape", `{"title": "\x"}`, "the body is not valid JSON: invalid character 'x' in string escape code (at byte 13)"},
	{"raw newline in string", "{\"title\": \"a\nb\"}", "the body is not valid JSON: invalid character '\\n' in string literal (at byte 13)"},
	{"unbalanced close", `{"a": 1]}`, "the body is not valid JSON: invalid character ']' after object key:value pair (at byte 8)"},
	{"plain text", `hello`, "the body is not valid JSON: invalid character 'h' looking for beginning of value (at byte 1)"},
	{"form encoded", `external_id=1&title=T`, "the body is not valid JSON: invalid character 'e' looking for beginning of value (at byte 1)"},
	{"top-level array", `[{"title": "T"}]`, "the body must be a JSON object, not an array"},
	{"top-level empty array", `[]`, "the body must be a JSON object, not an array"},
	{"top-level string", `"title"`, "the body must be a JSON object, not a string"},
	{"top-level number", `42`, "the body must be a JSON object, not a number"},
	{"top-level boolean", `true`, "the body must be a JSON object, not a boolean"},
	{"top-level null", `null`, "the body must be a JSON object, not null"},
	{"trailing garbage", `{"title": "T"}x`, "the body has data after the JSON object (at byte 14)"},
	{"trailing object", `{"title": "T"} {"title": "U"}`, "the body has data after the JSON object (at byte 14)"},
	{"trailing brace", `{}}`, "the body has data after the JSON object (at byte 2)"},
	{"depth 33 is refused", nested(33), "the JSON is nested more than 32 levels deep"},
	{"deep objects", strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33), "the JSON is nested more than 32 levels deep"},
	{"deep and truncated", strings.Repeat("[", 40), "the JSON is nested more than 32 levels deep"},
}

func TestDecodeJobInvalidJSON(t *testing.T) {
	for _, tt := range invalidJSONTests {
		t.Run(tt.name, func(t *testing.T) {
			in, fields, err := DecodeJob([]byte(tt.body))
			checkInvalidJSON(t, err, tt.want)
			if diff := cmp.Diff(atsgate.JobInput{}, in); diff != "" {
				t.Errorf("input should be empty (-want +got):\n%s", diff)
			}
			if fields != nil {
				t.Errorf("field errors = %v, want nil", fields)
			}
		})
	}
}

func TestDecodeExternalIDInvalidJSON(t *testing.T) {
	for _, tt := range invalidJSONTests {
		t.Run(tt.name, func(t *testing.T) {
			id, fields, err := DecodeExternalID([]byte(tt.body))
			checkInvalidJSON(t, err, tt.want)
			if id != "" || fields != nil {
				t.Errorf("got (%q, %v), want (\"\", nil)", id, fields)
			}
		})
	}
}

func checkInvalidJSON(t *testing.T, err error, wantMessage string) {
	t.Helper()
	var e *atsgate.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *atsgate.Error", err, err)
	}
	want := &atsgate.Error{Code: atsgate.EINVALIDJSON, Message: wantMessage}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
}

// TestDeepBombRefusedFast checks that a 1 MiB body of brackets is refused by
// the depth scanner after a few bytes rather than handed to encoding/json.
func TestDeepBombRefusedFast(t *testing.T) {
	bombs := map[string][]byte{
		"arrays":           bytes.Repeat([]byte("["), 1<<20),
		"objects":          bytes.Repeat([]byte(`{"a":`), 1<<20/5),
		"inside an object": append([]byte(`{"title": "T", "x": `), bytes.Repeat([]byte("["), 1<<20)...),
	}
	for name, body := range bombs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, _, err := DecodeJob(body)
			elapsed := time.Since(start)
			checkInvalidJSON(t, err, "the JSON is nested more than 32 levels deep")
			allocs := testing.AllocsPerRun(10, func() { _, _, _ = DecodeJob(body) })
			if allocs > 5 {
				t.Errorf("refusing the bomb made %v allocations; want it refused before parsing", allocs)
			}
			// Generous: the scan stops after MaxDepth+1 brackets.
			if elapsed > 50*time.Millisecond {
				t.Errorf("refusing the bomb took %v", elapsed)
			}
		})
	}
}

// TestLargeFlatBody checks that size alone is not refused: the 1 MiB limit
// is the HTTP layer's.
func TestLargeFlatBody(t *testing.T) {
	desc := strings.Repeat("<p>[{</p>", 100_000)
	body, err := json.Marshal(map[string]any{"description": desc, "states": []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	in, fields, err := DecodeJob(body)
	if err != nil {
		t.Fatalf("DecodeJob: %v", err)
	}
	if diff := cmp.Diff(atsgate.JobInput{Description: &desc, States: ptr([]int64{1, 2})}, in); diff != "" {
		t.Errorf("input mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(noFields, fields); diff != "" {
		t.Errorf("field errors mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeExternalID(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		want       string
		wantFields map[string]string
	}{
		{name: "string", body: `{"external_id": "JOB-2024-0042"}`, want: "JOB-2024-0042", wantFields: noFields},
		{name: "not trimmed", body: `{"external_id": " JOB 1 "}`, want: " JOB 1 ", wantFields: noFields},
		{name: "integer", body: `{"external_id": 42}`, want: "42", wantFields: noFields},
		{name: "other fields ignored, even with wrong types", body: `{"external_id": "X", "title": 5, "states": "x"}`, want: "X", wantFields: noFields},
		{name: "missing", body: `{"title": "T"}`, wantFields: map[string]string{"external_id": "is required"}},
		{name: "empty object", body: `{}`, wantFields: map[string]string{"external_id": "is required"}},
		{name: "null", body: `{"external_id": null}`, wantFields: map[string]string{"external_id": "is required"}},
		{name: "empty string", body: `{"external_id": ""}`, wantFields: map[string]string{"external_id": "is required"}},
		{name: "fraction", body: `{"external_id": 4.2}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "boolean", body: `{"external_id": false}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "array", body: `{"external_id": ["X"]}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "object", body: `{"external_id": {"id": "X"}}`, wantFields: map[string]string{"external_id": "must be a string"}},
		{name: "last of repeated keys", body: `{"external_id": "A", "external_id": "B"}`, want: "B", wantFields: noFields},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fields, err := DecodeExternalID([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeExternalID: unexpected error %v", err)
			}
			if got != tt.want {
				t.Errorf("external_id = %q, want %q", got, tt.want)
			}
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("field errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIntegralNumberMatchesBigRat compares the digit-based reading of JSON
// numbers with exact rational arithmetic.
func TestIntegralNumberMatchesBigRat(t *testing.T) {
	numbers := []string{
		"0", "-0", "0.0", "0e5", "1", "-1", "10", "100.00", "1.5", "15e-1", "150e-2",
		"1e0", "1E+3", "1e-0", "12.34e2", "12.345e2", "0.001e3", "0.0015e3", "000", "1.000000000000000000001",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"922337203685477580.7e1", "922337203685477580.8e1", "9.223372036854775807e18", "9.223372036854775808e18",
		"1e18", "1e19", "-1e18", "10000000000000000000e-1", "100000000000000000000e-2", "0.1e1", "0.01e1",
		"123456789012345678901234567890e-11", "5e-1", "50e-1", "-50e-1", "1e-18", "100e-2",
	}
	lo, hi := big.NewInt(-1<<63), big.NewInt(1<<63-1)
	for _, s := range numbers {
		t.Run(s, func(t *testing.T) {
			r, ok := new(big.Rat).SetString(s)
			if !ok {
				t.Fatalf("big.Rat cannot read %q", s)
			}
			wantOK := r.IsInt() && r.Num().Cmp(lo) >= 0 && r.Num().Cmp(hi) <= 0
			var want int64
			if wantOK {
				want = r.Num().Int64()
			}
			got, gotOK := integralNumber(s)
			if got != want || gotOK != wantOK {
				t.Errorf("integralNumber(%q) = (%d, %v), want (%d, %v)", s, got, gotOK, want, wantOK)
			}
		})
	}
}

// fuzzSeeds are representative bodies, good and bad, for both fuzzers.
var fuzzSeeds = []string{
	`{"external_id": "JOB-2024-0042", "title": "Software Engineer", "description": "<p>We are hiring</p>", "deadline": "2024-09-30", "apply_url": "https://careers.example.com/apply/42", "min_experience": 2, "max_experience": 5}`,
	`{"external_id": 42, "salary": "250000", "specialization": 3.0, "show_company_name": "TRUE", "states": [1, "2", -3], "qualifications": 4}`,
	`{"company_name": "Acme", "job_type": "full-time", "workplace_type": "remote", "benefits": null, "deadline": "30 September 2024"}`,
	`{"external_id": null, "title": 5, "states": "x", "show_company_name": "yes", "salary": 1e400, "min_experience": 1.5}`,
	`{"title": "a\"[[[\\", "description": "\u00e9\ud83c\udf73"}`,
	`{"salary": 0e999999999999, "max_experience": -0.0e-5, "states": [9223372036854775807, 9223372036854775808]}`,
	"\ufeff{\"title\": \"a\xffb\"}",
	`{}`, ``, ` `, `{`, `}`, `[]`, `null`, `"s"`, `5`, `{} x`, `{"a":1,}`,
	`{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
}

// knownFields are the wire names a field error may be keyed by.
var knownFields = func() map[string]bool {
	m := map[string]bool{
		"external_id": true, "title": true, "description": true, "deadline": true,
		"apply_url": true, "apply_email": true, "min_experience": true,
		"max_experience": true, "salary": true, "specialization": true,
		"show_company_name": true, "states": true, "qualifications": true,
	}
	for k := range atsgate.ExtraFields {
		m[k] = true
	}
	return m
}()

// checkFuzzResult checks the invariants shared by both decoders.
func checkFuzzResult(t *testing.T, body []byte, fields map[string]string, err error) {
	t.Helper()
	if err != nil {
		var e *atsgate.Error
		if !errors.As(err, &e) || e.Code != atsgate.EINVALIDJSON {
			t.Fatalf("err = %v (%T), want nil or an invalid_json *atsgate.Error", err, err)
		}
		if len(body) > 64 && strings.Contains(e.Message, string(body)) {
			t.Fatalf("the error message repeats the body: %q", e.Message)
		}
		if fields != nil {
			t.Fatalf("field errors %v returned with an error", fields)
		}
		return
	}
	if !json.Valid(bytes.TrimPrefix(body, []byte("\ufeff"))) {
		t.Fatalf("accepted a body encoding/json calls invalid: %q", body)
	}
	if fields == nil {
		t.Fatal("fieldErrs is nil without an error")
	}
	for k, msg := range fields {
		if !knownFields[k] {
			t.Fatalf("field error for unknown field %q: %q", k, msg)
		}
	}
}

func FuzzDecodeJob(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, fields, err := DecodeJob(body)
		checkFuzzResult(t, body, fields, err)
		if err == nil {
			// The close decoder applies the same body rules.
			if _, _, err2 := DecodeExternalID(body); err2 != nil {
				t.Fatalf("DecodeJob accepted the body but DecodeExternalID refused it: %v", err2)
			}
			for k := range in.Extras {
				if _, ok := atsgate.ExtraFields[k]; !ok {
					t.Fatalf("unknown extra %q decoded", k)
				}
			}
			checkStringsAgainstEncodingJSON(t, body, in)
			if in.Deadline != nil {
				if _, perr := time.Parse(atsgate.DateLayout, *in.Deadline); perr != nil {
					t.Fatalf("deadline %q is not Y-m-d", *in.Deadline)
				}
			}
		}
	})
}

// checkStringsAgainstEncodingJSON checks that string fields read the same
// as a plain json.Unmarshal reads them.
func checkStringsAgainstEncodingJSON(t *testing.T, body []byte, in atsgate.JobInput) {
	t.Helper()
	var ref map[string]any
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	dec.UseNumber() // 1e400 is valid JSON but not a float64
	if err := dec.Decode(&ref); err != nil {
		t.Fatalf("encoding/json refused an accepted body: %v", err)
	}
	check := func(key string, got *string) {
		want, ok := ref[key].(string)
		if !ok {
			return
		}
		if got == nil || *got != want {
			t.Fatalf("%s = %v, want %q", key, got, want)
		}
	}
	check("external_id", &in.ExternalID)
	check("title", in.Title)
	check("description", in.Description)
	check("apply_url", in.ApplyURL)
	check("apply_email", in.ApplyEmail)
	for k := range atsgate.ExtraFields {
		if v, ok := in.Extras[k]; ok {
			check(k, &v)
		} else {
			check(k, nil)
		}
	}
}

func FuzzDecodeExternalID(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"external_id": "X"}`))
	f.Add([]byte(`{"external_id": 123456789012345678901234567890}`))
	f.Add([]byte(`{"external_id": ""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, fields, err := DecodeExternalID(body)
		checkFuzzResult(t, body, fields, err)
		if err == nil && len(fields) > 0 && id != "" {
			t.Fatalf("external_id %q returned with field errors %v", id, fields)
		}
		if err == nil {
			for k := range fields {
				if k != "external_id" {
					t.Fatalf("field error for %q from the close decoder", k)
				}
			}
		}
	})
}

// benchBody is a typical create body.
var benchBody = []byte(`{
	"external_id": "JOB-2024-0042",
	"title": "Senior Software Engineer",
	"description": "<p>We are looking for a software engineer to join our team in Lagos. You will build and run services used by millions of job seekers.</p><ul><li>Go</li><li>PostgreSQL</li></ul>",
	"deadline": "2024-09-30",
	"apply_url": "https://careers.example.com/apply/42",
	"min_experience": 2,
	"max_experience": 5,
	"salary": "450000",
	"specialization": 12,
	"show_company_name": true,
	"states": [25, 24],
	"qualifications": [3],
	"company_name": "Example Ltd",
	"job_type": "FULL_TIME",
	"workplace_type": "HYBRID"
}`)

func BenchmarkDecodeJob(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if _, _, err := DecodeJob(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzJSONString: a JSON string reads exactly as encoding/json reads it,
// escapes, surrogate pairs, lone surrogates and invalid UTF-8 included.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`""`, `"plain"`, `"\u003cp\u003eHTML\u003c/p\u003e\n"`, `"a\/b\\c\"d\te\r\b\f"`,
		`"\ud83d\ude00 pair"`, `"\ud83d lone high"`, `"\ude00 lone low"`, `"\ud83d\u0041 high then BMP"`,
		`"\ud83d\ud83d two highs"`, "\"bad \xff utf-8\"", "\"cut \xe2\x82\"", `"\u00e9\u00E9 é"`, `"\ud83d"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			return // not a JSON string: the decoder refuses it before jsonString
		}
		got, ok := jsonString(raw)
		if !ok || got != want {
			t.Fatalf("jsonString(%q) = %q, %v; encoding/json reads %q", raw, got, ok, want)
		}
	})
}

// BenchmarkDecodeJobEscaped is a create body as Go's and PHP's JSON
// encoders write it: the HTML description full of escapes.
func BenchmarkDecodeJobEscaped(b *testing.B) {
	body, err := json.Marshal(map[string]any{"external_id": "JOB-2024-0042", "title": "Load test engineer",
		"description": strings.Repeat("<p>Measures how fast the API answers, <strong>under load</strong>, with <em>sixteen</em> clients.</p>\n<ul><li>One employer per client</li></ul>\n", 7),
		"apply_url":   "https://example.com/apply", "min_experience": 2, "max_experience": 5, "job_type": "full-time"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := DecodeJob(body); err != nil {
			b.Fatal(err)
		}
	}
}
