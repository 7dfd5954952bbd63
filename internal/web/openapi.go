package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// openapiSource is the OpenAPI 3.1 document of both listeners, kept by
// hand beside routes.go. Each path item says which listener serves it in
// "x-listener": "public", "admin" or "both". TestOpenAPIRoutes checks it
// against the routes, and every HTTP test checks its requests and
// responses against it.
//
//go:embed openapi.json
var openapiSource []byte

// OpenAPISource is the whole document as kept in the repository, both
// listeners' parts.
func OpenAPISource() []byte { return openapiSource }

// The listeners' parts of the document, built once.
var (
	openapiPublic = mustOpenAPIPart("public")
	openapiAdmin  = mustOpenAPIPart("admin")
)

// OpenAPIPart is the document one listener serves at /api/openapi.json:
// listener is "public" or "admin".
func OpenAPIPart(listener string) []byte {
	if listener == "admin" {
		return openapiAdmin
	}
	return openapiPublic
}

func mustOpenAPIPart(listener string) []byte {
	b, err := openAPIPart(openapiSource, listener)
	if err != nil {
		panic(fmt.Sprintf("openapi.json: %v", err))
	}
	return b
}

// openAPIPart keeps the paths of listener (and those of both), drops the
// x-listener marks and every component the kept part does not refer to,
// so the public listener says nothing of the admin API. The webhook
// events go to the public part: integrators receive them.
func openAPIPart(src []byte, listener string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	kept := map[string]any{}
	for p, v := range paths {
		item, _ := v.(map[string]any)
		switch item["x-listener"] {
		case listener, "both":
			item = maps.Clone(item)
			delete(item, "x-listener")
			kept[p] = item
		case "public", "admin":
		default:
			return nil, fmt.Errorf("path %s: x-listener must be public, admin or both, not %v", p, item["x-listener"])
		}
	}
	doc["paths"] = kept
	if listener != "public" {
		delete(doc, "webhooks")
	}
	pruneComponents(doc)
	return json.Marshal(doc)
}

// pruneComponents drops the components that nothing outside the
// components refers to, directly or through other components.
func pruneComponents(doc map[string]any) {
	comps, _ := doc["components"].(map[string]any)
	used := map[string]bool{} // "schemas/Job", "securitySchemes/atsKey"
	var walk func(v any)
	mark := func(key string) {
		if used[key] {
			return
		}
		used[key] = true
		kind, name, _ := strings.Cut(key, "/")
		if group, ok := comps[kind].(map[string]any); ok {
			walk(group[name])
		}
	}
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok && k == "$ref" && strings.HasPrefix(s, "#/components/") {
					mark(strings.TrimPrefix(s, "#/components/"))
				}
				if k == "security" {
					if reqs, ok := val.([]any); ok {
						for _, r := range reqs {
							for name := range r.(map[string]any) {
								mark("securitySchemes/" + name)
							}
						}
					}
				}
				walk(val)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for k, v := range doc {
		if k != "components" {
			walk(v)
		}
	}
	for kind, group := range comps {
		g, _ := group.(map[string]any)
		for name := range g {
			if !used[kind+"/"+name] {
				delete(g, name)
			}
		}
	}
}

// openAPI serves a listener's part of the document.
func openAPI(listener string) echo.HandlerFunc {
	doc := OpenAPIPart(listener)
	return func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", doc)
	}
}
