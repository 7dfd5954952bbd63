package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// absent deletes a key from a case's body.
type absentKey struct{}

var absent = absentKey{}

// kv builds a body override from key, value pairs.
func kv(pairs ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i].(string)] = pairs[i+1]
	}
	return m
}

// merge lays over on base; absent deletes.
func merge(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == absent {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// jobCmp compares stored jobs: decimals by value.
var jobCmp = cmp.Options{
	cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

func ptr[T any](v T) *T { return &v }

// validationCase is one create or update body and what must come of it.
type validationCase struct {
	name string
	body map[string]any // laid over the base body
	// status is the expected status; for 422, fields lists the fields that
	// must be named.
	status int
	fields []string
	// check inspects an accepted create: the response record and the job
	// as stored.
	check func(t *testing.T, rec record, j *atsgate.Job)
	// want edits the stored job as it was before an accepted update into
	// what it must be after (UpdatedAt is not compared).
	want func(j *atsgate.Job)
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "100000")

	wantTitle := func(title string) func(*testing.T, record, *atsgate.Job) {
		return func(t *testing.T, rec record, j *atsgate.Job) {
			if rec.Title != title || j.Title != title {
				t.Errorf("title = %q (stored %q), want %q", rec.Title, j.Title, title)
			}
		}
	}
	wantDeadline := func(d string) func(*testing.T, record, *atsgate.Job) {
		return func(t *testing.T, rec record, j *atsgate.Job) {
			if rec.Deadline != d || j.Deadline != d {
				t.Errorf("deadline = %q (stored %q), want %q", rec.Deadline, j.Deadline, d)
			}
		}
	}
	wantStored := func(field string, get func(j *atsgate.Job) any, want any) func(*testing.T, record, *atsgate.Job) {
		return func(t *testing.T, _ record, j *atsgate.Job) {
			if diff := cmp.Diff(want, get(j), jobCmp); diff != "" {
				t.Errorf("stored %s mismatch (-want +got):\n%s", field, diff)
			}
		}
	}
	showCompany := func(want bool) func(*testing.T, record, *atsgate.Job) {
		return wantStored("show_company_name", func(j *atsgate.Job) any { return j.ShowCompanyName }, want)
	}
	minExp := func(j *atsgate.Job) any { return j.MinExperience }
	states := func(j *atsgate.Job) any { return j.States }
	quals := func(j *atsgate.Job) any { return j.Qualifications }
	spec := func(j *atsgate.Job) any { return j.Specialization }
	const html = `<h2>About the role</h2><p>You will <b>build</b> &amp; <i>ship</i>.</p><ul><li>Go</li></ul><script>alert(1)</script>`
	allExtras := map[string]any{
		"company_name": "Acme Ltd", "company_website": "https://acme.example.com",
		"company_about": "We make things.", "company_logo_url": "https://acme.example.com/logo.png",
		"job_type": "full-time", "workplace_type": "Hybrid", "department": "Engineering",
		"location_city": "Accra", "benefits": "<ul><li>Health</li></ul>",
		"application_instructions": "Apply with a CV.",
	}

	cases := []validationCase{
		{name: "minimal job", status: 201, check: func(t *testing.T, rec record, j *atsgate.Job) {
			if rec.State != "pending_review" || rec.AmountCharged != "50" || rec.Deadline != "" {
				t.Errorf("record = %+v", rec)
			}
		}},
		// external_id: 1–191 characters, counted as characters.
		{name: "external_id of 191 two-byte characters", body: kv("external_id", strings.Repeat("é", 191)), status: 201,
			check: func(t *testing.T, rec record, _ *atsgate.Job) {
				if rec.ExternalID != strings.Repeat("é", 191) {
					t.Errorf("external_id = %q", rec.ExternalID)
				}
			}},
		{name: "external_id of 191 four-byte characters", body: kv("external_id", strings.Repeat("😀", 191)), status: 201},
		{name: "external_id of 191 ASCII characters", body: kv("external_id", strings.Repeat("x", 191)), status: 201},
		{name: "external_id of 192 two-byte characters", body: kv("external_id", strings.Repeat("é", 192)), status: 422, fields: []string{"external_id"}},
		{name: "external_id of 192 ASCII characters", body: kv("external_id", strings.Repeat("y", 192)), status: 422, fields: []string{"external_id"}},
		{name: "external_id as a JSON integer", body: kv("external_id", json.Number("4200042")), status: 201,
			check: func(t *testing.T, rec record, _ *atsgate.Job) {
				if rec.ExternalID != "4200042" {
					t.Errorf("external_id = %q, want 4200042", rec.ExternalID)
				}
			}},
		{name: "external_id missing", body: kv("external_id", absent), status: 422, fields: []string{"external_id"}},
		{name: "external_id empty", body: kv("external_id", ""), status: 422, fields: []string{"external_id"}},
		{name: "external_id null", body: kv("external_id", nil), status: 422, fields: []string{"external_id"}},
		{name: "external_id an object", body: kv("external_id", map[string]any{"id": 1}), status: 422, fields: []string{"external_id"}},
		// title: required, cut to 255 characters.
		{name: "title missing", body: kv("title", absent), status: 422, fields: []string{"title"}},
		{name: "title blank", body: kv("title", " \t "), status: 422, fields: []string{"title"}},
		{name: "title a number", body: kv("title", 42), status: 422, fields: []string{"title"}},
		{name: "title of 300 three-byte characters is cut to 255 characters", body: kv("title", strings.Repeat("日", 300)), status: 201,
			check: wantTitle(strings.Repeat("日", 255))},
		{name: "title of 255 two-byte characters is kept whole", body: kv("title", strings.Repeat("ü", 255)), status: 201,
			check: wantTitle(strings.Repeat("ü", 255))},
		// description: required, HTML accepted as is.
		{name: "description missing", body: kv("description", absent), status: 422, fields: []string{"description"}},
		{name: "description empty", body: kv("description", ""), status: 422, fields: []string{"description"}},
		{name: "description with HTML", body: kv("description", html), status: 201,
			check: wantStored("description", func(j *atsgate.Job) any { return j.Description }, html)},
		// deadline: forms, normalised to Y-m-d; unparseable ignored; past refused.
		{name: "deadline Y-m-d", body: kv("deadline", "2030-09-30"), status: 201, check: wantDeadline("2030-09-30")},
		{name: "deadline RFC3339", body: kv("deadline", "2030-09-30T17:00:00Z"), status: 201, check: wantDeadline("2030-09-30")},
		{name: "deadline RFC3339 with offset keeps the date as written", body: kv("deadline", "2030-09-30T23:30:00-05:00"), status: 201, check: wantDeadline("2030-09-30")},
		{name: "deadline day month year", body: kv("deadline", "30 September 2030"), status: 201, check: wantDeadline("2030-09-30")},
		{name: "deadline month day year", body: kv("deadline", "September 30, 2030"), status: 201, check: wantDeadline("2030-09-30")},
		{name: "deadline Y/m/d", body: kv("deadline", "2030/09/30"), status: 201, check: wantDeadline("2030-09-30")},
		{name: "deadline today", body: kv("deadline", "2026-06-18"), status: 201, check: wantDeadline("2026-06-18")},
		{name: "deadline unparseable is ignored", body: kv("deadline", "next friday"), status: 201, check: wantDeadline("")},
		{name: "deadline ambiguous numeric date is ignored", body: kv("deadline", "01/02/2030"), status: 201, check: wantDeadline("")},
		{name: "deadline not a string is ignored", body: kv("deadline", 20300930), status: 201, check: wantDeadline("")},
		{name: "deadline yesterday", body: kv("deadline", "2026-06-17"), status: 422, fields: []string{"deadline"}},
		{name: "deadline long past in words", body: kv("deadline", "1 January 2020"), status: 422, fields: []string{"deadline"}},
		// apply_url and apply_email.
		{name: "apply_url https", body: kv("apply_url", "https://careers.example.com/apply/42"), status: 201,
			check: wantStored("apply_url", func(j *atsgate.Job) any { return j.ApplyURL }, "https://careers.example.com/apply/42")},
		{name: "apply_url http", body: kv("apply_url", "http://careers.example.com/apply"), status: 201},
		{name: "apply_url ftp", body: kv("apply_url", "ftp://careers.example.com/apply"), status: 422, fields: []string{"apply_url"}},
		{name: "apply_url relative path", body: kv("apply_url", "/apply/42"), status: 422, fields: []string{"apply_url"}},
		{name: "apply_url without scheme", body: kv("apply_url", "careers.example.com/apply"), status: 422, fields: []string{"apply_url"}},
		{name: "apply_url javascript", body: kv("apply_url", "javascript:alert(1)"), status: 422, fields: []string{"apply_url"}},
		{name: "apply_url without host", body: kv("apply_url", "https:///apply"), status: 422, fields: []string{"apply_url"}},
		{name: "apply_email valid", body: kv("apply_email", "jobs@example.com"), status: 201,
			check: wantStored("apply_email", func(j *atsgate.Job) any { return j.ApplyEmail }, "jobs@example.com")},
		{name: "apply_email invalid", body: kv("apply_email", "not-an-email"), status: 422, fields: []string{"apply_email"}},
		{name: "apply_email with a display name", body: kv("apply_email", "Jobs <jobs@example.com>"), status: 422, fields: []string{"apply_email"}},
		{name: "apply_email without domain dot", body: kv("apply_email", "jobs@localhost"), status: 422, fields: []string{"apply_email"}},
		{name: "apply_url and apply_email both", body: kv("apply_url", "https://careers.example.com/a", "apply_email", "jobs@example.com"), status: 201,
			check: wantStored("apply_url", func(j *atsgate.Job) any { return j.ApplyURL }, "https://careers.example.com/a")},
		// Integers: JSON numbers and decimal-digit strings.
		{name: "min_experience a number", body: kv("min_experience", 2), status: 201, check: wantStored("min_experience", minExp, int64(2))},
		{name: "min_experience a digit string", body: kv("min_experience", "2"), status: 201, check: wantStored("min_experience", minExp, int64(2))},
		{name: "max_experience an integral float", body: kv("max_experience", json.Number("5.0")), status: 201,
			check: wantStored("max_experience", func(j *atsgate.Job) any { return j.MaxExperience }, int64(5))},
		{name: "salary a digit string", body: kv("salary", "250000"), status: 201,
			check: wantStored("salary", func(j *atsgate.Job) any { return j.Salary }, int64(250000))},
		{name: "salary a number", body: kv("salary", 250000), status: 201},
		{name: "min_experience five", body: kv("min_experience", "five"), status: 422, fields: []string{"min_experience"}},
		{name: "max_experience five", body: kv("max_experience", "five"), status: 422, fields: []string{"max_experience"}},
		{name: "salary five", body: kv("salary", "five"), status: 422, fields: []string{"salary"}},
		{name: "salary a negative digit string", body: kv("salary", "-5"), status: 422, fields: []string{"salary"}},
		{name: "salary a fraction", body: kv("salary", 1.5), status: 422, fields: []string{"salary"}},
		{name: "salary a boolean", body: kv("salary", true), status: 422, fields: []string{"salary"}},
		{name: "salary an empty string", body: kv("salary", ""), status: 422, fields: []string{"salary"}},
		{name: "min_experience negative", body: kv("min_experience", -1), status: 422, fields: []string{"min_experience"}},
		{name: "max_experience below min_experience", body: kv("min_experience", 5, "max_experience", 2), status: 422, fields: []string{"max_experience"}},
		// Booleans: true/false/1/0/"true"/"false"/"1"/"0".
		{name: "show_company_name absent defaults to true", status: 201, check: showCompany(true)},
		{name: "show_company_name true", body: kv("show_company_name", true), status: 201, check: showCompany(true)},
		{name: "show_company_name false", body: kv("show_company_name", false), status: 201, check: showCompany(false)},
		{name: "show_company_name 1", body: kv("show_company_name", 1), status: 201, check: showCompany(true)},
		{name: "show_company_name 0", body: kv("show_company_name", 0), status: 201, check: showCompany(false)},
		{name: "show_company_name string true", body: kv("show_company_name", "true"), status: 201, check: showCompany(true)},
		{name: "show_company_name string false", body: kv("show_company_name", "false"), status: 201, check: showCompany(false)},
		{name: "show_company_name string 1", body: kv("show_company_name", "1"), status: 201, check: showCompany(true)},
		{name: "show_company_name string 0", body: kv("show_company_name", "0"), status: 201, check: showCompany(false)},
		{name: "show_company_name yes", body: kv("show_company_name", "yes"), status: 422, fields: []string{"show_company_name"}},
		{name: "show_company_name 2", body: kv("show_company_name", 2), status: 422, fields: []string{"show_company_name"}},
		{name: "show_company_name an array", body: kv("show_company_name", []any{true}), status: 422, fields: []string{"show_company_name"}},
		// Taxonomy IDs: non-positive dropped, unknown positive refused.
		{name: "states known", body: kv("states", []any{1, 7}), status: 201, check: wantStored("states", states, []int64{1, 7})},
		{name: "states non-positive dropped", body: kv("states", []any{0, -1, 7}), status: 201, check: wantStored("states", states, []int64{7})},
		{name: "states a single integer", body: kv("states", 7), status: 201, check: wantStored("states", states, []int64{7})},
		{name: "states digit strings", body: kv("states", []any{"7"}), status: 201, check: wantStored("states", states, []int64{7})},
		{name: "states unknown positive", body: kv("states", []any{7, 999}), status: 422, fields: []string{"states"}},
		{name: "states not integers", body: kv("states", []any{"Accra"}), status: 422, fields: []string{"states"}},
		{name: "qualifications known", body: kv("qualifications", []any{4}), status: 201, check: wantStored("qualifications", quals, []int64{4})},
		{name: "qualifications non-positive dropped", body: kv("qualifications", []any{0, -3, 4}), status: 201, check: wantStored("qualifications", quals, []int64{4})},
		{name: "qualifications unknown positive", body: kv("qualifications", []any{99}), status: 422, fields: []string{"qualifications"}},
		{name: "specialization known", body: kv("specialization", 12), status: 201, check: wantStored("specialization", spec, int64(12))},
		{name: "specialization a digit string", body: kv("specialization", "12"), status: 201, check: wantStored("specialization", spec, int64(12))},
		{name: "specialization zero dropped", body: kv("specialization", 0), status: 201, check: wantStored("specialization", spec, int64(0))},
		{name: "specialization negative dropped", body: kv("specialization", -4), status: 201, check: wantStored("specialization", spec, int64(0))},
		{name: "specialization unknown positive", body: kv("specialization", 999), status: 422, fields: []string{"specialization"}},
		{name: "specialization five", body: kv("specialization", "five"), status: 422, fields: []string{"specialization"}},
		// Extras and unknown keys.
		{name: "every extra", body: allExtras, status: 201, check: wantStored("extras", func(j *atsgate.Job) any { return j.Extras }, map[string]string{
			"company_name": "Acme Ltd", "company_website": "https://acme.example.com",
			"company_about": "We make things.", "company_logo_url": "https://acme.example.com/logo.png",
			"job_type": "FULL_TIME", "workplace_type": "HYBRID", "department": "Engineering",
			"location_city": "Accra", "benefits": "<ul><li>Health</li></ul>",
			"application_instructions": "Apply with a CV.",
		})},
		{name: "extra job_type unknown", body: kv("job_type", "sometimes"), status: 422, fields: []string{"job_type"}},
		{name: "extra company_website not a URL", body: kv("company_website", "acme dot com"), status: 422, fields: []string{"company_website"}},
		{name: "extra company_name a number", body: kv("company_name", 42), status: 422, fields: []string{"company_name"}},
		{name: "unknown keys ignored", body: kv("priority", "high", "nested", map[string]any{"a": []any{1, 2}}, "salary_currency", nil), status: 201},
		{name: "several bad fields are all named", body: kv("title", absent, "salary", "five", "apply_url", "/x"), status: 422,
			fields: []string{"title", "salary", "apply_url"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := merge(job(fmt.Sprintf("V-%03d", i)), tc.body)
			before := e.statement(t, emp.ID)
			res := e.call(t, emp, http.MethodPost, "/api/ats/jobs", body)
			after := e.statement(t, emp.ID)
			externalID, _ := body["external_id"].(string)
			if n, ok := body["external_id"].(json.Number); ok {
				externalID = string(n)
			}
			if tc.status == http.StatusUnprocessableEntity {
				checkInvalid(t, res, tc.fields)
				if len(after.Entries) != len(before.Entries) || !after.Balance.Equal(before.Balance) {
					t.Errorf("a refused create moved money: balance %s → %s, %d → %d entries",
						before.Balance, after.Balance, len(before.Entries), len(after.Entries))
				}
				if externalID != "" && utf8.RuneCountInString(externalID) <= 191 {
					if j := e.storedJob(t, emp.ID, externalID); j != nil {
						t.Errorf("a refused create stored job %+v", j)
					}
				}
				return
			}
			res.wantStatus(t, tc.status)
			rec := res.record(t)
			if rec.ExternalID != externalID {
				t.Errorf("external_id = %q, want %q", rec.ExternalID, externalID)
			}
			if want := before.Balance.Sub(decimal.NewFromInt(50)); !after.Balance.Equal(want) || len(after.Entries) != len(before.Entries)+1 {
				t.Errorf("balance %s → %s (%d → %d entries), want one charge of 50",
					before.Balance, after.Balance, len(before.Entries), len(after.Entries))
			}
			j := e.storedJob(t, emp.ID, externalID)
			if j == nil {
				t.Fatalf("job %q not stored", externalID)
			}
			if tc.check != nil {
				tc.check(t, rec, j)
			}
		})
	}
}

// checkInvalid checks a 422 names every field in fields.
func checkInvalid(t *testing.T, res response, fields []string) {
	t.Helper()
	e := res.wantError(t, http.StatusUnprocessableEntity, "validation_failed")
	for _, f := range fields {
		if e.Error.Fields[f] == "" {
			t.Errorf("error.fields[%q] missing; fields = %v", f, e.Error.Fields)
		}
	}
}

func TestUpdateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "100000")
	base := func(id string) map[string]any {
		return job(id,
			"title", "Original title", "description", "Original description", "deadline", "2030-12-31",
			"apply_url", "https://careers.example.com/1", "apply_email", "jobs@example.com",
			"min_experience", 1, "max_experience", 5, "salary", 1000, "specialization", 3,
			"show_company_name", true, "states", []any{1}, "qualifications", []any{4},
			"company_name", "Acme Ltd", "department", "Engineering")
	}
	cases := []validationCase{
		{name: "title only; absent fields stay", body: kv("title", "New title"), status: 200,
			want: func(j *atsgate.Job) { j.Title = "New title" }},
		{name: "external_id only changes nothing", status: 200, want: func(j *atsgate.Job) {}},
		{name: "every field", body: kv("title", "T2", "description", "<p>D2</p>", "deadline", "30 September 2031",
			"apply_url", "https://careers.example.com/2", "apply_email", "hr@example.com", "min_experience", "2",
			"max_experience", "6", "salary", "2000", "specialization", "4", "show_company_name", "0",
			"states", []any{0, 2}, "qualifications", []any{5}, "department", "Sales"), status: 200,
			want: func(j *atsgate.Job) {
				j.Title, j.Description, j.Deadline = "T2", "<p>D2</p>", "2031-09-30"
				j.ApplyURL, j.ApplyEmail = "https://careers.example.com/2", "hr@example.com"
				j.MinExperience, j.MaxExperience, j.Salary, j.Specialization = 2, 6, 2000, 4
				j.ShowCompanyName = false
				j.States, j.Qualifications = []int64{2}, []int64{5}
				j.Extras["department"] = "Sales"
			}},
		{name: "title of 300 characters is cut to 255", body: kv("title", strings.Repeat("日", 300)), status: 200,
			want: func(j *atsgate.Job) { j.Title = strings.Repeat("日", 255) }},
		{name: "title blank", body: kv("title", "  "), status: 422, fields: []string{"title"}},
		{name: "description empty", body: kv("description", ""), status: 422, fields: []string{"description"}},
		{name: "deadline unparseable is ignored", body: kv("deadline", "whenever"), status: 200, want: func(j *atsgate.Job) {}},
		{name: "deadline RFC3339", body: kv("deadline", "2031-01-15T10:00:00Z"), status: 200,
			want: func(j *atsgate.Job) { j.Deadline = "2031-01-15" }},
		{name: "deadline in the past", body: kv("deadline", "2026-06-17"), status: 422, fields: []string{"deadline"}},
		{name: "apply_url relative", body: kv("apply_url", "apply.html"), status: 422, fields: []string{"apply_url"}},
		{name: "apply_url mailto", body: kv("apply_url", "mailto:jobs@example.com"), status: 422, fields: []string{"apply_url"}},
		{name: "apply_email invalid", body: kv("apply_email", "jobs(at)example.com"), status: 422, fields: []string{"apply_email"}},
		{name: "min_experience five", body: kv("min_experience", "five"), status: 422, fields: []string{"min_experience"}},
		{name: "salary a float string", body: kv("salary", "10.5"), status: 422, fields: []string{"salary"}},
		{name: "show_company_name nope", body: kv("show_company_name", "nope"), status: 422, fields: []string{"show_company_name"}},
		{name: "states cleared with an empty array", body: kv("states", []any{}), status: 200, want: func(j *atsgate.Job) { j.States = nil }},
		{name: "states unknown", body: kv("states", []any{2, 999}), status: 422, fields: []string{"states"}},
		{name: "qualifications unknown", body: kv("qualifications", []any{99}), status: 422, fields: []string{"qualifications"}},
		{name: "specialization unknown", body: kv("specialization", 999), status: 422, fields: []string{"specialization"}},
		{name: "extra workplace_type unknown", body: kv("workplace_type", "moon"), status: 422, fields: []string{"workplace_type"}},
		{name: "unknown keys ignored", body: kv("foo", "bar"), status: 200, want: func(j *atsgate.Job) {}},
		{name: "external_id missing", body: kv("external_id", absent, "title", "x"), status: 422, fields: []string{"external_id"}},
		{name: "external_id of 192 characters", body: kv("external_id", strings.Repeat("é", 192)), status: 422, fields: []string{"external_id"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("U-%03d", i)
			e.create(t, emp, base(id))
			before := e.storedJob(t, emp.ID, id)
			ledger := e.statement(t, emp.ID)
			e.clock.Advance(time.Minute)
			body := merge(kv("external_id", id), tc.body)
			res := e.call(t, emp, http.MethodPut, "/api/ats/jobs", body)
			after := e.storedJob(t, emp.ID, id)
			if l := e.statement(t, emp.ID); len(l.Entries) != len(ledger.Entries) || !l.Balance.Equal(ledger.Balance) {
				t.Errorf("an update moved money: balance %s → %s", ledger.Balance, l.Balance)
			}
			if tc.status == http.StatusUnprocessableEntity {
				checkInvalid(t, res, tc.fields)
				if diff := cmp.Diff(before, after, jobCmp); diff != "" {
					t.Errorf("a refused update changed the job (-before +after):\n%s", diff)
				}
				return
			}
			res.wantStatus(t, tc.status)
			rec := res.record(t)
			want := *before
			want.Extras = map[string]string{}
			for k, v := range before.Extras {
				want.Extras[k] = v
			}
			tc.want(&want)
			want.UpdatedAt = e.clock.Now()
			if diff := cmp.Diff(&want, after, jobCmp); diff != "" {
				t.Errorf("stored job mismatch (-want +got):\n%s", diff)
			}
			if rec.Title != want.Title || rec.Deadline != want.Deadline || rec.UpdatedDate != e.clock.Now().Format(atsgate.DateTimeLayout) {
				t.Errorf("record = %+v, want title %q, deadline %q, updated_date %s", rec, want.Title, want.Deadline, e.clock.Now().Format(atsgate.DateTimeLayout))
			}
		})
	}
}
