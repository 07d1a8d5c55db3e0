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
