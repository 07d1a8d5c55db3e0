// Package authdtest is what the tests that run the real authd binary (the
// JS-client e2e suite, the fault battery) share: building the binary once,
// rerunning when the module changes, free loopback ports, waiting for a
// child to be ready, and collecting its output.
package authdtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

var (
	workDir string
	build   struct {
		once sync.Once
		path string
		out  []byte
		err  error
	}
	track struct {
		once sync.Once
		err  error
	}
)

// Run is TestMain's body: m.Run with a scratch directory for the binary,
// removed afterwards. It returns the exit code.
func Run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "authd-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	workDir = dir
	defer os.RemoveAll(dir)
	return m.Run()
}

// Binary builds ./cmd/authd once per test process (see Run) and returns its
// path.
func Binary(t testing.TB) string {
	t.Helper()
	TrackModuleInputs(t)
	build.once.Do(func() {
		if workDir == "" {
			build.err = errors.New("authdtest.Run must wrap the package's tests (TestMain)")
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(workDir, "authd")
		cmd := exec.Command(goTool, "build", "-o", build.path, "github.com/authd/authd/cmd/authd")
		build.out, build.err = cmd.CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("go build ./cmd/authd: %v\n%s", build.err, build.out)
	}
	return build.path
}

// TrackModuleInputs stats every file of the module so that `go test` reruns
// the calling package whenever any of them changes. What such tests exercise
// (a binary built from the whole module, JS files) is invisible to the test
// cache, which keys on the package's imports; Go re-checks the files a test
// opened or stat'ed inside the module before replaying a cached result.
func TrackModuleInputs(t testing.TB) {
	t.Helper()
	track.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			track.err = err
			return
		}
		track.err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			_, err = os.Stat(path)
			return err
		})
	})
	if track.err != nil {
		t.Fatalf("walk module: %v", track.err)
	}
}

// moduleRoot is the nearest directory above the working directory (a test's
// package directory) holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// WaitReady polls url until it answers 200, the child signals exited, or
// limit passes; the error says which and what the last poll saw.
func WaitReady(url string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		default:
		}
		res, err := client.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready at %s after %s (last: %s)", url, limit, Describe(res, err))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Describe is an HTTP outcome in a few words: the error, or the status.
func Describe(res *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return res.Status
}

// SyncBuffer collects a child's output, written and read concurrently.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
