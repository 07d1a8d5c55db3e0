package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/adapters/jwtkeys"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
)

type jwksRow struct {
	ID         string     `json:"id"`
	PublicKey  string     `json:"publicKey"`
	PrivateKey string     `json:"privateKey"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	Alg        string     `json:"alg"`
	Crv        string     `json:"crv"`
}

type jwtKeysRun struct {
	Token string          `json:"token"`
	JWKS  json.RawMessage `json:"jwks"`
	Rows  []jwksRow       `json:"rows"`
	User  struct {
		ID            string    `json:"id"`
		Name          string    `json:"name"`
		Email         string    `json:"email"`
		EmailVerified bool      `json:"emailVerified"`
		Image         *string   `json:"image"`
		CreatedAt     time.Time `json:"createdAt"`
		UpdatedAt     time.Time `json:"updatedAt"`
	} `json:"user"`
}

// TestJWTKeyFormatMatchesBetterAuth runs the real jwt plugin (js/jwt-keys.mjs)
// on keys of both kinds: authd must open, publish and sign like better-auth
// with a key better-auth made, and better-auth must sign with a key authd
// made; for the same user and second the two servers' claims are
// byte-identical.
func TestJWTKeyFormatMatchesBetterAuth(t *testing.T) {
	installJS(t)
	keys, err := jwtkeys.New(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, crv, err := keys.Generate("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	ours := jwksRow{ID: "authdMadeThisKey0123456789abcdef", PublicKey: pub, PrivateKey: priv, Alg: "EdDSA", Crv: crv}
	rowJSON, _ := json.Marshal(ours)
	outPath := filepath.Join(t.TempDir(), "out.json")
	env := append(inheritedEnv(), "TZ=UTC", "JWT_KEYS_SECRET="+testSecret, "JWT_KEYS_ROW="+string(rowJSON), "JWT_KEYS_OUT="+outPath)
	if err := runNode(t, env, "jwt-keys.mjs"); err != nil {
		t.Fatalf("jwt-keys.mjs: %v", err)
	}
	raw, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Fresh, Seeded jwtKeysRun }
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}

	// Rows better-auth makes look like ours, member order included.
	if len(out.Fresh.Rows) != 1 {
		t.Fatalf("better-auth made %d keys, want 1", len(out.Fresh.Rows))
	}
	theirs := out.Fresh.Rows[0]
	shape := regexp.MustCompile(`^\{"crv":"Ed25519","x":"[A-Za-z0-9_-]{43}","kty":"OKP"\}$`)
	for _, r := range []jwksRow{theirs, ours} {
		if !shape.MatchString(r.PublicKey) {
			t.Errorf("public_key %s: not exportJWK's form", r.PublicKey)
		}
		if !regexp.MustCompile(`^"[0-9a-f]+"$`).MatchString(r.PrivateKey) {
			t.Errorf("private_key %.40s…: want a JSON string of lower-case hex", r.PrivateKey)
		}
	}
	if len(theirs.PrivateKey) != len(ours.PrivateKey) || theirs.Alg != "EdDSA" || theirs.Crv != "Ed25519" || theirs.ExpiresAt != nil {
		t.Errorf("better-auth's row %+v differs in form from ours %+v", theirs, ours)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(theirs.ID) {
		t.Errorf("better-auth's key id %q", theirs.ID)
	}

	// authd opens better-auth's private key: it is the pair of the public one.
	plain, err := keys.Open(theirs.PrivateKey)
	if err != nil {
		t.Fatalf("opening better-auth's private key: %v", err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(plain); err != nil {
		t.Fatal(err)
	}
	theirPub := publicKey(t, theirs.PublicKey)
	if !jwk.Key.(ed25519.PrivateKey).Public().(ed25519.PublicKey).Equal(theirPub) {
		t.Fatal("better-auth's private key does not match its public key")
	}

	// better-auth's token: header exactly {alg,kid}, verifies with the row.
	checkJWT(t, "better-auth's token", out.Fresh.Token, theirs.ID, theirPub)
	// better-auth signed with authd's key, so it opened authd's private key.
	if len(out.Seeded.Rows) != 1 {
		t.Errorf("seeded with authd's key, better-auth now has %d keys", len(out.Seeded.Rows))
	}
	checkJWT(t, "better-auth's token with authd's key", out.Seeded.Token, ours.ID, publicKey(t, ours.PublicKey))
	wantJWKS := `{"keys":[{"alg":"EdDSA","crv":"Ed25519","x":"` + jwkX(t, ours.PublicKey) + `","kty":"OKP","kid":"` + ours.ID + `"}]}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, out.Seeded.JWKS); err != nil {
		t.Fatal(err)
	}
	if compact.String() != wantJWKS {
		t.Errorf("better-auth's JWKS with authd's key\n got %s\nwant %s", out.Seeded.JWKS, wantJWKS)
	}

	// authd's claims for better-auth's user in the same second are the same;
	// the signature is by the same key, which authd opened. (better-auth's
	// memory adapter drops the undefined image, which its Postgres adapter
	// reads as null, and orders members by insertion, so the claims are
	// compared as values.)
	iat := claimsOf(t, out.Fresh.Token)["iat"].(float64)
	u := out.Fresh.User
	view := core.SessionView{User: core.RehydrateUser(core.UserRecord{ID: u.ID, Name: u.Name, Email: u.Email,
		EmailVerified: u.EmailVerified, Image: u.Image, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt})}
	svc := tokens.New(tokens.Deps{Keys: &fixedKeys{k: tokens.Key{ID: theirs.ID, PublicKey: theirs.PublicKey,
		PrivateKey: theirs.PrivateKey, CreatedAt: theirs.CreatedAt, Alg: theirs.Alg, Crv: theirs.Crv}},
		Crypto: keys, Clock: &core.FixedClock{T: time.Unix(int64(iat), 0)}},
		tokens.DefaultOptions("http://localhost:3000", "http://localhost:3000"))
	mine, err := svc.Token(t.Context(), view)
	if err != nil {
		t.Fatal(err)
	}
	got, want := claimsOf(t, mine), claimsOf(t, out.Fresh.Token)
	if _, ok := want["image"]; !ok && got["image"] == nil {
		want["image"] = nil
	}
	if !reflect.DeepEqual(got, want) || strings.Split(mine, ".")[0] != strings.Split(out.Fresh.Token, ".")[0] {
		t.Errorf("authd's token differs from better-auth's for the same user, key and second:\n authd %s\n  b-a  %s",
			decode(t, strings.Split(mine, ".")[1]), decode(t, strings.Split(out.Fresh.Token, ".")[1]))
	}
	checkJWT(t, "authd's token", mine, theirs.ID, theirPub)
}

