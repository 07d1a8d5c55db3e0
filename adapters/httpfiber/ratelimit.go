package httpfiber

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/authd/authd/core/jsuri"
)

// Rate limiting follows better-auth's limiter (wire spec §9.2), keyed
// "<ip>|<path>", with the client address taken from the socket unless the
// socket is a trusted proxy.

// noTrustedIP is better-auth's shared fail-closed key part for requests whose
// client address cannot be established.
const noTrustedIP = "no-trusted-ip"

type rateRule struct {
	window time.Duration
	max    int
}

var (
	ruleDefault   = rateRule{60 * time.Second, 100}
	ruleSensitive = rateRule{10 * time.Second, 3}
	ruleMail      = rateRule{60 * time.Second, 3}
)

// ruleFor picks better-auth's built-in rule for a path relative to the base
// path (as produced by rateLimitPath).
func ruleFor(path string) rateRule {
	for _, p := range []string{"/sign-in", "/sign-up", "/change-password", "/change-email"} {
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
	return ruleDefault
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
// socket is a trusted proxy, in which case X-Forwarded-For is walked from the
// right and the first untrusted hop wins. ok is false when a trusted proxy
// sent no usable chain; callers then fail closed.
func clientIP(remote netip.Addr, xff string, trusted []netip.Prefix) (netip.Addr, bool) {
	remote = remote.Unmap()
	if !remote.IsValid() {
		return netip.Addr{}, false
	}
	if !inPrefixes(remote, trusted) {
		return remote, true
	}
	hops := strings.Split(xff, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil || a.Zone() != "" {
			return netip.Addr{}, false
		}
		a = a.Unmap()
		if inPrefixes(a, trusted) {
			continue
		}
		return a, true
	}
	return netip.Addr{}, false
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
