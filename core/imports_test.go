package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// coreSources parses the non-test Go files of core and, when present,
// core/porttest.
func coreSources(t *testing.T) map[string]*ast.File {
	t.Helper()
	files := map[string]*ast.File{}
	fset := token.NewFileSet()
	for _, pattern := range []string{"*.go", "porttest/*.go"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files[p] = f
		}
	}
	if len(files) == 0 {
		t.Fatal("no core sources found")
	}
	return files
}

// TestCoreImportsOnlyStdlib keeps the domain free of infrastructure: a
// standard-library path has no dot in its first element. porttest may also
// import the module's own core package.
func TestCoreImportsOnlyStdlib(t *testing.T) {
	for path, f := range coreSources(t) {
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(path, "porttest") && p == "github.com/authd/authd/core" {
				continue
			}
			if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %q, which is not in the standard library", path, p)
			}
		}
	}
}

// TestCoreNeverMintsContexts: every port call must carry the caller's ctx
// (its deadline, its transaction), so core code may not start a fresh one.
func TestCoreNeverMintsContexts(t *testing.T) {
	for path, f := range coreSources(t) {
		if strings.HasPrefix(path, "porttest") {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "context" && (sel.Sel.Name == "Background" || sel.Sel.Name == "TODO") {
				t.Errorf("%s calls context.%s", path, sel.Sel.Name)
			}
			return true
		})
	}
}
