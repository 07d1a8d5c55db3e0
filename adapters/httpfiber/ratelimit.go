package httpfiber

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/authd/authd/core/jsuri"
)

// Rate limiting follows better-auth's limiter (wire spec §9.2), keyed
// "<ip>|<route>", with the client address taken from the socket unless the
// socket is a trusted proxy. better-auth keys by the raw path; keyed so, every
// distinct path would be a counter (a row, with database storage) of its own,
// and a path's secrets (reset tokens) would be stored with it. The route is
// the pattern the canonical path matches, or unmatchedRoute.

// noTrustedIP is better-auth's shared fail-closed key part for requests whose
// client address cannot be established.
const noTrustedIP = "no-trusted-ip"

// unmatchedRoute is the one route every path that names no route is
// counted under.
const unmatchedRoute = "/*"

// rateRoutes are the route patterns, relative to the base path and lower
// case like the paths rateLimitPath produces.
type rateRoutes struct {
	static map[string]bool
	params [][]string // segments of patterns with ":name" segments
}

func (r *rateRoutes) add(pattern string) {
	if !strings.Contains(pattern, "/:") {
		if r.static == nil {
			r.static = map[string]bool{}
		}
		r.static[pattern] = true
		return
	}
	r.params = append(r.params, strings.Split(pattern, "/"))
}

// match names the route a canonical path falls under, without keeping any
// of the path: a parameter stays ":name".
func (r *rateRoutes) match(path string) string {
	if r.static[path] {
		return path
	}
	segs := strings.Split(path, "/")
next:
	for _, pat := range r.params {
		if len(pat) != len(segs) {
			continue
		}
		for i, p := range pat {
			if !strings.HasPrefix(p, ":") && p != segs[i] {
				continue next
			}
		}
		return strings.Join(pat, "/")
	}
	return unmatchedRoute
}

type rateRule struct {
	window time.Duration
	max    int
}

var (
	// ruleDefault is better-auth's rateLimit.window and .max when unset.
	ruleDefault   = rateRule{10 * time.Second, 100}
	ruleSensitive = rateRule{10 * time.Second, 3}
	ruleMail      = rateRule{60 * time.Second, 3}
)

// ruleFor picks better-auth's built-in rule for a route relative to the base
// path (as produced by rateRoutes.match); other routes get def.
func ruleFor(path string, def rateRule) rateRule {
	// "/two-factor/" is the twoFactor plugin's rule (the same 3 per 10 s).
	for _, p := range []string{"/sign-in", "/sign-up", "/change-password", "/change-email", "/two-factor/"} {
		if strings.HasPrefix(path, p) {
			return ruleSensitive
		}
	}
	switch {
	case path == "/request-password-reset", path == "/send-verification-email",
		strings.HasPrefix(path, "/forget-password"),
		path == "/email-otp/send-verification-otp", path == "/email-otp/request-password-reset":
		return ruleMail
	}
	return def
}

