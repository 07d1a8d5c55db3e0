package battery

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/cmd/authd/authdtest"
)

const (
	slowConns       = 200
	slowReadTimeout = 3 * time.Second
	// slowCloseSlack is how much later than the read timeout the server may
	// hang up on a trickling client.
	slowCloseSlack = 2 * time.Second
	// slowProbeLimit bounds a normal get-session while the slow clients
	// hold their connections.
	slowProbeLimit = time.Second
)

// TestSlowloris is battery 41 (header leg): 200 connections trickle a
// request header at one byte a second. A normal client must be served
// promptly meanwhile, and the server must hang up on each slow connection
// once the read timeout has passed.
func TestSlowloris(t *testing.T) {
	pg := sharedCluster(t)
	db := pg.migratedDB(t)
	a := startAuthd(t, authdEnv(pg, db, authdtest.FreeAddr(t)).with("HTTP_READ_TIMEOUT", slowReadTimeout.String()))

	email := uniqueEmail("slow")
	session := newClient(a)
	session.mustSignUp(t, email, "slow-password-1")
	var baseline []time.Duration
	for range 20 {
		r, err := session.get("/api/auth/get-session")
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("get-session: %v %v", r, err)
		}
		baseline = append(baseline, r.Latency)
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lifetime []time.Duration // from connect to the server's hang-up
		open     int
	)
	stop := make(chan struct{})
	stopTrickle := sync.OnceFunc(func() { close(stop) })
	var conns []net.Conn
	defer func() { // unblock and collect every reader and writer before authd is stopped
		stopTrickle()
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	for range slowConns {
		conn, err := net.DialTimeout("tcp", a.Addr, 5*time.Second)
		if err != nil {
			t.Fatalf("open slow connection: %v", err)
		}
		conns = append(conns, conn)
		opened := time.Now()
		if _, err := io.WriteString(conn, "GET /api/auth/get-session HTTP/1.1\r\nHost: "+a.Addr+"\r\nX-Slow: "); err != nil {
			t.Fatalf("write to slow connection: %v", err)
		}
		wg.Add(2)
		go func() { // one more header byte a second, until the server hangs up or the test ends
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
		go func() { // the server's hang-up ends the read (a 408 first is fine)
			defer wg.Done()
			_, _ = io.Copy(io.Discard, conn)
			mu.Lock()
			lifetime = append(lifetime, time.Since(opened))
			mu.Unlock()
		}()
	}

	var probes []time.Duration
	deadline := time.Now().Add(slowReadTimeout + slowCloseSlack + time.Second)
	for time.Now().Before(deadline) {
		r, err := session.get("/api/auth/get-session")
		switch {
		case err != nil:
			t.Errorf("get-session beside the slow clients: %v", err)
		case r.Status != http.StatusOK:
			t.Errorf("get-session beside the slow clients: %s", r)
		case r.Latency > slowProbeLimit:
			t.Errorf("get-session beside the slow clients took %s, want <= %s", r.Latency.Round(time.Millisecond), slowProbeLimit)
		}
		if r != nil {
			probes = append(probes, r.Latency)
		}
		time.Sleep(100 * time.Millisecond)
	}

	mu.Lock()
	closed := append([]time.Duration(nil), lifetime...)
	open = slowConns - len(closed)
	mu.Unlock()
	stopTrickle()
	t.Logf("slowloris: get-session p50 %s p99 %s max %s beside %d slow clients (baseline p50 %s)",
		percentile(probes, 50).Round(time.Microsecond), percentile(probes, 99).Round(time.Microsecond),
		percentile(probes, 100).Round(time.Microsecond), slowConns, percentile(baseline, 50).Round(time.Microsecond))
	t.Logf("slowloris: %d of %d slow connections closed by the server, after %s to %s (read timeout %s); %d still open",
		len(closed), slowConns, percentile(closed, 0).Round(time.Millisecond), percentile(closed, 100).Round(time.Millisecond), slowReadTimeout, open)
	if open > 0 {
		t.Errorf("%d slow connections still open %s after they started, want all closed within the read timeout (%s) + %s",
			open, slowReadTimeout+slowCloseSlack+time.Second, slowReadTimeout, slowCloseSlack)
	}
	if late := percentile(closed, 100); late > slowReadTimeout+slowCloseSlack {
		t.Errorf("the last slow connection was closed after %s, want <= %s", late.Round(time.Millisecond), slowReadTimeout+slowCloseSlack)
	}
	if len(probes) < 10 {
		t.Errorf("only %d get-session probes completed", len(probes))
	}
	if !a.alive() {
		t.Fatalf("authd exited: %v", a.exit)
	}
}
