// Package origin decides which origins and redirect targets are trusted,
// following better-auth's matchesOriginPattern (auth/trusted-origins.mjs).
// It is pure so that it can be fuzzed.
//
// Where better-auth leans on the WHATWG URL parser we accept only a strict
// subset of URLs instead: anything a browser could read differently from us
// (backslashes, userinfo, percent-encoded hosts, control characters, missing
// "//") is rejected, so the only possible disagreement with better-auth is
// refusing a URL it would have allowed.
package origin

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authd/authd/core/jsuri"
)

// Policy is the list of trusted origin patterns: the origin of the base
// URL followed by the configured trusted origins.
type Policy struct {
	patterns []string
}

// NewPolicy trusts the origin of baseURL and the trusted patterns.
func NewPolicy(baseURL string, trusted []string) Policy {
	var p Policy
	if o, ok := HTTPOrigin(baseURL); ok {
		p.patterns = append(p.patterns, o)
	}
	for _, t := range trusted {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		// better-auth compares an exact pattern with the URL's origin, so a
		// configured "https://app.example.com/" would never match; reduce such
		// entries to their origin instead of silently ignoring them.
		if !strings.ContainsAny(t, "*?") {
			if o, ok := HTTPOrigin(t); ok {
				t = o
			}
		}
		p.patterns = append(p.patterns, t)
	}
	return p
}

// Trusted reports whether u matches one of the patterns. Relative paths are
// accepted only when allowRelative is set and the path is safe.
func (p Policy) Trusted(u string, allowRelative bool) bool {
	if !utf8.ValidString(u) {
		return false
	}
	// Schemes that run code when navigated to are never a redirect target,
	// whatever the configuration says.
	if scheme, ok := urlScheme(u); ok && (scheme == "javascript" || scheme == "data" || scheme == "vbscript") {
		return false
	}
	// An absolute URL that a browser and Go could read differently (a bad
	// escape, a backslash, whitespace) is refused whatever the patterns say.
	if !strings.HasPrefix(u, "/") && (strings.ContainsAny(u, "\\ \t\r\n") || !jsuri.ValidEscapes(u)) {
		return false
	}
	for _, pat := range p.patterns {
		if matchesOriginPattern(u, pat, allowRelative) {
			return true
		}
	}
	return false
}

func matchesOriginPattern(u, pattern string, allowRelative bool) bool {
	if strings.HasPrefix(u, "/") {
		return allowRelative && isSafeRelativeURL(u)
	}
	wild := strings.ContainsAny(pattern, "*?")
	if wild && !strings.Contains(pattern, "://") {
		// A scheme-less wildcard matches the host. better-auth takes the host
		// of any scheme here (so "javascript://x.example.com/..." would pass
		// "*.example.com"); we only take it from http(s) URLs.
		pu, ok := parseHTTPURL(u)
		if !ok {
			return false
		}
		return globMatch(pattern, pu.host) && allowedIPv4Host(pattern, pu.host)
	}
	scheme, ok := urlScheme(u)
	if !ok || scheme == "http" || scheme == "https" {
		origin, ok := HTTPOrigin(u)
		if !ok {
			return false
		}
		if !wild {
			return pattern == origin
		}
		if !globMatch(pattern, origin) {
			return false
		}
		return allowedIPv4Host(pattern[strings.Index(pattern, "://")+3:], origin[strings.Index(origin, "://")+3:])
	}
	return matchesCustomScheme(u, pattern, wild)
}

