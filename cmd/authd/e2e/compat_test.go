package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/authd/authd/adapters/bunpg"
	"github.com/authd/authd/adapters/bunpg/bunpgtest"
	"github.com/authd/authd/adapters/mail/smtptest"
	"github.com/authd/authd/adapters/password"
)

func startMailSink(t testing.TB, dir string) string {
	t.Helper()
	return smtptest.NewServer(t, smtptest.WithDir(dir)).Addr()
}

// TestDataCompatibility shares one database between authd and the
// better-auth library: users, sessions, cookies and password hashes written
// by either side must work on the other.
func TestDataCompatibility(t *testing.T) {
	dataCompatibility(t, func(t *testing.T, db bunpg.Config, mailDir string) *server {
		return startAuthd(t, db, startMailSink(t, mailDir))
	})
}

// TestReferenceDataCompatibility runs the same checks with the reference
// better-auth server in authd's place, proving the checks themselves.
func TestReferenceDataCompatibility(t *testing.T) {
	dataCompatibility(t, startReference)
}

// dataCompatibility checks a server (authd, or better-auth itself for the
// reference run) against the better-auth library on one database.
func dataCompatibility(t *testing.T, start func(t *testing.T, db bunpg.Config, mailDir string) *server) {
	installJS(t)
	db, bunDB := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	srv := start(t, db, mailDir)
	lib := &betterAuthLib{env: nodeEnv(db, "AUTHD_URL="+srv.Origin, "MAIL_DIR="+mailDir)}
	api := &httpAPI{base: srv.Origin + "/api/auth", origin: srv.Origin}

	// Passwords with compatibility characters: both sides hash NFKC(password).
	const libEmail, libPassword = "written-by-library@example.com", "Grüße aus ﬁnland"
	const srvEmail, srvPassword, srvPasswordNFKC = "written-by-server@example.com", "ﬁrst pässword", "first pässword"

	t.Run("a user the library wrote signs in over HTTP", func(t *testing.T) {
		created := lib.call(t, "sign-up", libEmail, libPassword, "From the library")
		user := created["user"].(map[string]any)

		status, body, cookie := api.do(t, http.MethodPost, "/sign-in/email", "", map[string]any{"email": libEmail, "password": libPassword})
		if status != http.StatusOK {
			t.Fatalf("server sign-in of a library-written user: %d %v", status, body)
		}
		sameJSON(t, "user from the server's sign-in vs the library's sign-up", body["user"], user)
		sameJSON(t, "user from the server's get-session", api.session(t, cookie)["user"], user)

		// The session the library created, with its signed cookie, is valid on the server.
		fromServer := api.session(t, created["cookie"].(string))
		if got := fromServer["session"].(map[string]any)["token"]; got != created["token"] {
			t.Fatalf("server read session %v from the library's cookie, want %v", got, created["token"])
		}
		sameJSON(t, "one session read by the server and by the library", fromServer, lib.call(t, "get-session", created["cookie"].(string)))

		status, body, _ = api.do(t, http.MethodPost, "/sign-in/email", "", map[string]any{"email": libEmail, "password": "Grüße aus finland?"})
		if status != http.StatusUnauthorized || body["code"] != "INVALID_EMAIL_OR_PASSWORD" {
			t.Fatalf("wrong password: want 401 INVALID_EMAIL_OR_PASSWORD, got %d %v", status, body)
		}
	})

	t.Run("a user the server wrote signs in through the library", func(t *testing.T) {
		status, body, cookie := api.do(t, http.MethodPost, "/sign-up/email", "", map[string]any{"name": "From the server", "email": srvEmail, "password": srvPassword})
		if status != http.StatusOK {
			t.Fatalf("server sign-up: %d %v", status, body)
		}
		user := body["user"].(map[string]any)

		signedIn := lib.call(t, "sign-in", srvEmail, srvPasswordNFKC)
		if signedIn["error"] != nil {
			t.Fatalf("the library cannot sign in a server-written user: %v", signedIn["error"])
		}
		sameJSON(t, "user from the library's sign-in vs the server's sign-up", signedIn["user"], user)

		fromLib := lib.call(t, "get-session", cookie)
		if fromLib == nil {
			t.Fatalf("the library does not accept the server's session cookie %q", cookie)
		}
		sameJSON(t, "one session read by the library and by the server", fromLib, api.session(t, cookie))

		wrong := lib.call(t, "sign-in", srvEmail, "first password")
		if e, _ := wrong["error"].(map[string]any); e == nil || e["code"] != "INVALID_EMAIL_OR_PASSWORD" {
			t.Fatalf("the library accepted a wrong password for a server-written user: %v", wrong)
		}
	})

	t.Run("credential accounts and password hashes", func(t *testing.T) {
		rows := credentialAccounts(t, bunDB)
		hashFormat := regexp.MustCompile(`^[0-9a-f]{32}:[0-9a-f]{128}$`)
		for _, email := range []string{libEmail, srvEmail} {
			a, ok := rows[email]
			if !ok || a.AccountID != a.UserID || !hashFormat.MatchString(a.Password) {
				t.Errorf("credential account of %s is missing or not in better-auth's form: %+v", email, a)
			}
		}
		if ok := lib.call(t, "verify", rows[srvEmail].Password, srvPasswordNFKC)["ok"]; ok != true {
			t.Errorf("the library rejects the hash the server stored: %s", rows[srvEmail].Password)
		}

		hasher := password.NewScryptHasher(2, 8)
		ctx := context.Background()
		if ok, err := hasher.Verify(ctx, rows[libEmail].Password, libPassword); !ok || err != nil {
			t.Errorf("authd's hasher rejects the hash the library stored: %v, %v", ok, err)
		}
		const password = "the same ﬁne password"
		goHash, err := hasher.Hash(ctx, password)
		if err != nil {
			t.Fatal(err)
		}
		for pw, want := range map[string]bool{password: true, "the same fine password": true, password + "!": false} {
			if ok := lib.call(t, "verify", goHash, pw)["ok"]; ok != want {
				t.Errorf("library verifyPassword(authd hash, %q) = %v, want %v", pw, ok, want)
			}
		}
		jsHash := lib.call(t, "hash", password)["hash"].(string)
		for pw, want := range map[string]bool{password: true, "the same fine password": true, password + "!": false} {
			if ok, err := hasher.Verify(ctx, jsHash, pw); err != nil || ok != want {
				t.Errorf("authd Verify(library hash, %q) = %v, %v; want %v", pw, ok, err, want)
			}
		}
	})
}

