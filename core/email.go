package core

import "strings"

// maxEmailLength is RFC 5321's limit on a forward path.
const maxEmailLength = 254

// NormalizeEmail validates an address the way better-auth's schema does (zod's
// email pattern: ASCII local part of [A-Za-z0-9_'+.-], no leading dot, no "..",
// dotted ASCII domain with a 2+ letter TLD) and returns it lower-cased. Because
// the pattern admits no control characters, no CR/LF can reach a mail header.
func NormalizeEmail(s string) (string, error) {
	if len(s) == 0 || len(s) > maxEmailLength {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrInvalidEmail
	}
	local, domain := s[:at], s[at+1:]
	if !validLocal(local) || !validDomain(domain) {
		return "", ErrInvalidEmail
	}
	return strings.ToLower(s), nil
}

func validLocal(l string) bool {
	if l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(isAlnum(c) || c == '_' || c == '\'' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	// zod requires the last local character to be one of [A-Za-z0-9_+-].
	return l[len(l)-1] != '\''
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for i, lab := range labels {
		if lab == "" || !isAlnum(lab[0]) {
			return false
		}
		for j := 0; j < len(lab); j++ {
			if !(isAlnum(lab[j]) || lab[j] == '-') {
				return false
			}
		}
		if i == len(labels)-1 {
			if len(lab) < 2 {
				return false
			}
			for j := 0; j < len(lab); j++ {
				if !isAlpha(lab[j]) {
					return false
				}
			}
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }
