package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/atsgate/atsgate/internal/dbtest"
)

func TestInvalidJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	e.create(t, emp, job("EXISTS"))
	bodies := []struct{ name, body string }{
		{"empty body", ""},
		{"whitespace only", " \n\t"},
		{"truncated object", `{"external_id": "X-1", "title": `},
		{"unquoted key", `{external_id: "X-1"}`},
		{"single quotes", `{'external_id': 'X-1'}`},
		{"trailing comma", `{"external_id": "X-1",}`},
		{"top-level array", `[{"external_id": "X-1", "title": "t", "description": "d"}]`},
		{"top-level string", `"X-1"`},
		{"top-level number", `42`},
		{"top-level null", `null`},
		{"trailing garbage", `{"external_id": "X-1", "title": "t", "description": "d"} garbage`},
		{"two objects", `{"external_id": "X-1", "title": "t", "description": "d"}{"external_id": "X-2"}`},
		{"nested too deep", `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`},
		{"form encoded", `external_id=X-1&title=t&description=d`},
	}
	ops := []struct{ name, method, target string }{
		{"create", http.MethodPost, "/api/ats/jobs"},
		{"update", http.MethodPut, "/api/ats/jobs"},
		{"close", http.MethodPost, "/api/ats/jobs?action=close"},
	}
	for _, op := range ops {
		for _, b := range bodies {
			t.Run(op.name+"/"+b.name, func(t *testing.T) {
				res := e.call(t, emp, op.method, op.target, b.body)
				res.wantError(t, http.StatusBadRequest, "invalid_json")
			})
		}
	}
	if s := e.statement(t, emp.ID); len(s.Entries) != 2 {
		t.Errorf("ledger has %d entries, want the top-up and one charge", len(s.Entries))
	}
	if j := e.storedJob(t, emp.ID, "X-1"); j != nil {
		t.Errorf("an invalid body stored a job: %+v", j)
	}
}

// padded is a valid create body of exactly n bytes, padded with an unknown key.
func padded(t *testing.T, externalID string, n int) []byte {
	t.Helper()
	head := fmt.Sprintf(`{"external_id":%q,"title":"t","description":"d","pad":"`, externalID)
	tail := `"}`
	pad := n - len(head) - len(tail)
	if pad < 0 {
		t.Fatalf("cannot pad to %d bytes", n)
	}
	return []byte(head + strings.Repeat("x", pad) + tail)
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	const mib = 1 << 20

	t.Run("exactly 1 MiB with Content-Length is accepted", func(t *testing.T) {
		res := e.call(t, emp, http.MethodPost, "/api/ats/jobs", padded(t, "BIG-OK", mib))
		res.wantStatus(t, http.StatusCreated)
	})
	t.Run("exactly 1 MiB chunked is accepted", func(t *testing.T) {
		res := e.send(t, e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key,
			chunked(padded(t, "BIG-OK-CHUNKED", mib))))
		res.wantStatus(t, http.StatusCreated)
	})
	tooBig := []struct {
		name, method, target string
		chunked              bool
	}{
		{"create with Content-Length", http.MethodPost, "/api/ats/jobs", false},
		{"create chunked", http.MethodPost, "/api/ats/jobs", true},
		{"update with Content-Length", http.MethodPut, "/api/ats/jobs", false},
		{"update chunked", http.MethodPut, "/api/ats/jobs.php", true},
		{"close chunked", http.MethodPost, "/api/ats/jobs?action=close", true},
	}
	for _, tc := range tooBig {
		t.Run("1 MiB + 1 byte "+tc.name, func(t *testing.T) {
			b := padded(t, "BIG-OK", mib+1)
			var body io.Reader = bytes.NewReader(b)
			if tc.chunked {
				body = chunked(b)
			}
			req := e.request(t, tc.method, tc.target, emp.Host, emp.Key, body)
			if !tc.chunked && req.ContentLength != mib+1 {
				t.Fatalf("ContentLength = %d", req.ContentLength)
			}
			res := e.send(t, req)
			res.wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")
		})
	}
	t.Run("8 MiB chunked", func(t *testing.T) {
		res := e.send(t, e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key, chunked(padded(t, "HUGE", 8*mib))))
		res.wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")
		if j := e.storedJob(t, emp.ID, "HUGE"); j != nil {
			t.Errorf("an oversized body stored a job")
		}
	})
	if s := e.statement(t, emp.ID); len(s.Entries) != 3 {
		t.Errorf("ledger has %d entries, want the top-up and two charges", len(s.Entries))
	}
}