// isSafeRelativeURL accepts root-relative paths that every browser and router
// resolves to the same origin (better-auth's isSafeRelativeURL).
func isSafeRelativeURL(v string) bool {
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.Contains(v, `\`) || hasControl(v) {
		return false
	}
	path := v
	if i := strings.IndexAny(v, "?#"); i >= 0 {
		path = v[:i]
	}
	return !hasEncodedSeparator(path)
}

// hasEncodedSeparator finds %2F or %5C in any letter case.
func hasEncodedSeparator(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		a, b := s[i+1], s[i+2]|0x20
		if (a == '2' && b == 'f') || (a == '5' && b == 'c') {
			return true
		}
	}
	return false
}

// hasControl matches better-auth's /[\u0000-\u001f\u007f-\u009f]/.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

type httpURL struct {
	scheme string // "http" or "https"
	host   string // lower-cased host with ":port" unless the port is the default
}

// parseHTTPURL parses an absolute http(s) URL in the strict form described in the package comment.
func parseHTTPURL(u string) (httpURL, bool) {
	scheme, ok := urlScheme(u)
	if !ok || (scheme != "http" && scheme != "https") {
		return httpURL{}, false
	}
	if hasControl(u) || strings.ContainsAny(u, "\\ ") {
		return httpURL{}, false
	}
	rest := u[len(scheme)+1:]
	if !strings.HasPrefix(rest, "//") {
		return httpURL{}, false
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	// Userinfo ("@") and percent-encoded hosts fail validHostname below.
	authority := strings.ToLower(rest[:end])
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		i := strings.IndexByte(host, ']')
		if i < 0 {
			return httpURL{}, false
		}
		if tail := host[i+1:]; tail != "" {
			if tail[0] != ':' {
				return httpURL{}, false
			}
			port = tail[1:]
		}
		host = host[:i+1]
		if !validIPv6Literal(host[1 : len(host)-1]) {
			return httpURL{}, false
		}
	} else {
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host, port = host[:i], host[i+1:]
		}
		if !validHostname(host) {
			return httpURL{}, false
		}
	}
	if port != "" || strings.HasSuffix(authority, ":") {
		n, err := strconv.Atoi(port)
		if port == "" || err != nil || n < 0 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return httpURL{}, false
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		} else {
			port = strconv.Itoa(n)
		}
	}
	if port != "" {
		host += ":" + port
	}
	return httpURL{scheme: scheme, host: host}, true
}

// HTTPOrigin returns the serialised origin ("https://host[:port]") of an
// absolute http(s) URL.
func HTTPOrigin(u string) (string, bool) {
	pu, ok := parseHTTPURL(u)
	if !ok {
		return "", false
	}
	return pu.scheme + "://" + pu.host, true
}

// urlScheme returns the lower-cased scheme of an absolute URL (RFC 3986:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ":").
func urlScheme(u string) (string, bool) {
	i := strings.IndexByte(u, ':')
	if i <= 0 {
		return "", false
	}
	for j := 0; j < i; j++ {
		c := u[j]
		alpha := c|0x20 >= 'a' && c|0x20 <= 'z'
		if !(alpha || (j > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
			return "", false
		}
	}
	return strings.ToLower(u[:i]), true
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.') {
			return false
		}
	}
	return !strings.HasPrefix(h, ".") && !strings.Contains(h, "..")
}

func validIPv6Literal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.') {
			return false
		}
	}
	return strings.Contains(s, ":")
}

// allowedIPv4Host: a wildcard host made only of digits, dots and wildcards
// ("192.168.*.*") names an address range, so it may only match an IPv4
// address; otherwise "*" would let "192.168.attacker.com" through.
func allowedIPv4Host(patternAuthority, authority string) bool {
	ph, _, _ := strings.Cut(patternAuthority, ":")
	digit := false
	for i := 0; i < len(ph); i++ {
		c := ph[i]
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' || c == '*' || c == '?':
		default:
			return true
		}
	}
	if !digit {
		return true
	}
	h, _, _ := strings.Cut(authority, ":")
	return isDottedIPv4(h)
}

// isDottedIPv4 accepts exactly four decimal octets without leading zeros.
func isDottedIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
			n = n*10 + int(p[i]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return true
}

// globMatch implements better-auth's wildcardMatch without a separator: "*"
// matches any run of characters, "?" exactly one, and "\" escapes the next
// character. It runs in O(len(p)·len(s)) with no backtracking blow-up.
func globMatch(pattern, s string) bool {
	type tok struct {
		r    rune
		kind byte // 'l' literal, '*' any run, '?' one
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch pr[i] {
		case '\\':
			if i+1 < len(pr) {
				i++
				toks = append(toks, tok{r: pr[i], kind: 'l'})
			}
		case '*':
			toks = append(toks, tok{kind: '*'})
		case '?':
			toks = append(toks, tok{kind: '?'})
		default:
			toks = append(toks, tok{r: pr[i], kind: 'l'})
		}
	}
	sr := []rune(s)
	// cur[j] reports whether toks[:i] matches sr[:j].
	cur := make([]bool, len(sr)+1)
	next := make([]bool, len(sr)+1)
	cur[0] = true
	for _, t := range toks {
		for j := range next {
			next[j] = false
		}
		switch t.kind {
		case '*':
			any := false
			for j := 0; j <= len(sr); j++ {
				any = any || cur[j]
				next[j] = any
			}
		default:
			for j := 1; j <= len(sr); j++ {
				next[j] = cur[j-1] && (t.kind == '?' || sr[j-1] == t.r)
			}
		}
		cur, next = next, cur
	}
	return cur[len(sr)]
}

// customSchemeURL is better-auth's parseCustomSchemeOrigin result.
type customSchemeURL struct {
	scheme, authority, path string
}

func parseCustomScheme(v string, wildcardPattern bool) (customSchemeURL, bool) {
	if hasControl(v) {
		return customSchemeURL{}, false
	}
	i := strings.IndexByte(v, ':')
	if i <= 0 {
		return customSchemeURL{}, false
	}
	out := customSchemeURL{scheme: strings.ToLower(v[:i])}
	rest := v[i+1:]
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		stops := "/?#"
		if wildcardPattern {
			stops = "/#"
		}
		if j := strings.IndexAny(rest, stops); j >= 0 {
			out.authority, rest = rest[:j], rest[j:]
		} else {
			out.authority, rest = rest, ""
		}
		out.authority = strings.ToLower(out.authority)
	}
	stops := "?#"
	if wildcardPattern {
		stops = "#"
	}
	if j := strings.IndexAny(rest, stops); j >= 0 {
		rest = rest[:j]
	}
	out.path = normalizeCustomPath(rest)
	return out, true
}

// normalizeCustomPath percent-decodes and resolves dot segments so that a
// path-pinned pattern cannot be escaped with "..".
func normalizeCustomPath(p string) string {
	if d, ok := jsuri.DecodeURIComponent(p); ok {
		p = d
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		case ".", "":
		default:
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return ""
	}
	return "/" + strings.Join(segs, "/")
}

func matchesCustomScheme(u, pattern string, wild bool) bool {
	pu, ok := parseCustomScheme(u, false)
	if !ok {
		return false
	}
	pp, ok := parseCustomScheme(pattern, wild)
	if !ok || pu.scheme != pp.scheme {
		return false
	}
	if wild {
		if strings.Contains(pu.authority, "@") {
			return false
		}
		if pp.authority != "" && !(globMatch(pp.authority, pu.authority) && allowedIPv4Host(pp.authority, pu.authority)) {
			return false
		}
		path := pu.path
		if path == "" {
			path = "/"
		}
		return pp.path == "" || globMatch(pp.path, path)
	}
	if pp.authority != "" && pu.authority != pp.authority {
		return false
	}
	return pp.path == "" || pu.path == pp.path || strings.HasPrefix(pu.path, pp.path+"/")
}
