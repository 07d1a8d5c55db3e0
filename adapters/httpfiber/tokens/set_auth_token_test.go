package tokens

import "testing"

// The bearer plugin's after-hook reads the session cookie as better-auth's
// parseSetCookieHeader does: a value, percent-decoded, unless the line
// clears the cookie (empty value or Max-Age=0).
func TestIssuedSessionCookie(t *testing.T) {
	const name = "better-auth.session_token"
	for line, want := range map[string]string{
		name + "=tok.sig%2B%2F%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax": "tok.sig+/=",
		name + "=tok.sig; Path=/; HttpOnly; SameSite=Lax":                          "tok.sig",
		name + "=tok.sig; max-age=0; Path=/":                                       "",
		name + "=tok.sig; Max-Age= 0 ; Path=/":                                     "",
		name + "=; Max-Age=0; Path=/":                                              "",
		name + "=; Path=/":                                                         "",
		"better-auth.session_data=x; Max-Age=300":                                  "",
	} {
		if got := issued(line, name); got != want {
			t.Errorf("issued(%q) = %q, want %q", line, got, want)
		}
	}
}
