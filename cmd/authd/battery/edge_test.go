package battery

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/authd/authd/cmd/authd/authdtest"
)

// TestEdgeHardening covers issue 9's smaller defects that show from
// outside: forwarding headers with ports, no-store on the list routes, the
// cookie cache of a large session, and the connection cap.
func TestEdgeHardening(t *testing.T) {
	pg := sharedCluster(t)
	a := startAuthd(t, authdEnv(pg, pg.migratedDB(t), authdtest.FreeAddr(t)).with(
		"AUTH_RATE_LIMIT_ENABLED", "true", "AUTH_TRUSTED_PROXIES", "127.0.0.1",
		"AUTH_COOKIE_CACHE_MAX_AGE", "300s", "HTTP_MAX_CONNS", "6"))

	t.Run("forwarded client with a port", func(t *testing.T) {
		c := newClient(a)
		signIn := func(header, value string) int {
			req, _ := http.NewRequest(http.MethodPost, a.Origin+"/api/auth/sign-in/email",
				strings.NewReader(`{"email":"nobody@battery.test","password":"wrong-password-1"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", a.Origin)
			req.Header.Set(header, value)
			res, err := c.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for _, port := range []string{"4711", "4712", "4713"} {
			if s := signIn("X-Forwarded-For", "203.0.113.5:"+port); s != http.StatusUnauthorized {
				t.Fatalf("sign-in from 203.0.113.5:%s: %d, want 401", port, s)
			}
		}
		if s := signIn("X-Forwarded-For", "203.0.113.5:4714"); s != http.StatusTooManyRequests {
			t.Errorf("4th sign-in of 203.0.113.5: %d, want 429", s)
		}
		// Another client keeps its budget: before, every address with a
		// port fell into one shared fail-closed bucket.
		if s := signIn("X-Forwarded-For", "[2001:db8::5]:4711"); s != http.StatusUnauthorized {
			t.Errorf("sign-in from [2001:db8::5]:4711: %d, want 401", s)
		}
		if s := signIn("Forwarded", `for="198.51.100.7:80";proto=http`); s != http.StatusUnauthorized {
			t.Errorf("sign-in with Forwarded for=198.51.100.7:80: %d, want 401", s)
		}
	})

	t.Run("list routes are not stored", func(t *testing.T) {
		c := newClient(a, fromIP("127.0.0.30"))
		c.mustSignUp(t, uniqueEmail("nostore"), "nostore-password-1")
		for _, p := range []string{"/api/auth/list-sessions", "/api/auth/list-accounts"} {
			r, err := c.get(p)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
				// The body holds session tokens: not logged.
				t.Errorf("GET %s: %d, Cache-Control %q; want 200 with no-store", p, r.Status, r.Header.Get("Cache-Control"))
			}
		}
	})

	t.Run("large session with the cookie cache", func(t *testing.T) {
		c := newClient(a, fromIP("127.0.0.31"))
		r, err := c.post("/api/auth/sign-up/email", map[string]any{
			"name": strings.Repeat("n", 6000), "email": uniqueEmail("bigname"), "password": "bigname-password-1"})
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("sign-up with a 6000-character name: %v %v", r, err)
		}
		r, err = c.get("/api/auth/get-session")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusOK {
			t.Errorf("get-session after a large sign-up: %s, want 200 (the cookies must fit the 8 KiB header limit)", r)
		}
	})

	t.Run("connection cap", func(t *testing.T) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		// The other subtests' idle keep-alive connections count too; fill
		// up to the cap of 6 and check that one more is refused.
		for range 7 {
			conn, err := net.Dial("tcp", a.Addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
			if _, err := conn.Write([]byte("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
				return // closed at once: refused past the cap
			}
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err == nil && strings.Contains(line, " 503 ") {
				return
			}
			if err != nil || !strings.Contains(line, " 200 ") {
				t.Fatalf("connection %d: %q %v", len(conns), line, err)
			}
		}
		t.Errorf("%d connections held with HTTP_MAX_CONNS=6", len(conns))
	})
}
