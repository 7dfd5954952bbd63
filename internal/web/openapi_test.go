package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/config"
	"github.com/atsgate/atsgate/internal/store"
	"github.com/atsgate/atsgate/internal/web"
)

// The OpenAPI document (internal/web/openapi.json) is checked three ways:
// it is a valid OpenAPI 3.1 document whose examples fit its schemas; its
// paths are exactly the routes echo serves on each listener; and every
// request and response of the HTTP tests of this package fits it (the
// contract wrapper below, which newEnv and newAdminEnv put in front of
// their servers).
//
// kin-openapi validates 3.1 documents, and checks a 3.1 document's
// requests and responses with a JSON Schema 2020-12 validator
// (openapi3filter enables it for 3.1), in-process over net/http: no
// server to run, no code generated.

func init() {
	// The sites' bodies are text; their schemas say "string".
	for _, ct := range []string{"text/html", "text/css", "application/xml", "application/rss+xml"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// loadOpenAPI parses and validates a document, its examples included.
func loadOpenAPI(t testing.TB, src []byte) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(src)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

// contractRouters are the routers of the two listeners' parts, built once.
var contractRouters = struct {
	once sync.Once
	r    map[string]routers.Router
	err  error
}{}

func contractRouter(t testing.TB, listener string) routers.Router {
	t.Helper()
	contractRouters.once.Do(func() {
		contractRouters.r = map[string]routers.Router{}
		for _, l := range []string{"public", "admin"} {
			doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPIPart(l))
			if err != nil {
				contractRouters.err = err
				return
			}
			// The servers name the production hosts; the tests' hosts
			// differ, so match on the path alone.
			doc.Servers = nil
			r, err := gorillamux.NewRouter(doc)
			if err != nil {
				contractRouters.err = err
				return
			}
			contractRouters.r[l] = r
		}
	})
	if contractRouters.err != nil {
		t.Fatalf("OpenAPI router: %v", contractRouters.err)
	}
	return contractRouters.r[listener]
}

// errorSchema is the Error schema, for answers to requests that match no
// operation (unknown paths and methods).
var errorSchema = sync.OnceValue(func() *openapi3.Schema {
	doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPISource())
	if err != nil {
		panic(err)
	}
	return doc.Components.Schemas["Error"].Value
})

// erpErrorSchema is the ERP dialect's error envelope, for answers under
// the ERP base that match no operation.
var erpErrorSchema = sync.OnceValue(func() *openapi3.Schema {
	doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPISource())
	if err != nil {
		panic(err)
	}
	return doc.Components.Schemas["ErpError"].Value
})

// erpBase is the ERP dialect's base path (SPEC section 7).
const erpBase = "/recruitment/integration/erp"

// isERPPath says whether a path is the ERP base or under it.
func isERPPath(p string) bool { return p == erpBase || strings.HasPrefix(p, erpBase+"/") }

// contract checks every request and response that passes through it
// against the listener's part of the OpenAPI document, and fails t at its
// end with each mismatch. Benchmarks are not checked: they measure the
// server, not the checker.
func contract(t testing.TB, listener string, h http.Handler) http.Handler {
	t.Helper()
	if _, ok := t.(*testing.T); !ok {
		return h
	}
	c := &contractChecker{next: h, router: contractRouter(t, listener), listener: listener}
	// Registered before the caller's server.Close, so it runs after it,
	// once every request has been answered.
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.mismatches {
			t.Errorf("OpenAPI (%s listener): %s", listener, m)
		}
	})
	return c
}

type contractChecker struct {
	next       http.Handler
	router     routers.Router
	listener   string
	mu         sync.Mutex
	mismatches []string
}

// maxCaptured bounds what is kept of a body for the check.
const maxCaptured = 2 << 20

func (c *contractChecker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := &capture{}
	if r.Body != nil {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, in), r.Body}
	}
	rw := &recorder{ResponseWriter: w}
	c.next.ServeHTTP(rw, r)
	if err := c.check(r, in, rw); err != nil {
		c.mu.Lock()
		c.mismatches = append(c.mismatches, fmt.Sprintf("%s %s (Host %s) → %d: %v\n  request body: %.300s\n  response body: %.500s",
			r.Method, r.URL.RequestURI(), r.Host, rw.status(), err, in.Bytes(), rw.body.Bytes()))
		c.mu.Unlock()
	}
}

