package emailpassword

import "testing"

const testBaseURL = "http://localhost:8100/api/auth"

func TestRedirectTargetsLikeBetterAuth(t *testing.T) {
	for _, tc := range []struct{ base, ref, k, v, want string }{
		{testBaseURL, "/reset", "token", "abc", "http://localhost:8100/reset?token=abc"},
		{testBaseURL, "/reset?a=b c&token=old&token=x", "token", "t", "http://localhost:8100/reset?a=b+c&token=t"},
		{testBaseURL, "https://trusted.test/cb#frag", "error", "INVALID_TOKEN", "https://trusted.test/cb?error=INVALID_TOKEN#frag"},
		{testBaseURL, "", "error", "INVALID_TOKEN", "http://localhost:8100/api/auth/error?error=INVALID_TOKEN"},
	} {
		if got := resolveWithParam(tc.base, tc.ref, tc.k, tc.v); got != tc.want {
			t.Errorf("resolveWithParam(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"/x": "/x?error=E", "/x?y=1": "/x?y=1&error=E", "/x?": "/x?error=E", "/x?y=1&": "/x?y=1&error=E", "/x#f": "/x?error=E#f",
	} {
		if got := appendQueryParam(in, "error", "E"); got != want {
			t.Errorf("appendQueryParam(%q) = %q, want %q", in, got, want)
		}
	}
}
