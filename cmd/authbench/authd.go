package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	basePath   = "/api/auth"
	readyPath  = "/api/ready"
	cookieName = "better-auth.session_token"
	// cacheCookieName is the cookie cache's (AUTH_COOKIE_CACHE_MAX_AGE).
	cacheCookieName = "better-auth.session_data"
	stopTimeout     = 20 * time.Second
)

type authd struct {
	cmd       *exec.Cmd
	pid       int
	bin       string
	origin    string // http://127.0.0.1:PORT, also the Origin header of POSTs
	pprofAddr string
	logPath   string
	exited    chan struct{}
	quietWait time.Duration
}

// dropPageCache has the kernel forget bin's cached pages. The linker writes
// its output through a shared mapping, and the page cache it leaves (large
// folios, each mapped whole on a fault) makes the same binary started
// straight after go build show up to 3 MiB more RssFile than once copied or
// read from disk; dropped, authd's pages are read from disk as a deployed
// binary's are, and the idle figures compare from run to run.
func dropPageCache(bin string) error {
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	// Dirty pages are not dropped: write them out first.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", bin, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("%s: fadvise: %w", bin, err)
	}
	return nil
}

func goBuild(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/authd")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/authd: %w\n%s", err, b)
	}
	return nil
}

// authdEnv is the caller's environment without any authd setting it may
// carry (a developer's DB_NAME must not point the benchmark at their data),
// plus the benchmark's own.
func authdEnv(pg *postgres, db, secret, addr, pprofAddr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "APP_") || strings.HasPrefix(k, "AUTH_") || strings.HasPrefix(k, "HTTP_") ||
			strings.HasPrefix(k, "DB_") || strings.HasPrefix(k, "SMTP_") || k == "CONFIG_FILE" || k == "GOMEMLIMIT" || k == "GOGC" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"APP_ENV=test",
		"APP_SECRET="+secret,
		"AUTH_BASE_URL=http://"+addr+"/api",
		"AUTH_RATE_LIMIT_ENABLED=false",
		"HTTP_ADDR="+addr,
		"DB_HOST="+pg.host, "DB_PORT="+pg.port, "DB_NAME="+db, "DB_USER=postgres",
		// authd serves net/http/pprof there; -profile uses it.
		"AUTHD_PPROF_ADDR="+pprofAddr,
	)
}

// startAuthd migrates the database and starts `authd serve`, with extra
// settings after the benchmark's own. Instances given the same secret accept
// each other's cookies. The returned authd (non-nil once the process exists)
// must be stopped even on error.
func startAuthd(ctx context.Context, bin, root, tmp string, pg *postgres, db, secret string, extra []string) (*authd, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append(authdEnv(pg, db, secret, addr, pprofAddr), extra...)

	mig := exec.CommandContext(ctx, bin, "migrate", "up")
	mig.Dir, mig.Env = root, env
	if out, err := mig.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("authd migrate up: %w\n%s", err, out)
	}

	logPath := filepath.Join(tmp, "authd-"+strings.ReplaceAll(addr, ":", "-")+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// Not CommandContext: Ctrl-C must lead to a graceful stop through
	// a.stop, not a SIGKILL that could leave the database connections open
	// while dropdb runs (dropdb --force copes, but a clean exit is the normal case).
	cmd := exec.Command(bin, "serve")
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = root, env, logf, logf
	// Its own process group keeps the terminal's Ctrl-C from reaching it
	// before authbench has finished with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start authd: %w", err)
	}
	a := &authd{cmd: cmd, pid: cmd.Process.Pid, bin: bin, origin: "http://" + addr, pprofAddr: pprofAddr,
		logPath: logPath, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		logf.Close()
		close(a.exited)
	}()
	if err := a.waitReady(ctx, 30*time.Second); err != nil {
		return a, err
	}
	return a, nil
}

func (a *authd) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-a.exited:
			return fmt.Errorf("authd exited during startup (%s); log:\n%s", a.cmd.ProcessState, tail(a.logPath, 30))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(a.origin + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("authd not ready at %s after %s (last: %v); log:\n%s", readyPath, limit, errOrStatus(resp, err), tail(a.logPath, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop asks authd to drain (SIGTERM), and kills it by PID if it has not
// exited in time.
func (a *authd) stop() {
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(stopTimeout):
		fmt.Fprintf(os.Stderr, "authbench: authd pid %d ignored SIGTERM for %s, killing it\n", a.pid, stopTimeout)
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
}

// quiesce waits, up to 15 s, until authd uses less than 5 % of a core, so a
// scenario does not pay for hashes still finishing from the one before it,
// and then for the rest of the machine to be quiet.
func (a *authd) quiesce(ctx context.Context) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		before := snapCPU(a.pid)
		time.Sleep(250 * time.Millisecond)
		if snapCPU(a.pid).sub(before, 0).server < 0.05 {
			break
		}
	}
	waitQuiet(ctx, a.quietWait)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func errOrStatus(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	if resp == nil {
		return "no response"
	}
	return resp.Status
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

var errNoSession = errors.New("get-session answered without a session")