func (c *contractChecker) check(r *http.Request, in *capture, rw *recorder) error {
	if rw.aborted || in.over || rw.body.Len() >= maxCaptured {
		return nil // a connection cut short, or too big to keep: nothing whole to check
	}
	if c.listener == "admin" && isBackOfficePage(r.URL.Path) {
		return nil // the back office's HTML pages are not in the document
	}
	status := rw.status()
	req := r.Clone(context.Background())
	body := in.Bytes()
	if len(body) > 0 {
		// The server reads every body as JSON, whatever its Content-Type,
		// and skips a UTF-8 byte order mark; the document says so, and
		// the check reads it the same way.
		body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
		req.Header = req.Header.Clone()
		req.Header.Set("Content-Type", "application/json")
	}
	if enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); len(body) > 0 && (enc == "gzip" || enc == "x-gzip") {
		// The server inflates a gzip body before it reads it, and so
		// does the check (a broken stream is refused, and left as sent).
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if b, err := io.ReadAll(io.LimitReader(zr, maxCaptured)); err == nil {
				body = b
			}
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	// The router matches scheme and host from the URL: the tests' hosts are not
	// the document's.
	req.URL.Scheme, req.URL.Host, req.Host = "", "", ""
	// The ERP endpoints are answered with and without the trailing slash;
	// the document has the slash form.
	if p := req.URL.Path; isERPPath(p) && !strings.HasSuffix(p, "/") {
		req.URL.Path, req.URL.RawPath = p+"/", ""
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		// No operation: echo's 404 or 405, which must still be the
		// documented error body.
		if !errors.Is(err, routers.ErrPathNotFound) && !errors.Is(err, routers.ErrMethodNotAllowed) {
			return err
		}
		// Authentication and the host come before the method on the
		// jobs URL, so a refusal may be any error: it must be a 4xx.
		if status < 400 || status >= 500 {
			return fmt.Errorf("no documented operation, yet answered %d", status)
		}
		if r.Method == http.MethodHead {
			return nil
		}
		// On a country host, a path outside the APIs is the site's
		// HTML "page not found" (site.Unrouted), not an API error.
		if p := r.URL.Path; status == http.StatusNotFound && !isERPPath(p) && p != "/api" && !strings.HasPrefix(p, "/api/") &&
			strings.HasPrefix(rw.Header().Get("Content-Type"), "text/html") {
			return nil
		}
		var v any
		if err := json.Unmarshal(rw.body.Bytes(), &v); err != nil {
			return fmt.Errorf("undocumented route answered a body that is not JSON: %v", err)
		}
		if isERPPath(r.URL.Path) {
			// Under the ERP base, unknown paths (404 NOT_FOUND) and other
			// methods (405 METHOD_NOT_ALLOWED) answer in the ERP envelope.
			return erpErrorSchema().VisitJSON(v, openapi3.EnableJSONSchema2020())
		}
		return errorSchema().VisitJSON(v, openapi3.EnableJSONSchema2020())
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
		ExcludeResponseBody:   r.Method == http.MethodHead,
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var errs []error
	// A request the server accepted must be one the document allows;
	// refused ones are refused because they are not.
	if status >= 200 && status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), reqIn); err != nil {
			errs = append(errs, fmt.Errorf("request: %w", err))
		}
	}
	// The names docs/api.md promises on the wire exactly as spelled.
	for name := range rw.Header() {
		for _, want := range exactHeaders {
			if strings.EqualFold(name, want) && name != want {
				errs = append(errs, fmt.Errorf("response header %q goes out as %q", want, name))
			}
		}
	}
	// Some names go out in their documented spelling (X-RateLimit-Limit,
	// X-Request-ID), not Go's canonical one; a client reads names
	// case-insensitively, and so does the check.
	header := http.Header{}
	for k, v := range rw.Header() {
		header[http.CanonicalHeaderKey(k)] = append(header[http.CanonicalHeaderKey(k)], v...)
	}
	resIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: status,
		Header: header, Body: io.NopCloser(bytes.NewReader(rw.body.Bytes())), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), resIn); err != nil {
		errs = append(errs, fmt.Errorf("response: %w", err))
	}
	return errors.Join(errs...)
}

// exactHeaders are the response headers whose spelling docs/api.md
// promises (not Go's canonical X-Ratelimit-Limit).
var exactHeaders = []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit", "X-Request-ID"}

// capture keeps the first maxCaptured bytes written to it.
type capture struct {
	bytes.Buffer
	over bool
}

