package origin

import (
	"strconv"
	"strings"
)

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
