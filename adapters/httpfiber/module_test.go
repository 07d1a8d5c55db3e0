package httpfiber

import (
	"context"
	"io"
	"net"
	"net/http"
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

func moduleApp(t *testing.T, addr string, populate ...any) *fxtest.App {
	h := newHarness(t)
	auth := core.NewAuth(core.Deps{Users: h.store.Users(), Sessions: h.store.Sessions(), Accounts: h.store.Accounts(),
		Verifications: h.store.Verifications(), Tx: h.store.Tx(), Hasher: &coretest.Hasher{}, Mailer: h.outbox, Limiter: h.limiter, Clock: h.clock}, h.policy)
	return fxtest.New(t,
		fx.NopLogger,
		fx.Supply(h.opts, ListenAddr(addr), auth, fx.Annotate(h.limiter, fx.As(new(core.RateLimiter))),
			fx.Annotate(h.clock, fx.As(new(core.Clock)))),
		Module,
		fx.Populate(populate...),
	)
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
