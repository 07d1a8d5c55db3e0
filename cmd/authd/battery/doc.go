// Package battery is the automated fault and abuse part of the security and
// reliability battery (shared/spec/security-reliability.md §4), each test in
// the part that needs a real process; BATTERY.md maps all 46 tests to where
// they are automated. Every test runs the real authd binary, built
// once per run, against a throw-away Postgres cluster started with initdb
// and pg_ctl on a free loopback port: one cluster shared by the package,
// with a database per test, and a private one for the test that stops it.
//
// Run it on its own with
//
//	go test ./cmd/authd/battery/ -v
//
// It is also part of `go test ./...`. It needs Linux (it reads /proc) and
// the Postgres server binaries (initdb, pg_ctl: from AUTHD_BATTERY_PGBIN,
// else PATH, else /usr/lib/postgresql/*/bin); run as root, it also needs the
// `postgres` OS user and runuser, since Postgres refuses to run as root.
// With -v the tests print the figures worth quoting (latencies, RSS, counts).
//
// The package holds tests only; this file exists for the documentation.
package battery
