package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
)

func TestPprofAddrAcceptsOnlyLoopback(t *testing.T) {
	for _, v := range []string{"", "127.0.0.1:6060", "127.9.9.9:0", "[::1]:6060", "localhost:6060"} {
		if got, err := pprofAddr(v); err != nil || got != v {
			t.Errorf("pprofAddr(%q) = %q, %v; want it accepted", v, got, err)
		}
	}
	for _, v := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "10.0.0.1:6060", "example.com:6060", "127.0.0.1", "localhost"} {
		if _, err := pprofAddr(v); err == nil || !strings.Contains(err.Error(), pprofAddrEnv) {
			t.Errorf("pprofAddr(%q): err %v, want a refusal naming %s", v, err, pprofAddrEnv)
		}
	}
}

// The listener serves the profiles while the app runs and is gone after it
// stops.
func TestPprofOptionServesUntilStop(t *testing.T) {
	addr := freeAddr(t)
	app := fx.New(fx.NopLogger, fx.Supply(slog.New(slog.NewTextHandler(io.Discard, nil))), pprofOption(addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "goroutine profile") {
		t.Fatalf("goroutine profile: %d %.200s", res.StatusCode, b)
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get("http://" + addr + "/debug/pprof/"); err == nil {
		t.Fatal("pprof still answers after stop")
	}
}