// rateLimitPath canonicalises a raw request path so that spellings of one
// route share a bucket: the query and fragment go, escapes are decoded,
// backslashes become slashes, the case is folded, repeated slashes and dot
// segments collapse, trailing slashes go, and the base path is cut off (paths
// outside it are kept whole, as better-auth does).
func rateLimitPath(raw, basePath string) string {
	if i := strings.IndexAny(raw, "?#;"); i >= 0 {
		raw = raw[:i]
	}
	p := strings.ToLower(strings.ReplaceAll(lenientPathDecode(raw), `\`, "/"))
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	p = "/" + strings.Join(segs, "/")
	base := strings.ToLower(basePath)
	switch {
	case p == base:
		return "/"
	case strings.HasPrefix(p, base+"/"):
		return p[len(base):]
	}
	return p
}

// lenientPathDecode decodes %XX escapes (repeatedly, so %252F cannot hide a
// slash behind a second layer) and leaves malformed ones alone.
func lenientPathDecode(s string) string {
	for range 3 {
		s = jsuri.UnescapeLenient(s)
	}
	return s
}

// clientIP resolves the client address: the socket address, unless the
// socket is a trusted proxy, in which case the forwarding chain is walked
// from the right and the first untrusted hop wins. The chain is
// X-Forwarded-For (xff) or RFC 7239 Forwarded (fwd); a proxy that writes one
// passes the other through from the client, so when both came, both must name
// the same client. ok is false when a trusted proxy sent no usable chain;
// callers then fail closed.
func clientIP(remote netip.Addr, xff, fwd string, trusted []netip.Prefix) (netip.Addr, bool) {
	remote = remote.Unmap()
	if !remote.IsValid() {
		return netip.Addr{}, false
	}
	if !inPrefixes(remote, trusted) {
		return remote, true
	}
	xffHops, fwdHops := splitList(xff), forwardedFor(fwd)
	switch {
	case len(fwdHops) == 0:
		return rightmostUntrusted(xffHops, trusted)
	case len(xffHops) == 0:
		return rightmostUntrusted(fwdHops, trusted)
	}
	a, ok := rightmostUntrusted(xffHops, trusted)
	b, okB := rightmostUntrusted(fwdHops, trusted)
	if !ok || !okB || a != b {
		return netip.Addr{}, false
	}
	return a, true
}

// rightmostUntrusted walks hops from the right past trusted proxies. A hop
// that is no address (garbage, or Forwarded's "unknown" and obfuscated
// "_name") ends the walk unresolved: it stands where the client should be,
// and everything left of it came from the client.
func rightmostUntrusted(hops []string, trusted []netip.Prefix) (netip.Addr, bool) {
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseNode(hops[i])
		if !ok {
			return netip.Addr{}, false
		}
		if inPrefixes(a, trusted) {
			continue
		}
		return a, true
	}
	return netip.Addr{}, false
}

// splitList splits a comma-separated header, dropping empty entries.
func splitList(h string) []string {
	var out []string
	for _, p := range strings.Split(h, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseNode reads a hop: an address, optionally with a port, IPv6 in
// brackets when it has one ("203.0.113.5:4711", "[2001:db8::5]:4711").
// Ports, obfuscated ones ("_a1") included, are dropped.
func parseNode(h string) (netip.Addr, bool) {
	host := h
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 || !validPort(h[end+1:]) {
			return netip.Addr{}, false
		}
		host = h[1:end]
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		if !validPort(h[i:]) {
			return netip.Addr{}, false
		}
		host = h[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// validPort accepts "", or ":" and a port number or RFC 7239 obfuscated port.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if len(p) < 2 || p[0] != ':' {
		return false
	}
	p = p[1:]
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			if !isAlnumByte(p[i]) && p[i] != '.' && p[i] != '_' && p[i] != '-' {
				return false
			}
		}
		return true
	}
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && len(p) <= 5 && n > 0
}

// forwardedFor lists the for= node of each RFC 7239 Forwarded element,
// unquoted, left to right. An element without for= yields "" (no address),
// so that it cannot be skipped over.
func forwardedFor(h string) []string {
	var out []string
	for _, elem := range splitQuoted(h, ',') {
		if strings.TrimSpace(elem) == "" {
			continue
		}
		node := ""
		for _, pair := range splitQuoted(elem, ';') {
			k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if strings.EqualFold(strings.TrimSpace(k), "for") {
				node = unquote(strings.TrimSpace(v))
			}
		}
		out = append(out, node)
	}
	return out
}

// splitQuoted splits s at sep outside quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote undoes an RFC 7230 quoted-string; a token is returned as is.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' && i+1 < len(v)-1 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// rateKeyIP is better-auth's normalizeIP: IPv4 as is, IPv6 cut to its /64
// and written out in full, so every spelling of one network shares a bucket.
func rateKeyIP(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	b := netip.PrefixFrom(a, 64).Masked().Addr().As16()
	var sb strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x%02x", b[i], b[i+1])
	}
	return sb.String()
}