func (c *capture) Write(p []byte) (int, error) {
	if c.Len()+len(p) > maxCaptured {
		c.over = true
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	code    int
	body    capture
	aborted bool
}

func (w *recorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.body.Write(p)
	n, err := w.ResponseWriter.Write(p)
	if err != nil {
		w.aborted = true
	}
	return n, err
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestOpenAPIDocumentValid: the document kept in the repository, and each
// listener's part as served, are valid OpenAPI 3.1 with examples that fit
// their schemas.
func TestOpenAPIDocumentValid(t *testing.T) {
	doc := loadOpenAPI(t, web.OpenAPISource())
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	for _, l := range []string{"public", "admin"} {
		part := loadOpenAPI(t, web.OpenAPIPart(l))
		for _, p := range part.Paths.InMatchingOrder() {
			isAdmin := strings.HasPrefix(p, "/admin/") || p == "/metrics"
			if isAdmin != (l == "admin") && p != "/healthz" && p != "/readyz" && p != "/api/openapi.json" {
				t.Errorf("the %s part has %s", l, p)
			}
		}
	}
}

// TestOpenAPIServed: each listener serves its own part.
func TestOpenAPIServed(t *testing.T) {
	a := newAdminEnv(t)
	pub := a.send(t, a.request(t, http.MethodGet, "/api/openapi.json", "anything.example", "", nil)).wantStatus(t, http.StatusOK)
	adm := a.api(t, "", http.MethodGet, "/api/openapi.json", nil).wantStatus(t, http.StatusOK)
	for _, c := range []struct {
		name      string
		body      []byte
		has, lack string
	}{{"public", pub.Body, "/api/ats/jobs", "/admin/api/countries"}, {"admin", adm.Body, "/admin/api/countries", "/api/ats/jobs"}} {
		var doc struct {
			OpenAPI string                     `json:"openapi"`
			Paths   map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(c.body, &doc); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if doc.OpenAPI != "3.1.0" || doc.Paths[c.has] == nil || doc.Paths[c.lack] != nil {
			t.Errorf("%s listener's document: openapi %q, has %s: %v, has %s: %v", c.name, doc.OpenAPI,
				c.has, doc.Paths[c.has] != nil, c.lack, doc.Paths[c.lack] != nil)
		}
	}
	if bytes.Contains(pub.Body, []byte("adminToken")) || bytes.Contains(pub.Body, []byte(`"Statement"`)) {
		t.Error("the public document describes the admin API's security or shapes")
	}
	if bytes.Contains(pub.Body, []byte("x-listener")) || bytes.Contains(adm.Body, []byte("x-listener")) {
		t.Error("a served document still carries the x-listener marks")
	}
}

// anyMethodsUndocumented are the methods echo's Any registers beside the
// jobs endpoint's GET, POST and PUT: every one answers 405 with Allow,
// which the path's description says; OpenAPI cannot name some of them
// (CONNECT, PROPFIND, REPORT), and documenting the others as operations
// would make generated clients offer them.
var anyMethodsUndocumented = []string{"CONNECT", "DELETE", "HEAD", "OPTIONS", "PATCH", "PROPFIND", "REPORT", "TRACE"}

// isBackOfficePage says whether an admin-listener path is one of the back
// office's HTML pages and form posts (everything under /admin/ but the
// JSON API under /admin/api/): they are for people in a browser (session
// cookie, CSRF token), not a contract for programs, so not in the
// document. A rule rather than a list, so that the pages the ERP and
// webhook work add need no entry here.
func isBackOfficePage(path string) bool {
	return (path == "/admin" || strings.HasPrefix(path, "/admin/")) && !strings.HasPrefix(path, "/admin/api/")
}

// TestOpenAPIRoutes: every route echo serves on each listener is in the
// document, and the document has nothing else.
func TestOpenAPIRoutes(t *testing.T) {
	var st *store.Store // routes are built without touching the store
	deps := web.Deps{Directory: st, Jobs: st, Site: st, BackOffice: st, Taxonomy: config.Taxonomy,
		ERPSources: st, ERPJobs: st}
	doc := loadOpenAPI(t, web.OpenAPISource())
	for _, l := range []struct {
		name string
		e    *echo.Echo
	}{{"public", web.NewPublic(deps).(*echo.Echo)}, {"admin", web.NewAdmin(deps).(*echo.Echo)}} {
		t.Run(l.name, func(t *testing.T) {
			served := map[string]bool{}
			for _, r := range l.e.Routes() {
				if r.Method == echo.RouteNotFound {
					continue // a catch-all answering 404 (or the ERP base's 405), not an operation
				}
				path := echoPath(r.Path)
				// The ERP routes are each answered with and without the
				// trailing slash; the document has the slash form.
				if isERPPath(path) && !strings.HasSuffix(path, "/") {
					continue
				}
				if strings.HasPrefix(path, "/api/ats/jobs") && slices.Contains(anyMethodsUndocumented, r.Method) {
					continue
				}
				op := r.Method + " " + path
				if l.name == "admin" && isBackOfficePage(path) {
					continue
				}
				served[op] = true
			}
			documented := map[string]bool{}
			for _, p := range doc.Paths.InMatchingOrder() {
				item := doc.Paths.Value(p)
				switch item.Extensions["x-listener"] {
				case l.name, "both":
				default:
					continue
				}
				for m := range item.Operations() {
					documented[m+" "+p] = true
				}
			}
			var missing, extra []string
			for op := range served {
				if _, ok := documented[op]; !ok {
					missing = append(missing, op)
				}
			}
			for op := range documented {
				if !served[op] {
					extra = append(extra, op)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			if len(missing) > 0 {
				t.Errorf("routes echo serves that the document lacks:\n  %s", strings.Join(missing, "\n  "))
			}
			if len(extra) > 0 {
				t.Errorf("operations the document has that echo does not serve:\n  %s", strings.Join(extra, "\n  "))
			}
		})
	}
}

// echoPath writes echo's :param as OpenAPI's {param}.
func echoPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestOpenAPIGoldenFiles: the golden files of the HTTP tests fit the
// document's schemas too.
func TestOpenAPIGoldenFiles(t *testing.T) {
	doc := loadOpenAPI(t, web.OpenAPISource())
	for file, schema := range map[string]string{
		"create_response.json": "Job", "list_response.json": "JobPage", "list_last_page.json": "JobPage",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if err := doc.Components.Schemas[schema].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s does not fit %s: %v", file, schema, err)
		}
	}
}
