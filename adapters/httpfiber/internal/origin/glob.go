package origin

// globMatch implements better-auth's wildcardMatch without a separator: "*"
// matches any run of characters, "?" exactly one, and "\" escapes the next
// character. It runs in O(len(p)·len(s)) with no backtracking blow-up.
func globMatch(pattern, s string) bool {
	type tok struct {
		r    rune
		kind byte // 'l' literal, '*' any run, '?' one
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch pr[i] {
		case '\\':
			if i+1 < len(pr) {
				i++
				toks = append(toks, tok{r: pr[i], kind: 'l'})
			}
		case '*':
			toks = append(toks, tok{kind: '*'})
		case '?':
			toks = append(toks, tok{kind: '?'})
		default:
			toks = append(toks, tok{r: pr[i], kind: 'l'})
		}
	}
	sr := []rune(s)
	// cur[j] reports whether toks[:i] matches sr[:j].
	cur := make([]bool, len(sr)+1)
	next := make([]bool, len(sr)+1)
	cur[0] = true
	for _, t := range toks {
		for j := range next {
			next[j] = false
		}
		switch t.kind {
		case '*':
			any := false
			for j := 0; j <= len(sr); j++ {
				any = any || cur[j]
				next[j] = any
			}
		default:
			for j := 1; j <= len(sr); j++ {
				next[j] = cur[j-1] && (t.kind == '?' || sr[j-1] == t.r)
			}
		}
		cur, next = next, cur
	}
	return cur[len(sr)]
}