// chunked returns a body of unknown length, so the client sends it with
// Transfer-Encoding: chunked.
func chunked(b []byte) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		// Write in pieces; a server that stops reading makes Write fail,
		// which ends the goroutine.
		for len(b) > 0 {
			n := min(len(b), 64<<10)
			if _, err := pw.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
		pw.Close()
	}()
	return pr
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	e.create(t, emp, job("J-1"))
	cases := []struct{ method, target string }{
		{http.MethodDelete, "/api/ats/jobs"},
		{http.MethodDelete, "/api/ats/jobs?external_id=J-1"},
		{http.MethodPatch, "/api/ats/jobs"},
		{http.MethodPost, "/api/ats/jobs?action=bogus"},
		{http.MethodPost, "/api/ats/jobs.php?action=delete"},
		{http.MethodPut, "/api/ats/jobs?action=close"},
		{http.MethodGet, "/api/ats/jobs?action=close"},
		{http.MethodOptions, "/api/ats/jobs"},
		{http.MethodDelete, "/api/ats/jobs.php"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			res := e.call(t, emp, tc.method, tc.target, `{"external_id": "J-1"}`)
			res.wantError(t, http.StatusMethodNotAllowed, "method_not_allowed")
			allow := res.Header.Get("Allow")
			for _, m := range []string{"GET", "POST", "PUT"} {
				if !strings.Contains(allow, m) {
					t.Errorf("Allow = %q, want it to list %s", allow, m)
				}
			}
		})
	}
	if j := e.storedJob(t, emp.ID, "J-1"); j == nil || j.State != "pending_review" {
		t.Errorf("J-1 after refused methods = %+v, want pending_review", j)
	}
}

func TestUnknownHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	emp := e.employer(t, "gh", "Acme", "1000")
	for _, host := range []string{"example.org", "gh.localhost.evil.test", "localhost", "127.0.0.1", "ke.localhost"} {
		t.Run(host, func(t *testing.T) {
			for _, key := range []string{emp.Key, ""} {
				res := e.send(t, e.request(t, http.MethodPost, "/api/ats/jobs", host, key, bodyOf(t, job("H-1"))))
				res.wantError(t, http.StatusNotFound, "unknown_host")
			}
		})
	}
	// The host is matched without port, case or trailing dot.
	for _, host := range []string{"gh.localhost:8080", "GH.LocalHost", "gh.localhost."} {
		t.Run("known as "+host, func(t *testing.T) {
			res := e.send(t, e.request(t, http.MethodGet, "/api/ats/jobs", host, emp.Key, nil))
			res.wantStatus(t, http.StatusOK)
		})
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	gh := e.employer(t, "gh", "Acme", "1000")
	ng := e.employer(t, "ng", "Lagos Ltd", "100000")
	disabled := e.employer(t, "gh", "Disabled", "1000")
	if err := e.st.DisableKey(ctx, disabled.ID); err != nil {
		t.Fatal(err)
	}
	rotated := e.employer(t, "gh", "Rotated", "1000")
	if _, _, err := e.st.IssueKey(ctx, rotated.ID, true); err != nil {
		t.Fatal(err)
	}
	inactive := e.employer(t, "gh", "Inactive", "1000")
	if err := e.st.DB().QueryRowContext(ctx, `UPDATE employers SET active = false WHERE id = $1 RETURNING id`, inactive.ID).Err(); err != nil {
		t.Fatal(err)
	}
	unknown := "mjm_gh_" + strings.Repeat("A", 43)
	cases := []struct {
		name, host, authorization string
	}{
		{"missing header", "gh.localhost", ""},
		{"Basic scheme", "gh.localhost", "Basic " + gh.Key},
		{"no scheme", "gh.localhost", gh.Key},
		{"Bearer without key", "gh.localhost", "Bearer"},
		{"Bearer with empty key", "gh.localhost", "Bearer "},
		{"Token scheme", "gh.localhost", "Token " + gh.Key},
		{"malformed key", "gh.localhost", "Bearer not-a-key"},
		{"malformed key bad characters", "gh.localhost", "Bearer mjm_gh_abc!def$ghi"},
		{"malformed key upper-case country", "gh.localhost", "Bearer mjm_GH_" + strings.Repeat("A", 43)},
		{"malformed key too long", "gh.localhost", "Bearer mjm_gh_" + strings.Repeat("A", 500)},
		{"truncated key", "gh.localhost", "Bearer " + gh.Key[:len(gh.Key)-1]},
		{"unknown key", "gh.localhost", "Bearer " + unknown},
		{"disabled key", "gh.localhost", "Bearer " + disabled.Key},
		{"rotated old key", "gh.localhost", "Bearer " + rotated.Key},
		{"inactive employer", "gh.localhost", "Bearer " + inactive.Key},
		{"gh key on ng host", "ng.localhost", "Bearer " + gh.Key},
		{"ng key on gh host", "gh.localhost", "Bearer " + ng.Key},
		{"gh key relabelled as ng", "ng.localhost", "Bearer mjm_ng_" + strings.TrimPrefix(gh.Key, "mjm_gh_")},
	}
	ops := []struct{ method, target, body string }{
		{http.MethodPost, "/api/ats/jobs", `{"external_id": "AUTH-1", "title": "t", "description": "d"}`},
		{http.MethodGet, "/api/ats/jobs", ""},
		{http.MethodGet, "/api/ats/jobs.php?external_id=AUTH-1", ""},
		{http.MethodPut, "/api/ats/jobs", `{"external_id": "AUTH-1", "title": "t2"}`},
		{http.MethodPost, "/api/ats/jobs?action=close", `{"external_id": "AUTH-1"}`},
		{http.MethodDelete, "/api/ats/jobs", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range ops {
				var body io.Reader
				if op.body != "" {
					body = strings.NewReader(op.body)
				}
				req := e.request(t, op.method, op.target, tc.host, "", body)
				if tc.authorization != "" {
					req.Header.Set("Authorization", tc.authorization)
				}
				res := e.send(t, req)
				res.wantError(t, http.StatusUnauthorized, "unauthorized")
				if h := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("%s %s: WWW-Authenticate = %q, want a Bearer challenge", op.method, op.target, h)
				}
			}
		})
	}
	for _, emp := range []employer{gh, disabled, rotated, inactive} {
		if s := e.statement(t, emp.ID); len(s.Entries) != 1 {
			t.Errorf("employer %d: %d ledger entries, want only the top-up", emp.ID, len(s.Entries))
		}
		if j := e.storedJob(t, emp.ID, "AUTH-1"); j != nil {
			t.Errorf("employer %d: refused request stored a job", emp.ID)
		}
	}
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		req := e.request(t, http.MethodGet, "/api/ats/jobs", gh.Host, "", nil)
		req.Header.Set("Authorization", "bearer "+gh.Key)
		e.send(t, req).wantStatus(t, http.StatusOK)
	})
	t.Run("ng key on its own host", func(t *testing.T) {
		e.call(t, ng, http.MethodGet, "/api/ats/jobs", nil).wantStatus(t, http.StatusOK)
	})
}