// TestCookieCacheCompatibility turns the session cookie cache on in both
// authd and the better-auth library: each must answer get-session from the
// other's session_data cookie alone. The session rows are deleted first, so
// only a cookie whose signature and format were accepted can answer.
func TestCookieCacheCompatibility(t *testing.T) {
	installJS(t)
	db, bunDB := bunpgtest.NewMigratedDatabase(t)
	mailDir := t.TempDir()
	srv := startAuthd(t, db, startMailSink(t, mailDir), "AUTH_COOKIE_CACHE_MAX_AGE=300s")
	lib := &betterAuthLib{env: nodeEnv(db, "AUTHD_URL="+srv.Origin, "MAIL_DIR="+mailDir, "COOKIE_CACHE_MAX_AGE=300")}
	api := &httpAPI{base: srv.Origin + "/api/auth", origin: srv.Origin}
	deleteSessions := func(t *testing.T) {
		t.Helper()
		if _, err := bunDB.ExecContext(context.Background(), "DELETE FROM session"); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the library answers from authd's cookie", func(t *testing.T) {
		// A name JSON escapes, to prove both sides serialise alike.
		status, body, cookie := api.do(t, http.MethodPost, "/sign-up/email", "",
			map[string]any{"name": "Zoë \"Q\" <tab>\t\u2028", "email": "cache-authd@example.com", "password": "a long enough password"})
		if status != http.StatusOK || !strings.Contains(cookie, "better-auth.session_data=") {
			t.Fatalf("sign-up: %d %v, cookies %q (want session_data)", status, body, cookie)
		}
		want := api.session(t, cookie)
		deleteSessions(t)
		sameJSON(t, "session the library read from authd's cache vs authd's get-session", lib.call(t, "get-session", cookie), want)
	})

	t.Run("authd answers from the library's cookie", func(t *testing.T) {
		created := lib.call(t, "sign-up", "cache-lib@example.com", "a long enough password", "Ünïcode “name”")
		cookie := created["cookie"].(string)
		if !strings.Contains(cookie, "better-auth.session_data=") {
			t.Fatalf("the library set no session_data cookie: %q", cookie)
		}
		want := lib.call(t, "get-session", cookie)
		deleteSessions(t)
		sameJSON(t, "session authd read from the library's cache vs the library's get-session", api.session(t, cookie), want)

		// Bypassing the cache reaches the database, where the session is gone.
		status, body, _ := api.do(t, http.MethodGet, "/get-session?disableCookieCache=true", cookie, nil)
		if status != http.StatusOK || body != nil {
			t.Fatalf("get-session bypassing the cache after the session was deleted: %d %v, want 200 null", status, body)
		}
	})

	t.Run("a tampered cache is refused", func(t *testing.T) {
		created := lib.call(t, "sign-up", "cache-tamper@example.com", "a long enough password", "Tamper")
		cookie := created["cookie"].(string)
		deleteSessions(t)
		if body := api.session(t, cookie); body["user"].(map[string]any)["emailVerified"] != false {
			t.Fatalf("untampered cache: %v", body)
		}
		forged := tamperSessionData(t, cookie, `"emailVerified":false`, `"emailVerified":true`)
		status, body, _ := api.do(t, http.MethodGet, "/get-session", forged, nil)
		if status != http.StatusOK || body != nil {
			t.Fatalf("get-session with a tampered cache: %d %v, want 200 null", status, body)
		}
	})
}

