// Package bunpgtest gives each test its own throw-away Postgres database.
//
// It connects as user postgres (trust auth) to AUTHD_TEST_PGHOST and
// AUTHD_TEST_PGPORT (default 127.0.0.1:5432). A test that needs Postgres and
// cannot reach it fails; it never skips, so a missing database cannot pass
// for a green run.
package bunpgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
)

// server is the Postgres that tests use, as a Config for its maintenance
// database "postgres".
func server(t testing.TB) bunpg.Config {
	host := os.Getenv("AUTHD_TEST_PGHOST")
	if host == "" {
		host = "127.0.0.1"
	}
	port := 5432
	if p := os.Getenv("AUTHD_TEST_PGPORT"); p != "" {
		var err error
		if port, err = strconv.Atoi(p); err != nil {
			t.Fatalf("bunpgtest: AUTHD_TEST_PGPORT=%q is not a port number", p)
		}
	}
	return bunpg.Config{
		Host: host, Port: port, Name: "postgres", User: "postgres", SSLMode: "disable",
		AppName: "authd-test", MaxOpenConns: 8, DialTimeout: 5 * time.Second,
		// Generous: -race and parallel tests slow everything down, and these
		// tests assert behaviour, not latency.
		QueryTimeout: 10 * time.Second,
	}
}

// NewDatabase creates an empty database with a random name and drops it
// (WITH (FORCE), so leftover connections do not block it) when the test ends.
func NewDatabase(t testing.TB) bunpg.Config {
	t.Helper()
	admin := server(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "authd_test_" + hex.EncodeToString(b[:])

	exec(t, admin, "CREATE DATABASE "+name+" TEMPLATE template0")
	t.Cleanup(func() { exec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })

	cfg := admin
	cfg.Name = name
	return cfg
}

// NewMigratedDatabase is NewDatabase with every migration applied, and an
// open pool on it that is closed before the database is dropped.
func NewMigratedDatabase(t testing.TB) (bunpg.Config, *bun.DB) {
	t.Helper()
	cfg := NewDatabase(t)
	db, err := bunpg.Open(cfg)
	if err != nil {
		t.Fatalf("bunpgtest: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bunpg.Migrate(ctx, db); err != nil {
		t.Fatalf("bunpgtest: migrate %s: %v", cfg.Name, err)
	}
	return cfg, db
}

func exec(t testing.TB, admin bunpg.Config, query string) {
	t.Helper()
	db, err := bunpg.Open(admin)
	if err != nil {
		t.Fatalf("bunpgtest: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bunpg.Ping(ctx, db, admin); err != nil {
		t.Fatalf("bunpgtest: %v (start Postgres, or point AUTHD_TEST_PGHOST/AUTHD_TEST_PGPORT at one that trusts user postgres)", err)
	}
	if _, err := db.ExecContext(ctx, query); err != nil {
		t.Fatalf("bunpgtest: %s: %v", query, err)
	}
}
