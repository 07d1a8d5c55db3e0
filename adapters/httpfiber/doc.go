// Package httpfiber is authd's HTTP driving adapter: better-auth 1.7.25's
// email/password API on Fiber v2, wire-compatible with the better-auth
// client (statuses, bodies, cookies, redirects; see the wire spec).
//
// Layout: server.go builds the app, routes.go lists the endpoints and their
// schemas, endpoint.go runs better-auth's request pipeline, handlers_*.go
// call the core engine, errors.go is the only place errors become
// responses, and the pure, fuzzed pieces live in origin.go (trusted origins
// and redirect targets), cookies.go (signed cookies), body.go and schema.go
// (request decoding) and ratelimit.go (limiter keys and client address).
package httpfiber
