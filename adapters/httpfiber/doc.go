// Package httpfiber is authd's HTTP driving adapter: better-auth 1.7.25's
// email/password API on Fiber v2, wire-compatible with the better-auth
// client (statuses, bodies, cookies, redirects; see the wire spec).
//
// Layout: this package builds the app (server.go, module.go for fx), runs
// the middleware every request passes (middleware.go: request id,
// deadline, panics, access log, CORS; ratelimit.go: limiter keys and the
// client address), answers the probes and better-auth's /ok and /error
// (probes.go, ready.go), assembles the route table from the feature groups
// (routes.go), and is the one place errors become responses (errors.go).
//
// Each feature is a package with its route table and handlers:
// emailpassword (sign-up, sign-in, password reset, email verification),
// sessions (get-session, session lists and revocation, sign-out) and account
// (update-user, passwords, change-email, delete-user, list-accounts). They
// share internal/endpoint (better-auth's request pipeline, session cookies
// and the cookie cache) and the small pure packages under internal/: body
// (strict decoding, typed inputs), cookie (signed cookies), origin (trusted
// origins and redirect targets), jsonw (JSON writer) and apierror.
package httpfiber
