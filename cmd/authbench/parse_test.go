package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The testdata files are wrk 4.1.0's real output (Debian package), against a
// loopback server answering 200 and 404.
func TestParseWrk(t *testing.T) {
	tests := []struct {
		file     string
		ok, errs int
		rps      float64
		p50, p99 time.Duration
		max      time.Duration
	}{
		{"wrk-ok.txt", 778, 0, 776.47, 2030 * time.Microsecond, 40160 * time.Microsecond, 51240 * time.Microsecond},
		{"wrk-non2xx.txt", 0, 1545, 0, 930 * time.Microsecond, 46710 * time.Microsecond, 58390 * time.Microsecond},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseWrk(string(b))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if r.ok != tt.ok || r.errors != tt.errs || r.rps != tt.rps || r.p50 != tt.p50 || r.p99 != tt.p99 || r.max != tt.max {
			t.Errorf("%s: got ok=%d errors=%d rps=%v p50=%v p99=%v max=%v", tt.file, r.ok, r.errors, r.rps, r.p50, r.p99, r.max)
		}
	}
	if _, err := parseWrk("wrk: connection refused"); err == nil {
		t.Error("parseWrk accepted output without results")
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i))
	}
	for q, want := range map[float64]time.Duration{0.5: 50, 0.99: 99, 1: 100, 0.001: 1} {
		if got := percentile(s, q); got != want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", q, got, want)
		}
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("percentile of one = %v", got)
	}
}

func TestReadPgbenchLog(t *testing.T) {
	// pgbench 15's per-transaction log: client_id transaction_no time(us) script_no time_epoch time_us.
	path := filepath.Join(t.TempDir(), "pgbench_log.123")
	data := "0 1 250 0 1764139000 123456\n1 1 1250 0 1764139000 123999\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	lat, err := readPgbenchLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != 2 || lat[0] != 250*time.Microsecond || lat[1] != 1250*time.Microsecond {
		t.Errorf("latencies = %v", lat)
	}
	if err := os.WriteFile(path, []byte("0 1 x 0 1 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readPgbenchLog(path); err == nil {
		t.Error("a malformed latency was accepted")
	}
}

func TestFixtureToken(t *testing.T) {
	// The cookie value as authd sets it: token, a dot, the URL-escaped base64 HMAC.
	u := fixtureUser{email: "a@example.com", cookie: "better-auth.session_token=OxTcgds9uvTu8FX3MF4fysVHpbej8ORd.pRbFY%2FeUTJFzOygiEjDrw58ELsFD%2FNgcjc1Knn7iXFk%3D"}
	tok, err := u.token()
	if err != nil || tok != "OxTcgds9uvTu8FX3MF4fysVHpbej8ORd" {
		t.Errorf("token() = %q, %v", tok, err)
	}
	if _, err := (fixtureUser{cookie: "better-auth.session_token=unsigned"}).token(); err == nil {
		t.Error("a cookie without a signature was accepted")
	}
}

func TestProcTicksOfThisProcess(t *testing.T) {
	// Burn CPU until the counter moves past a clock tick; on a busy machine
	// that can take longer than the tick itself, so only a generous bound fails.
	start := procTicks("self")
	deadline := time.Now().Add(5 * time.Second)
	got := start
	for x := 0; got <= start && time.Now().Before(deadline); x++ {
		_ = strings.Repeat("x", x%64)
		if x%10000 == 0 {
			got = procTicks("self")
		}
	}
	if got <= start {
		t.Errorf("procTicks(self) did not advance in 5 s of spinning: %v then %v", start, got)
	}
	m, err := procMemory(os.Getpid())
	if err != nil || m.rss <= 0 || m.hwm < m.rss || m.anon <= 0 || m.file <= 0 || m.anon+m.file > m.rss {
		t.Errorf("procMemory = %+v, %v", m, err)
	}
}