// TestKeyChangesTakeEffectAtOnce: rotation and disabling bite on the very
// next request.
func TestKeyChangesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	emp := e.employer(t, "gh", "Acme", "1000")
	get := func(key string) response {
		return e.send(t, e.request(t, http.MethodGet, "/api/ats/jobs", "gh.localhost", key, nil))
	}
	get(emp.Key).wantStatus(t, http.StatusOK)

	second, _, err := e.st.IssueKey(ctx, emp.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	get(emp.Key).wantError(t, http.StatusUnauthorized, "unauthorized")
	get(second).wantStatus(t, http.StatusOK)

	third, _, err := e.st.IssueKey(ctx, emp.ID, true) // rotate
	if err != nil {
		t.Fatal(err)
	}
	get(second).wantError(t, http.StatusUnauthorized, "unauthorized")
	get(third).wantStatus(t, http.StatusOK)

	if err := e.st.DisableKey(ctx, emp.ID); err != nil {
		t.Fatal(err)
	}
	get(third).wantError(t, http.StatusUnauthorized, "unauthorized")

	fourth, _, err := e.st.IssueKey(ctx, emp.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	get(third).wantError(t, http.StatusUnauthorized, "unauthorized")
	e.call(t, employer{ID: emp.ID, Key: fourth, Host: "gh.localhost"}, http.MethodPost, "/api/ats/jobs", job("AFTER-ROTATION")).
		wantStatus(t, http.StatusCreated)
}

// TestHostileInputs sends what a careless or malicious client might and
// requires a deliberate answer: never a 5xx, always the JSON error body.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			hostileInputs(t, newEnvOn(t, dialect))
		})
	}
}

