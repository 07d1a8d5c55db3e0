package battery

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/cmd/authd/authdtest"
)

const (
	// pathFloodRequests distinct paths of pathFloodBytes each, as in issue 9:
	// keyed by raw path, 60 000 of them took authd from 20 MiB to 650 MiB.
	pathFloodRequests = 50_000
	pathFloodBytes    = 8000
	// pathFloodRSSLimit is generous: keyed by route, the flood adds a few
	// MiB of buffers; keyed by raw path it needs hundreds.
	pathFloodRSSLimit = 160 << 20
)

// TestDistinctPathFlood is issue 9's memory defect against the real binary:
// one client sends 50 000 requests to distinct 8 KB paths that match no
// route. Rate-limit counters are keyed by route, so they share one counter
// and the process stays small; with database storage no path reaches
// rate_limit.
func TestDistinctPathFlood(t *testing.T) {
	pg := sharedCluster(t)

	t.Run("memory", func(t *testing.T) {
		a := startAuthd(t, authdEnv(pg, pg.migratedDB(t), authdtest.FreeAddr(t)).with("AUTH_RATE_LIMIT_ENABLED", "true"))
		before, _, err := a.memory()
		if err != nil {
			t.Fatal(err)
		}
		statuses := floodPaths(t, a, "127.0.0.20", pathFloodRequests, pathFloodBytes)
		rss, peak, err := a.memory()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d requests to distinct %d-byte paths: %v; RSS %s before, %s after, peak %s",
			pathFloodRequests, pathFloodBytes, statuses, mib(before), mib(rss), mib(peak))
		if peak > pathFloodRSSLimit {
			t.Errorf("peak RSS %s, want at most %s: rate-limit state grows with distinct paths", mib(peak), mib(pathFloodRSSLimit))
		}
		if statuses[http.StatusTooManyRequests] == 0 {
			t.Errorf("no 429 among %v: unknown paths must share one budget", statuses)
		}
	})

	t.Run("database", func(t *testing.T) {
		name := pg.migratedDB(t)
		a := startAuthd(t, authdEnv(pg, name, authdtest.FreeAddr(t)).with("AUTH_RATE_LIMIT_ENABLED", "true", "AUTH_RATE_LIMIT_STORAGE", "database"))
		const secret = "Battery-Reset-Token-0123456789"
		c := newClient(a, fromIP("127.0.0.21"))
		for i := range 3 {
			if _, err := c.get(fmt.Sprintf("/api/auth/reset-password/%s%d?callbackURL=/", secret, i)); err != nil {
				t.Fatal(err)
			}
		}
		statuses := floodPaths(t, a, "127.0.0.21", 1000, 100)
		for s, n := range floodPaths(t, a, "127.0.0.21", 1000, pathFloodBytes) {
			statuses[s] += n
		}
		db := pg.open(t, name)
		rows := count(t, db, "SELECT count(*) FROM rate_limit")
		long := count(t, db, "SELECT count(*) FROM rate_limit WHERE octet_length(key) > 128")
		leaked := count(t, db, "SELECT count(*) FROM rate_limit WHERE key ILIKE ?", "%"+strings.ToLower(secret)+"%")
		t.Logf("2000 distinct paths and 3 reset links: %v; %d rate_limit rows", statuses, rows)
		if rows > 3 || long > 0 || leaked > 0 {
			t.Errorf("rate_limit has %d rows (want at most 3), %d over 128 bytes, %d holding the reset token", rows, long, leaked)
		}
		if statuses[http.StatusNotFound]+statuses[http.StatusTooManyRequests] != 2000 {
			t.Errorf("statuses %v, want only 404 and 429 (a long path must not make the limiter fail)", statuses)
		}
	})
}

// floodPaths sends n GETs to distinct random paths of size bytes under
// /api/auth from ip, on 8 connections, and counts the statuses.
func floodPaths(t *testing.T, a *authd, ip string, n, size int) map[int]int {
	t.Helper()
	c := newClient(a, fromIP(ip))
	var (
		next     atomic.Int64
		mu       sync.Mutex
		statuses = map[int]int{}
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
			b := make([]byte, size)
			for next.Add(1) <= int64(n) {
				for i := range b {
					b[i] = alphabet[rand.IntN(len(alphabet))]
				}
				res, err := c.hc.Get(a.Origin + "/api/auth/" + string(b))
				status := 0
				if err == nil {
					status = res.StatusCode
					_, _ = io.Copy(io.Discard, res.Body) // keeps the connection
					res.Body.Close()
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if statuses[0] > 0 || statuses[http.StatusRequestHeaderFieldsTooLarge] > 0 {
		t.Fatalf("requests failed: %v", statuses)
	}
	return statuses
}
