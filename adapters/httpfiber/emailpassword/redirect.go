package emailpassword

import (
	"net/url"
	"strings"

	"github.com/authd/authd/core/jsuri"
)

// resolveWithParam is better-auth's redirectCallback/redirectError:
// new URL(ref, base) with searchParams.set(k, v), returned as an absolute URL.
// ref must already have passed the redirect checks.
func resolveWithParam(base, ref, k, v string) string {
	if ref == "" {
		ref = strings.TrimRight(base, "/") + "/error"
	}
	b, err := url.Parse(base)
	if err != nil {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	u := b.ResolveReference(r)
	u.RawQuery = jsuri.EncodeForm(jsuri.SetParam(jsuri.ParseForm(u.RawQuery), k, v))
	u.ForceQuery = false
	return u.String()
}

// appendQueryParam is better-auth's appendQueryParams for one parameter: the
// existing query text is kept as it is, and a root-relative input stays
// relative.
func appendQueryParam(input, k, v string) string {
	var b strings.Builder
	jsuri.FormEscape(&b, k)
	b.WriteByte('=')
	jsuri.FormEscape(&b, v)
	q := b.String()
	frag := ""
	if i := strings.IndexByte(input, '#'); i >= 0 {
		input, frag = input[:i], input[i:]
	}
	switch {
	case !strings.Contains(input, "?"):
		input += "?" + q
	case strings.HasSuffix(input, "&") || strings.HasSuffix(input, "?"):
		input += q
	default:
		input += "&" + q
	}
	return input + frag
}
