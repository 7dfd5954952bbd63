package atsgate_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the layout docs/architecture.md describes: the
// domain package depends on the standard library and decimal only; echo is
// imported only under internal/web; GORM only by the store; pkg/ never
// imports internal/. A package that breaks a rule is named with the
// import that breaks it.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	const mod = "github.com/atsgate/atsgate/"
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Standard", "all")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
		Standard   bool
	}
	std := map[string]bool{}
	var ours []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Standard {
			std[p.ImportPath] = true
		}
		if strings.HasPrefix(p.ImportPath, mod) {
			ours = append(ours, p)
		}
	}
	if len(ours) < 5 {
		t.Fatalf("go list found %d packages of the module; is the test run from the module?", len(ours))
	}
	for _, p := range ours {
		rel := strings.TrimPrefix(p.ImportPath, mod)
		for _, imp := range p.Imports {
			switch {
			case rel == "internal/atsgate" && !std[imp] && imp != "github.com/shopspring/decimal":
				t.Errorf("%s imports %s: the domain package may import only the standard library and decimal", rel, imp)
			case strings.HasPrefix(imp, "github.com/labstack/echo") && !strings.HasPrefix(rel, "internal/web"):
				t.Errorf("%s imports %s: only the packages under internal/web may import echo", rel, imp)
			case strings.HasPrefix(imp, "gorm.io/") && rel != "internal/store":
				t.Errorf("%s imports %s: only internal/store may import GORM", rel, imp)
			case strings.HasPrefix(rel, "pkg/") && strings.HasPrefix(imp, mod+"internal/"):
				t.Errorf("%s imports %s: pkg/ is for outside code and must not import internal/", rel, imp)
			}
		}
	}
}
