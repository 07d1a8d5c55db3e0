package jsuri

import "strings"

// Pair is one name/value of an application/x-www-form-urlencoded string,
// kept in order like URLSearchParams.
type Pair struct{ Key, Value string }

// ParseForm is the WHATWG urlencoded parser behind URLSearchParams: "+" is a
// space, a bad escape stays literal, and invalid UTF-8 becomes U+FFFD.
func ParseForm(s string) []Pair {
	var out []Pair
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		out = append(out, Pair{formDecode(k), formDecode(v)})
	}
	return out
}

func formDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	return strings.ToValidUTF8(UnescapeLenient(strings.ReplaceAll(s, "+", " ")), "\uFFFD")
}

// EncodeForm is URLSearchParams#toString.
func EncodeForm(pairs []Pair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		FormEscape(&b, p.Key)
		b.WriteByte('=')
		FormEscape(&b, p.Value)
	}
	return b.String()
}

// FormEscape writes s escaped as URLSearchParams escapes names and values:
// A-Z a-z 0-9 * - . _ stay, a space becomes "+", the rest %XX.
func FormEscape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || c == '*' || c == '-' || c == '.' || c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
}

// SetParam is URLSearchParams#set: the first pair named k takes v, later
// ones are dropped; a new name is appended.
func SetParam(pairs []Pair, k, v string) []Pair {
	out := pairs[:0:0]
	found := false
	for _, p := range pairs {
		if p.Key != k {
			out = append(out, p)
			continue
		}
		if !found {
			out = append(out, Pair{k, v})
			found = true
		}
	}
	if !found {
		out = append(out, Pair{k, v})
	}
	return out
}