func hostileInputs(t *testing.T, e *env) {
	emp := e.employer(t, "gh", "Acme", "100000")
	e.create(t, emp, job("EXISTING"))
	type hostile struct {
		name, method, target, body string
	}
	var cases []hostile
	jobBody := func(name, body string) {
		cases = append(cases,
			hostile{"create " + name, http.MethodPost, "/api/ats/jobs", body},
			hostile{"update " + name, http.MethodPut, "/api/ats/jobs", body})
	}
	jobBody("NUL in external_id", `{"external_id": "A\u0000B", "title": "t", "description": "d"}`)
	jobBody("NUL in title", `{"external_id": "EXISTING", "title": "a\u0000b", "description": "d"}`)
	jobBody("NUL in new job's title", `{"external_id": "NUL-TITLE", "title": "a\u0000b", "description": "d"}`)
	jobBody("NUL in description", `{"external_id": "NUL-DESC", "title": "t", "description": "a\u0000b"}`)
	jobBody("NUL in apply_email", `{"external_id": "NUL-EMAIL", "title": "t", "description": "d", "apply_email": "a\u0000@example.com"}`)
	jobBody("NUL in an extra", `{"external_id": "NUL-EXTRA", "title": "t", "description": "d", "department": "a\u0000b"}`)
	jobBody("NUL in a deadline", `{"external_id": "NUL-DL", "title": "t", "description": "d", "deadline": "2030-01-01\u0000"}`)
	jobBody("raw invalid UTF-8", "{\"external_id\": \"UTF-\xff\xfe\", \"title\": \"\xc3\x28\", \"description\": \"\xed\xa0\x80\"}")
	jobBody("lone surrogate escapes", `{"external_id": "SUR-\ud800", "title": "\udc00", "description": "d"}`)
	jobBody("control characters in external_id", `{"external_id": "TAB\tNL\n", "title": "t", "description": "d"}`)
	jobBody("huge integer", `{"external_id": "BIGINT", "title": "t", "description": "d", "salary": 99999999999999999999999999}`)
	jobBody("huge exponent", `{"external_id": "BIGEXP", "title": "t", "description": "d", "salary": 1e999999999}`)
	jobBody("tiny exponent", `{"external_id": "TINYEXP", "title": "t", "description": "d", "salary": 1e-999999999}`)
	jobBody("salary above the limit", `{"external_id": "SAL", "title": "t", "description": "d", "salary": 9223372036854775807}`)
	jobBody("int64 minimum", `{"external_id": "MIN", "title": "t", "description": "d", "min_experience": -9223372036854775808}`)
	jobBody("huge external_id number", `{"external_id": `+strings.Repeat("9", 500)+`, "title": "t", "description": "d"}`)
	jobBody("external_id -0", `{"external_id": -0, "title": "t", "description": "d"}`)
	jobBody("huge states array", `{"external_id": "STATES", "title": "t", "description": "d", "states": [`+strings.TrimSuffix(strings.Repeat("7,", 10000), ",")+`]}`)
	jobBody("many distinct unknown states", `{"external_id": "STATES2", "title": "t", "description": "d", "states": [`+seq(1, 5000)+`]}`)
	jobBody("states nested arrays", `{"external_id": "NEST", "title": "t", "description": "d", "states": [[1],[2]]}`)
	jobBody("description of 600 KiB", `{"external_id": "LONGDESC", "title": "t", "description": "`+strings.Repeat("d", 600<<10)+`"}`)
	jobBody("extra of 70000 characters", `{"external_id": "LONGEXTRA", "title": "t", "description": "d", "benefits": "`+strings.Repeat("b", 70000)+`"}`)
	jobBody("short extra of 300 characters", `{"external_id": "LONGNAME", "title": "t", "description": "d", "company_name": "`+strings.Repeat("c", 300)+`"}`)
	jobBody("deadline year 0", `{"external_id": "Y0", "title": "t", "description": "d", "deadline": "0000-01-01"}`)
	jobBody("deadline year 99999", `{"external_id": "Y5", "title": "t", "description": "d", "deadline": "99999-01-01"}`)
	jobBody("deadline 31 February", `{"external_id": "FEB", "title": "t", "description": "d", "deadline": "2030-02-31"}`)
	jobBody("deadline very long", `{"external_id": "DLLONG", "title": "t", "description": "d", "deadline": "`+strings.Repeat("2030-01-01 ", 1000)+`"}`)
	jobBody("duplicate keys", `{"external_id": "DUP", "external_id": "DUP2", "title": "t", "description": "d"}`)
	jobBody("apply_url with spaces", `{"external_id": "URLSP", "title": "t", "description": "d", "apply_url": "https://exa mple.com/a b"}`)
	jobBody("apply_url IPv6 garbage", `{"external_id": "URL6", "title": "t", "description": "d", "apply_url": "http://[::1"}`)
	jobBody("byte order mark", "\xef\xbb\xbf{\"external_id\": \"BOM\", \"title\": \"t\", \"description\": \"d\"}")
	jobBody("deep nesting in an unknown key", `{"external_id": "DEEP", "title": "t", "description": "d", "x": `+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`)
	jobBody("every field the wrong type", `{"external_id": [], "title": {}, "description": [], "deadline": {}, "apply_url": 1, "apply_email": true, "min_experience": {}, "max_experience": [], "salary": "x", "specialization": [], "show_company_name": {}, "states": {}, "qualifications": "x", "company_name": []}`)
	for _, target := range []string{
		"/api/ats/jobs?external_id=%00",
		"/api/ats/jobs?external_id=%FF%FE",
		"/api/ats/jobs?external_id=A%00B",
		"/api/ats/jobs?external_id=" + strings.Repeat("x", 5000),
		"/api/ats/jobs?external_id=",
		"/api/ats/jobs?external_id=%ED%A0%80",
		"/api/ats/jobs?limit=-1",
		"/api/ats/jobs?limit=99999999999999999999",
		"/api/ats/jobs?limit=1e3",
		"/api/ats/jobs?limit=%00",
		"/api/ats/jobs?state=%00",
		"/api/ats/jobs?state=%FF",
		"/api/ats/jobs?state=pending_review%27%20OR%201=1",
		"/api/ats/jobs?cursor=%00",
		"/api/ats/jobs?cursor=" + strings.Repeat("A", 5000),
		"/api/ats/jobs?cursor=djE6LTE",                          // "v1:-1"
		"/api/ats/jobs?cursor=djE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5", // "v1:99999999999999999999"
		"/api/ats/jobs?cursor=djE6MA",                           // "v1:0"
		"/api/ats/jobs?cursor=%FF",
		"/api/ats/jobs?limit=5&limit=500",
	} {
		cases = append(cases, hostile{"get " + target[min(len(target), 14):min(len(target), 60)], http.MethodGet, target, ""})
	}
	for _, body := range []string{
		`{"external_id": "A\u0000B"}`, `{"external_id": "\udfff"}`, "{\"external_id\": \"\xff\"}",
		`{"external_id": 12345678901234567890123}`, `{"external_id": ` + strings.Repeat("9", 300) + `}`,
		`{"external_id": true}`, `{"external_id": ""}`, `{}`, `{"external_id": "` + strings.Repeat("z", 5000) + `"}`,
	} {
		cases = append(cases, hostile{"close " + body[:min(len(body), 30)], http.MethodPost, "/api/ats/jobs?action=close", body})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			res := e.send(t, e.request(t, tc.method, tc.target, emp.Host, emp.Key, body))
			if res.Status >= 500 {
				t.Fatalf("status %d for %s %.80s; body %s", res.Status, tc.method, tc.target, res.Body)
			}
			if res.Status >= 400 {
				res.err(t) // a JSON error body with a code
			}
		})
	}
	// Header-level oddities.
	odd := []struct {
		name   string
		header map[string]string
	}{
		{"huge Authorization", map[string]string{"Authorization": "Bearer " + strings.Repeat("k", 20000)}},
		{"two Bearer words", map[string]string{"Authorization": "Bearer Bearer " + emp.Key}},
		{"key with spaces around", map[string]string{"Authorization": "Bearer    " + emp.Key + "   "}},
		{"Content-Type text/plain", map[string]string{"Content-Type": "text/plain"}},
		{"Content-Type form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{"Content-Encoding gzip (not gzipped)", map[string]string{"Content-Encoding": "gzip"}},
		{"X-Forwarded-Host from an untrusted peer", map[string]string{"X-Forwarded-Host": "ng.localhost"}},
	}
	for _, tc := range odd {
		t.Run("header "+tc.name, func(t *testing.T) {
			req := e.request(t, http.MethodPost, "/api/ats/jobs", emp.Host, emp.Key, bodyOf(t, job("HDR-"+tc.name)))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			res := e.send(t, req)
			if res.Status >= 500 {
				t.Fatalf("status %d; body %s", res.Status, res.Body)
			}
		})
	}
	if s := e.statement(t, emp.ID); !s.Balance.Equal(s.Entries[len(s.Entries)-1].BalanceAfter) {
		t.Errorf("balance %s differs from the last entry's balance after", s.Balance)
	}
}

func seq(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, i)
	}
	return b.String()
}
