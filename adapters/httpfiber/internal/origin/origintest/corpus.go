// Package origintest holds the redirect corpus (security battery E24) that
// both the pure origin tests and the HTTP tests run, against the trusted
// origins in Trusted and the base URL http://localhost:8100.
package origintest

// Trusted are the configured trusted origins the corpus assumes.
var Trusted = []string{"https://trusted.test", "*.wild.test", "myapp://"}

// Attacks must never be accepted as a redirect target.
var Attacks = []string{
	"https://evil.test", "//evil.test", `/\evil.test`, "/%5C/evil.test", "/%5c/evil.test", "/%2F%2Fevil.test",
	"/..%2F..%2Fevil.test", `\\evil.test`, "https://trusted.test.evil.test", "https://trusted.test@evil.test",
	"https://evil.test?.wild.test", "https://evil.test#.wild.test", "https://evil.test\\.wild.test",
	"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "http://trusted.test",
	"https://trusted.test:444", "/\t/evil.test", "/foo\nbar", "https:evil.test", "https:/evil.test",
	"https://evil.test%2F.wild.test", "https://%65vil.wild.test.evil.test", " https://trusted.test",
	"http://localhost:8100@evil.test", "http://localhost:8100\\@evil.test", "evil.test", "./x",
}

// Accepted must be accepted.
var Accepted = []string{
	"/dashboard?tab=a&b=c", "/", "https://trusted.test/cb", "https://trusted.test", "https://TRUSTED.test:443/x",
	"http://localhost:8100/after", "https://a.wild.test/cb", "myapp://callback/x", "/a%2e%2e/b#frag",
}