type fixedKeys struct{ k tokens.Key }

// Create refuses: the test's key is already there, so none may be made.
func (f *fixedKeys) Create(context.Context, tokens.Key) error   { return core.ErrDuplicate }
func (f *fixedKeys) List(context.Context) ([]tokens.Key, error) { return []tokens.Key{f.k}, nil }

func publicKey(t *testing.T, jwkJSON string) ed25519.PublicKey {
	t.Helper()
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(jwkJSON)); err != nil {
		t.Fatal(err)
	}
	return jwk.Key.(ed25519.PublicKey)
}

func jwkX(t *testing.T, jwkJSON string) string {
	var m map[string]string
	if err := json.Unmarshal([]byte(jwkJSON), &m); err != nil {
		t.Fatal(err)
	}
	return m["x"]
}

func decode(t *testing.T, seg string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(decode(t, strings.Split(token, ".")[1])), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func checkJWT(t *testing.T, what, token, kid string, pub ed25519.PublicKey) {
	t.Helper()
	if h, want := decode(t, strings.Split(token, ".")[0]), `{"alg":"EdDSA","kid":"`+kid+`"}`; h != want {
		t.Errorf("%s: header %s, want %s", what, h, want)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if _, err := jws.Verify(pub); err != nil {
		t.Errorf("%s does not verify with the key's public half: %v", what, err)
	}
	c := claimsOf(t, token)
	if _, isString := c["aud"].(string); !isString || c["exp"].(float64)-c["iat"].(float64) != 900 || c["sub"] != c["id"] {
		t.Errorf("%s: claims %v", what, c)
	}
}
