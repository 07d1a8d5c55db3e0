package core_test

import (
	"crypto/rand"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

const alphabet62 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// chiSquareCritical is the upper alpha-quantile of the chi-square
// distribution with df degrees of freedom, by the Wilson–Hilferty cube-root
// approximation (accurate to well under 1% at the df used here).
func chiSquareCritical(df int, alpha float64) float64 {
	z := math.Sqrt2 * math.Erfinv(1-2*alpha)
	k := float64(df)
	c := 1 - 2/(9*k) + z*math.Sqrt(2/(9*k))
	return k * c * c * c
}

// chiSquare is Pearson's statistic of counts against a uniform spread.
func chiSquare(counts []int, total int) float64 {
	want := float64(total) / float64(len(counts))
	var x float64
	for _, n := range counts {
		d := float64(n) - want
		x += d * d / want
	}
	return x
}

// uniformity tests tokens over alphabet: one chi-square per position, with
// a Bonferroni share of alpha each so that the family of positions is
// wrongly rejected at most alpha of the time, and one over every symbol of
// every token, which catches a small bias (such as byte % 62 without
// rejection sampling) that no single position has the samples to show.
// It returns a description of each rejection.
func uniformity(tokens []string, alphabet string, alpha float64) (problems []string, pooledStat, pooledCrit float64) {
	index := map[byte]int{}
	for i := range len(alphabet) {
		index[alphabet[i]] = i
	}
	length := len(tokens[0])
	df := len(alphabet) - 1
	posCrit := chiSquareCritical(df, alpha/float64(length))
	pooled := make([]int, len(alphabet))
	for pos := range length {
		counts := make([]int, len(alphabet))
		for _, tok := range tokens {
			counts[index[tok[pos]]]++
			pooled[index[tok[pos]]]++
		}
		if x := chiSquare(counts, len(tokens)); x > posCrit {
			problems = append(problems, fmt.Sprintf("position %d: chi-square %.1f > %.1f", pos, x, posCrit))
		}
	}
	pooledStat, pooledCrit = chiSquare(pooled, len(tokens)*length), chiSquareCritical(df, alpha)
	if pooledStat > pooledCrit {
		problems = append(problems, fmt.Sprintf("all positions: chi-square %.1f > %.1f", pooledStat, pooledCrit))
	}
	return problems, pooledStat, pooledCrit
}

// Security battery 10: 20 000 session tokens and 2 000 reset tokens have
// the right form, are all distinct, and are not told apart from uniform
// draws by a chi-square test at p = 0.001. The test is shown to have the
// power to see the classic modulo bias.
func TestTokenEntropyAndUniqueness(t *testing.T) {
	e := newEnv(t, nil)
	e.signUp("u@x.test", "12345678")
	const sessions, resets = 20_000, 2_000
	seen := make(map[string]bool, sessions+resets)
	sessionTokens := make([]string, 0, sessions)
	for range sessions {
		tok := e.signIn("u@x.test", "12345678").Session.Token()
		if !alnum32.MatchString(tok) || seen[tok] {
			t.Fatalf("bad or repeated session token %q", tok)
		}
		seen[tok] = true
		sessionTokens = append(sessionTokens, tok)
		// The memory store copies its tables per transaction: keep the
		// session table small.
		if err := e.auth.SignOut(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	resetRe := regexp.MustCompile(`^[A-Za-z0-9]{24}$`)
	resetTokens := make([]string, 0, resets)
	for range resets {
		e.clock.Advance(time.Minute) // one reset mail per cooldown
		if err := e.auth.RequestPasswordReset(ctx, "u@x.test", ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range e.mail.all() {
		tok := strings.TrimPrefix(link(t, m).Path, "/api/auth/reset-password/")
		if !resetRe.MatchString(tok) || seen[tok] {
			t.Fatalf("bad or repeated reset token %q", tok)
		}
		seen[tok] = true
		resetTokens = append(resetTokens, tok)
	}
	if len(resetTokens) != resets {
		t.Fatalf("%d reset mails, want %d", len(resetTokens), resets)
	}

	const alpha = 0.001
	for name, toks := range map[string][]string{"session": sessionTokens, "reset": resetTokens} {
		problems, stat, crit := uniformity(toks, alphabet62, alpha)
		t.Logf("%s tokens: pooled chi-square %.1f (critical %.1f at p=%g, df 61)", name, stat, crit, alpha)
		for _, p := range problems {
			t.Errorf("%s tokens not uniform: %s", name, p)
		}
	}

	// Power: tokens drawn with byte % 62 (no rejection sampling) make the
	// first 8 symbols 25% likelier; the same test must reject them.
	biased := make([]string, sessions)
	buf := make([]byte, 32)
	for i := range biased {
		if _, err := rand.Read(buf); err != nil {
			t.Fatal(err)
		}
		for j, b := range buf {
			buf[j] = alphabet62[int(b)%62]
		}
		biased[i] = string(buf)
	}
	if problems, stat, crit := uniformity(biased, alphabet62, alpha); len(problems) == 0 {
		t.Fatalf("the test cannot see modulo bias: pooled chi-square %.1f <= %.1f", stat, crit)
	}
}
