package httpfiber

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/coretest"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// moduleApp runs Module; fx.Options among extra join the graph, the rest
// are populated.
func moduleApp(t *testing.T, addr string, extra ...any) *fxtest.App {
	h := newHarness(t)
	auth := core.NewAuth(core.Deps{Users: h.store.Users(), Sessions: h.store.Sessions(), Accounts: h.store.Accounts(),
		Verifications: h.store.Verifications(), Tx: h.store.Tx(), Hasher: &coretest.Hasher{}, Mailer: h.outbox, Limiter: h.limiter, Clock: h.clock}, h.policy)
	var opts []fx.Option
	var populate []any
	for _, e := range extra {
		if o, ok := e.(fx.Option); ok {
			opts = append(opts, o)
		} else {
			populate = append(populate, e)
		}
	}
	return fxtest.New(t, append(opts,
		fx.NopLogger,
		fx.Supply(h.opts, ListenAddr(addr), auth, fx.Annotate(h.limiter, fx.As(new(core.RateLimiter))),
			fx.Annotate(h.clock, fx.As(new(core.Clock)))),
		Module,
		fx.Populate(populate...),
	)...)
}

func TestModule_ServesAndDrains(t *testing.T) {
	addr := freePort(t)
	var app *fiber.App
	fxApp := moduleApp(t, addr, &app)
	fxApp.RequireStart()

	client := &http.Client{Timeout: 5 * time.Second}
	// Several requests over one keep-alive connection: each gets a fresh
	// request context.
	for _, path := range []string{"/api/health", "/api/ready", "/api/auth/ok", "/api/auth/get-session", "/api/ready"} {
		res, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, b)
		}
	}

	fxApp.RequireStop()
	if _, err := client.Get("http://" + addr + "/api/health"); err == nil {
		t.Fatal("still serving after stop")
	}
	// Readiness flipped before the drain began.
	res, err := app.Test(httpRequest("GET", "/api/ready"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 503 {
		t.Fatalf("ready after stop: %d", res.StatusCode)
	}
}

func TestModule_BusyPortFailsStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fxApp := moduleApp(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fxApp.Start(ctx); err == nil {
		t.Fatal("started on a busy port")
	}
}

func httpRequest(method, target string) *http.Request {
	req, _ := http.NewRequest(method, target, http.NoBody)
	return req
}

// /api/ready is public and not rate limited: every probe used to ping the
// database. Concurrent probes share one check, later ones reuse its verdict
// for readyEvery, failures included; draining still shows at once.
func TestModule_ReadyChecksAtMostOncePerSecond(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	var fail atomic.Bool
	check := ReadinessFunc(func(context.Context) error {
		calls.Add(1)
		<-release
		if fail.Load() {
			return errors.New("database down")
		}
		return nil
	})
	addr := freePort(t)
	var clock core.Clock
	var app *fiber.App
	fxApp := moduleApp(t, addr, fx.Supply(check), &clock, &app)
	fxApp.RequireStart()
	defer fxApp.RequireStop()
	fixed := clock.(*core.FixedClock)

	probe := func() int {
		res, err := http.Get("http://" + addr + "/api/ready")
		if err != nil {
			t.Error(err)
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() { statuses[i] = probe() })
	}
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("probe %d: %d", i, s)
		}
	}
	if probe() != 200 || calls.Load() != 1 {
		t.Fatalf("%d checks for 21 probes within a second, want 1", calls.Load())
	}

	fail.Store(true)
	fixed.Advance(readyEvery)
	if s := probe(); s != 503 || calls.Load() != 2 {
		t.Fatalf("a second later: %d after %d checks, want 503 after 2", s, calls.Load())
	}
	if s := probe(); s != 503 || calls.Load() != 2 {
		t.Fatalf("the failure was not reused: %d after %d checks", s, calls.Load())
	}
}

func TestNewApp_InvalidOptionsAreAnError(t *testing.T) {
	h := newHarness(t)
	bad := h.opts
	bad.TrustedProxies = []string{"10.0.0.0/33"}
	if _, err := NewApp(bad, nil, h.limiter, nil, h.clock); err == nil || !strings.Contains(err.Error(), "10.0.0.0/33") {
		t.Fatalf("invalid trusted proxy: %v", err)
	}
	limited := h.opts
	limited.RateLimitEnabled = true
	if _, err := NewApp(limited, nil, nil, nil, h.clock); err == nil {
		t.Fatal("rate limiting without a limiter accepted")
	}
	// The fx module fails the graph instead of serving without the option.
	auth := core.NewAuth(core.Deps{Users: h.store.Users(), Sessions: h.store.Sessions(), Accounts: h.store.Accounts(),
		Verifications: h.store.Verifications(), Tx: h.store.Tx(), Hasher: &coretest.Hasher{}, Mailer: h.outbox, Limiter: h.limiter, Clock: h.clock}, h.policy)
	app := fx.New(fx.NopLogger,
		fx.Supply(bad, ListenAddr(freePort(t)), auth, fx.Annotate(h.limiter, fx.As(new(core.RateLimiter))),
			fx.Annotate(h.clock, fx.As(new(core.Clock)))),
		Module, fx.Invoke(func(*fiber.App) {}))
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), "10.0.0.0/33") {
		t.Fatalf("fx graph with invalid options: %v", err)
	}
}

// MaxConns bounds the connections held at once, idle keep-alive ones
// included; one more is refused with 503.
func TestMaxConns(t *testing.T) {
	h := newHarness(t, harnessConfig{opts: func(o *Options) { o.MaxConns = 2 }})
	url := serve(t, h.app)
	addr := strings.TrimPrefix(url, "http://")
	request := func(conn net.Conn) (string, error) {
		if _, err := conn.Write([]byte("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return "", err
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		return line, err
	}
	for range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if line, err := request(conn); err != nil || !strings.Contains(line, " 200 ") {
			t.Fatalf("connection within the cap: %q %v", line, err)
		}
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.Contains(line, " 503 ") {
		t.Fatalf("connection past the cap: %q, want 503", line)
	}
}
