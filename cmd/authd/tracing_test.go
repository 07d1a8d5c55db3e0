package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/redisstore/redistest"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, authd exports spans for requests
// (named by route pattern), Postgres queries and Redis commands; by the
// end of a graceful stop they have reached the collector.
func TestTracesReachTheCollector(t *testing.T) {
	var mu sync.Mutex
	var got bytes.Buffer
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" {
			mu.Lock()
			got.Write(b)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none")

	dbCfg, _ := bunpgtest.NewMigratedDatabase(t)
	cfg := testConfig(t, "DB_HOST="+dbCfg.Host, fmt.Sprintf("DB_PORT=%d", dbCfg.Port), "DB_NAME="+dbCfg.Name,
		"AUTH_SECONDARY_STORAGE=redis", "REDIS_URL="+redistest.URL())
	app := newApp(cfg, slog.New(slog.DiscardHandler), postgresStorage)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	signUp(t, cfg, "traced@example.com")
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"POST /api/auth/sign-up/email", "http.route", "redis ", "INSERT"} {
		if !bytes.Contains(got.Bytes(), []byte(want)) {
			t.Errorf("the exported spans lack %q (%d bytes received)", want, got.Len())
		}
	}
}
