package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const fixturePassword = "correct-horse-battery-staple"

type fixtureUser struct {
	email  string
	cookie string // "better-auth.session_token=<token>.<sig>" exactly as set
}

// token is the session token inside the signed cookie value "<token>.<sig>".
func (u fixtureUser) token() (string, error) {
	_, v, _ := strings.Cut(u.cookie, "=")
	v, err := url.QueryUnescape(v)
	if err != nil {
		return "", err
	}
	i := strings.LastIndexByte(v, '.')
	if i <= 0 {
		return "", fmt.Errorf("session cookie of %s is not <token>.<signature>", u.email)
	}
	return v[:i], nil
}

type fixtures struct {
	run   string // distinguishes this run's emails from any earlier run's
	users []fixtureUser
}

type bench struct {
	ctx  context.Context
	opts options
	srv  *authd
	fx   *fixtures
	tmp  string
}

func (b *bench) post(path string, v any) *http.Request {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	req, err := http.NewRequest(http.MethodPost, b.srv.origin+basePath+path, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.srv.origin)
	return req
}

func (b *bench) getSessionRequest(cookie string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, b.srv.origin+basePath+"/get-session", nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Cookie", cookie)
	return req
}

// createFixtures signs up n users through the API; each sign-up also opens
// the session whose cookie get-session will present. A few workers per core
// suffice: every sign-up is one scrypt hash.
func createFixtures(ctx context.Context, srv *authd, n int) (*fixtures, error) {
	fx := &fixtures{run: randomHex(4), users: make([]fixtureUser, n)}
	b := &bench{ctx: ctx, srv: srv, fx: fx}
	client := newClient(2 * runtime.NumCPU())
	defer client.CloseIdleConnections()
	next := make(chan int)
	errc := make(chan error, 2*runtime.NumCPU())
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				u, err := b.signUpFixture(client, k)
				if err != nil {
					errc <- err
					return
				}
				fx.users[k] = u
			}
		}()
	}
	var err error
