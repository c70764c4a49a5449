package testkit

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/analyst-dev/analyst/"

// pkg is what go list says of a package.
type pkg struct {
	ImportPath string
	Imports    []string
	Name       string
}

// packages lists the module's packages with their imports (test files
// excluded: they may import fixtures).
func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"...")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(&out)
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, module)
		var ours []string
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				ours = append(ours, strings.TrimPrefix(imp, module))
			}
		}
		p.Imports = ours
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestImportRules holds the packages to the direction of imports that
// docs/architecture.md describes.
func TestImportRules(t *testing.T) {
	under := func(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }
	rules := []struct {
		pkg     string
		allowed func(imp string) bool
		why     string
	}{
		{"jupyter", func(string) bool { return false }, "the gateway client is a leaf"},
		{"internal/llm", func(string) bool { return false }, "the LLM client is a leaf"},
		{"team", func(string) bool { return false }, "team knows the agents only through its own interfaces"},
		{"cell", func(imp string) bool { return imp == "jupyter" }, "a cell knows only the kernel's result"},
		{"internal/record", func(imp string) bool { return !under(imp, "agents") && !under(imp, "analysis") }, "the records know events, not agents"},
		{"internal/console", func(imp string) bool { return !under(imp, "agents") && !under(imp, "analysis") }, "the console knows events, not agents"},
		{"agents", func(imp string) bool {
			return !under(imp, "analysis") && !under(imp, "internal/record") && !under(imp, "internal/console")
		}, "agents know neither the session nor its front ends"},
	}
	for _, p := range packages(t) {
		for _, imp := range p.Imports {
			if under(imp, "internal/testkit") && !under(p.ImportPath, "internal/testkit") && !under(p.ImportPath, "bench") {
				t.Errorf("%s imports the test-only %s", p.ImportPath, imp)
			}
			if under(imp, "cmd") && !under(p.ImportPath, "cmd") {
				t.Errorf("%s imports the front end %s", p.ImportPath, imp)
			}
			for _, r := range rules {
				if under(p.ImportPath, r.pkg) && !under(imp, r.pkg) && !r.allowed(imp) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
				}
			}
		}
	}
}

// TestTestOnlyPackages checks that the test fixtures live under testkit,
// and that nothing outside tests imports them.
func TestTestOnlyPackages(t *testing.T) {
	for _, p := range packages(t) {
		for _, fixture := range []string{"llmtest", "jupytertest", "superstore"} {
			if strings.HasSuffix(p.ImportPath, "/"+fixture) && !strings.HasPrefix(p.ImportPath, "internal/testkit/") {
				t.Errorf("the test fixture %s is not under internal/testkit", p.ImportPath)
			}
		}
		if p.Name == "main" && !strings.HasPrefix(p.ImportPath, "cmd/") && !strings.HasPrefix(p.ImportPath, "bench/") && !slices.Contains([]string{"examples/gen"}, p.ImportPath) {
			t.Errorf("command %s is outside cmd/, bench/ and examples/", p.ImportPath)
		}
	}
}