// tamperSessionData rewrites the JSON inside the session_data cookie of a
// Cookie header, keeping its signature.
func tamperSessionData(t *testing.T, header, old, repl string) string {
	t.Helper()
	parts := strings.Split(header, "; ")
	for i, p := range parts {
		v, ok := strings.CutPrefix(p, "better-auth.session_data=")
		if !ok {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !strings.Contains(string(raw), old) {
			t.Fatalf("session_data %q (%v) does not hold %s", raw, err, old)
		}
		parts[i] = "better-auth.session_data=" + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), old, repl, 1)))
		return strings.Join(parts, "; ")
	}
	t.Fatalf("no session_data in %q", header)
	return ""
}

// betterAuthLib runs js/compat.mjs commands (better-auth used as a library
// on the shared database).
type betterAuthLib struct{ env []string }

func (b *betterAuthLib) call(t *testing.T, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command(nodeTool(t, "node"), append([]string{"compat.mjs"}, args...)...)
	cmd.Dir = jsDir(t)
	cmd.Env = b.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node compat.mjs %s: %v\n%s", args[0], err, stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("node compat.mjs %s printed %q: %v", args[0], out, err)
	}
	return v
}

// httpAPI calls the server over HTTP as a same-origin browser would.
type httpAPI struct{ base, origin string }

func (a *httpAPI) do(t *testing.T, method, path, cookie string, body any) (int, map[string]any, string) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", a.origin)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: %d, body is not a JSON object: %v", method, path, res.StatusCode, err)
	}
	var cookies []string
	for _, c := range res.Cookies() {
		if c.Value != "" {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
	}
	return res.StatusCode, v, strings.Join(cookies, "; ")
}

func (a *httpAPI) session(t *testing.T, cookie string) map[string]any {
	t.Helper()
	status, body, _ := a.do(t, http.MethodGet, "/get-session", cookie, nil)
	if status != http.StatusOK || body == nil {
		t.Fatalf("server get-session with %q: %d %v", cookie, status, body)
	}
	return body
}

// sameJSON compares two decoded JSON values; dates must match to the
// millisecond as JSON strings, which is what a client sees.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s differ:\n got: %s\nwant: %s", what, g, w)
	}
}

type accountRow struct {
	UserID, AccountID, Password string
}

// credentialAccounts maps e-mail address to the user's credential account.
func credentialAccounts(t *testing.T, db *bun.DB) map[string]accountRow {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT u.email, a.user_id, a.account_id, coalesce(a.password, '')
		FROM account a JOIN "user" u ON u.id = a.user_id WHERE a.provider_id = 'credential'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]accountRow{}
	for rows.Next() {
		var email string
		var a accountRow
		if err := rows.Scan(&email, &a.UserID, &a.AccountID, &a.Password); err != nil {
			t.Fatal(err)
		}
		out[email] = a
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