feed:
	for k := range n {
		select {
		case next <- k:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	return fx, b.verifyCookie(client, fx.users[0])
}

func (b *bench) signUpFixture(client *http.Client, k int) (fixtureUser, error) {
	email := fmt.Sprintf("fixture-%s-%d@example.com", b.fx.run, k)
	for attempt := 0; ; attempt++ {
		req := b.post("/sign-up/email", map[string]string{"name": "Bench User " + strconv.Itoa(k), "email": email, "password": fixturePassword})
		resp, err := client.Do(req.WithContext(b.ctx))
		if err != nil {
			return fixtureUser{}, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// 503 is the hasher's queue being full, which a loaded machine may
		// show even for this small a burst.
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < 5 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return fixtureUser{}, fmt.Errorf("sign-up %s: %s: %.300s", email, resp.Status, body)
		}
		for _, c := range resp.Cookies() {
			if c.Name == cookieName && c.Value != "" {
				return fixtureUser{email: email, cookie: cookieName + "=" + c.Value}, nil
			}
		}
		return fixtureUser{}, fmt.Errorf("sign-up %s: no %s cookie in the response", email, cookieName)
	}
}

func (b *bench) verifyCookie(client *http.Client, u fixtureUser) error {
	resp, err := client.Do(b.getSessionRequest(u.cookie).WithContext(b.ctx))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var got struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || got.User.Email != u.email {
		return fmt.Errorf("get-session with a fresh sign-up's cookie: %s, user %q, decode error %v", resp.Status, got.User.Email, err)
	}
	return nil
}

func sessionPresent(body []byte) error {
	if len(body) == 0 || body[0] != '{' {
		return errNoSession
	}
	return nil
}

func (b *bench) getSession() (result, error) {
	b.srv.quiesce(b.ctx)
	progress("get-session, %d connections, %s", b.opts.conns, b.opts.duration)
	r := runLoad(b.ctx, b.srv, b.getSessionWorkload())
	progress("get-session: %.0f req/s, p99 %s, %d errors", r.rps, r.p99, r.errors)
	return r, b.ctx.Err()
}

// cookieCacheGetSession measures get-session answered from the session_data
// cookie on cached, an instance with the cookie cache on: each fixture user's
// cache cookie is fetched once, then every request carries it.
func (b *bench) cookieCacheGetSession(cached *authd) (result, error) {
	cb := *b
	cb.srv = cached
	client := newClient(1)
	defer client.CloseIdleConnections()
	cookies := make([]string, len(b.fx.users))
	for k, u := range b.fx.users {
		resp, err := client.Do(cb.getSessionRequest(u.cookie).WithContext(b.ctx))
		if err != nil {
			return result{}, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == cacheCookieName && c.Value != "" {
				cookies[k] = u.cookie + "; " + cacheCookieName + "=" + c.Value
			}
		}
		if cookies[k] == "" {
			return result{}, fmt.Errorf("get-session with the cookie cache on set no %s cookie (%s)", cacheCookieName, resp.Status)
		}
	}
	cached.quiesce(b.ctx)
	progress("get-session (cookie cache), %d connections, %s", b.opts.conns, b.opts.duration)
	w := cb.getSessionWorkload()
	w.name = "get-session (cookie cache)"
	w.build = func(i, j int) *http.Request {
		return cb.getSessionRequest(cookies[(i+j*b.opts.conns)%len(cookies)])
	}
	r := runLoad(b.ctx, cached, w)
	progress("get-session (cookie cache): %.0f req/s, p99 %s, %d errors", r.rps, r.p99, r.errors)
	return r, b.ctx.Err()
}

// signIn spreads the workers over the fixture users; every sign-in opens a
// new session, as it would in production.
func (b *bench) signIn(name string, conns int) (result, error) {
	b.srv.quiesce(b.ctx)
	progress("%s, %d connections, %s", name, conns, b.opts.duration)
	w := b.signInWorkload(conns)
	w.name = name
	r := runLoad(b.ctx, b.srv, w)
	progress("%s: %.1f req/s, p99 %s, %d errors", name, r.rps, r.p99, r.errors)
	return r, b.ctx.Err()
}

func (b *bench) getSessionWorkload() workload {
	users := b.fx.users
	return workload{
		name: "get-session", conns: b.opts.conns, dur: b.opts.duration, warmup: min(time.Second, b.opts.duration/5),
		build: func(w, i int) *http.Request {
			return b.getSessionRequest(users[(w+i*b.opts.conns)%len(users)].cookie)
		},
		check: sessionPresent,
	}
}

func (b *bench) signInWorkload(conns int) workload {
	users := b.fx.users
	return workload{
		name: "sign-in", conns: conns, dur: b.opts.duration,
		build: func(w, i int) *http.Request {
			u := users[(w+i*conns)%len(users)]
			return b.post("/sign-in/email", map[string]string{"email": u.email, "password": fixturePassword})
		},
	}
}

func (b *bench) signUp() (result, error) {
	b.srv.quiesce(b.ctx)
	progress("sign-up, %d connections, %s", b.opts.conns, b.opts.duration)
	r := runLoad(b.ctx, b.srv, workload{
		name: "sign-up", conns: b.opts.conns, dur: b.opts.duration,
		build: func(w, i int) *http.Request {
			email := fmt.Sprintf("signup-%s-%d-%d@example.com", b.fx.run, w, i)
			return b.post("/sign-up/email", map[string]string{"name": "Bench Sign-up", "email": email, "password": fixturePassword})
		},
	})
	progress("sign-up: %.1f req/s, p99 %s, %d errors", r.rps, r.p99, r.errors)
	return r, b.ctx.Err()
}

var errNoProfiler = errors.New("neither authd's pprof endpoint (AUTHD_PPROF_ADDR) nor perf is available")

// tokens measures the bearer and jwt plugins on instances of their own
// (same database and fixtures), so that the default instance's figures stay
// those of the default configuration: get-session with Authorization:
// Bearer and no cookie, then GET /token with the cookie.
func (b *bench) tokens(bin, root string, pg *postgres, db, secret string) (bearer, token, jwtSession result, err error) {
	bearers := make([]string, len(b.fx.users))
	for k, u := range b.fx.users {
		_, v, _ := strings.Cut(u.cookie, "=")
		if bearers[k], err = url.QueryUnescape(v); err != nil {
			return result{}, result{}, result{}, err
		}
	}
	run := func(env, name, path string, header func(k int) (string, string)) (result, error) {
		srv, err := startAuthd(b.ctx, bin, root, b.tmp, pg, db, secret, append(append([]string{}, b.opts.authdEnv...), env))
		if srv != nil {
			defer srv.stop()
		}
		if err != nil {
			return result{}, err
		}
		cb := *b
		cb.srv = srv
		w := cb.getSessionWorkload()
		w.name = name
		w.build = func(i, j int) *http.Request {
			req, err := http.NewRequest(http.MethodGet, srv.origin+basePath+path, nil)
			if err != nil {
				panic(err)
			}
			req.Header.Set(header((i + j*b.opts.conns) % len(bearers)))
			return req
		}
		if path == "/token" {
			w.check = func(body []byte) error {
				if !bytes.HasPrefix(body, []byte(`{"token":"`)) {
					return errNoSession
				}
				return nil
			}
		}
		srv.quiesce(b.ctx)
		progress("%s, %d connections, %s", name, b.opts.conns, b.opts.duration)
		r := runLoad(b.ctx, srv, w)
		progress("%s: %.0f req/s, p99 %s, %d errors", name, r.rps, r.p99, r.errors)
		return r, b.ctx.Err()
	}
	bearer, err = run("AUTH_BEARER_ENABLED=true", "get-session (bearer)", "/get-session", func(k int) (string, string) {
		return "Authorization", "Bearer " + bearers[k]
	})
	if err != nil {
		return bearer, result{}, result{}, err
	}
	token, err = run("AUTH_JWT_ENABLED=true", "/token (cookie)", "/token", func(k int) (string, string) {
		return "Cookie", b.fx.users[k].cookie
	})
	if err != nil {
		return bearer, token, result{}, err
	}
	// With the jwt plugin on, every get-session with a session also signs
	// the set-auth-jwt header.
	jwtSession, err = run("AUTH_JWT_ENABLED=true", "get-session (jwt plugin on)", "/get-session", func(k int) (string, string) {
		return "Cookie", b.fx.users[k].cookie
	})
	return bearer, token, jwtSession, err
}
