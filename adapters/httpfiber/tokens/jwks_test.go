package tokens

import (
	"bytes"
	"testing"

	coretokens "github.com/authd/authd/core/tokens"
)

// /jwks entries are better-auth's {alg, crv, ...JSON.parse(publicKey), kid}:
// later members replace earlier ones in place, a NULL crv is left out, a
// NULL alg is EdDSA.
func TestJWKEntryIsBuiltAsBetterAuthBuildsIt(t *testing.T) {
	for _, tc := range []struct {
		key  coretokens.Key
		want string
	}{
		{coretokens.Key{ID: "k1", Alg: "EdDSA", Crv: "Ed25519", PublicKey: `{"crv":"Ed25519","x":"AbC","kty":"OKP"}`},
			`{"alg":"EdDSA","crv":"Ed25519","x":"AbC","kty":"OKP","kid":"k1"}`},
		{coretokens.Key{ID: "k2", PublicKey: `{"kty":"OKP", "crv":"Ed25519", "x":"AbC"}`},
			`{"alg":"EdDSA","kty":"OKP","crv":"Ed25519","x":"AbC","kid":"k2"}`},
		{coretokens.Key{ID: "k3", Alg: "RS256", PublicKey: `{"kty":"RSA","n":"q","e":"AQAB","alg":"RS256","kid":"stale"}`},
			`{"alg":"RS256","kty":"RSA","n":"q","e":"AQAB","kid":"k3"}`},
	} {
		var b bytes.Buffer
		if err := writeJWK(&b, tc.key); err != nil || b.String() != tc.want {
			t.Errorf("%s: %s (%v)\nwant %s", tc.key.ID, b.String(), err, tc.want)
		}
	}
	for _, bad := range []string{`[]`, `"x"`, `{"x":`, ``} {
		var b bytes.Buffer
		if err := writeJWK(&b, coretokens.Key{ID: "bad", PublicKey: bad}); err == nil {
			t.Errorf("public_key %q accepted", bad)
		}
	}
}
