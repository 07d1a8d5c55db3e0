package origin

import (
	"strings"

	"github.com/authd/authd/core/jsuri"
)

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
