// Package adapters_test holds the module's layering rules, checked on the
// source tree so that a wrong import fails CI rather than a review.
package adapters_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/authd/authd/"

// imports maps each directory of the module (relative to its root, slash
// separated) to the module-internal and the third-party packages its
// non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || name == "testdata" || (strings.HasPrefix(name, ".") && path != "..") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel("..", filepath.Dir(path))
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			out[dir] = append(out[dir], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 5 {
		t.Fatalf("found only %d packages; is the test running from adapters/?", len(out))
	}
	return out
}

func within(dir, root string) bool { return dir == root || strings.HasPrefix(dir, root+"/") }

func stdlib(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

// TestLayering enforces the hexagon: every package under core imports only
// the standard library (and core itself); an adapter imports core, its own
// subtree, adapters/internal (implementation shared by adapters, such as
// better-auth's symmetric encryption, which is no adapter of its own) and
// third-party libraries, but never another adapter, so that only cmd
// composes them; and nothing imports cmd.
func TestLayering(t *testing.T) {
	for dir, imps := range imports(t) {
		for _, p := range imps {
			internal, isInternal := strings.CutPrefix(p, module)
			switch {
			case within(dir, "core"):
				if !stdlib(p) && !(isInternal && within(internal, "core")) {
					t.Errorf("%s imports %s: core may import only the standard library", dir, p)
				}
			case isInternal && within(internal, "cmd") && !within(dir, "cmd"):
				t.Errorf("%s imports %s: only cmd may import cmd", dir, p)
			case within(dir, "adapters") && isInternal && within(internal, "adapters"):
				own := strings.Join(strings.SplitN(dir, "/", 3)[:2], "/")
				if !within(internal, own) && !within(internal, "adapters/internal") {
					t.Errorf("%s imports %s: adapters meet only through core's ports; cmd wires them", dir, p)
				}
			}
		}
	}
}

// TestHTTPFeatureLayering keeps the HTTP adapter's feature groups
// independent: a feature package (adapters/httpfiber/<feature>) and the
// shared internals import neither the root package, which assembles them,
// nor any feature package, so that a feature is added or removed as a
// package and one line in routes.go.
func TestHTTPFeatureLayering(t *testing.T) {
	const root = "adapters/httpfiber"
	feature := func(dir string) bool {
		rest, ok := strings.CutPrefix(dir, root+"/")
		return ok && !strings.Contains(rest, "/") && rest != "internal"
	}
	for dir, imps := range imports(t) {
		if !within(dir, root) || dir == root {
			continue
		}
		for _, p := range imps {
			internal, ok := strings.CutPrefix(p, module)
			if !ok {
				continue
			}
			if internal == root || (feature(internal) && internal != dir) {
				t.Errorf("%s imports %s: features and internals never import the root or another feature", dir, p)
			}
		}
	}
}
