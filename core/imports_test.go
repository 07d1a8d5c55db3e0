package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// coreSources parses the non-test Go files of core and every package under
// it. (Which packages core may import is checked with the module's other
// layering rules in adapters/layering_test.go.)
func coreSources(t *testing.T) map[string]*ast.File {
	t.Helper()
	files := map[string]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(p)] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no core sources found")
	}
	return files
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
