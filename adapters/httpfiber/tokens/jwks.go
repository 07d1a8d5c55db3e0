package tokens

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	coretokens "github.com/authd/authd/core/tokens"
)

// GET /jwks: public, {"keys":[…]} with one entry per published key, built
// as better-auth builds it: {alg, crv, ...public JWK, kid}, a later member
// replacing an earlier one of the same name in its place.
func (h handlers) jwks(c *fiber.Ctx, _ *endpoint.Request, _ *struct{}) error {
	keys, err := h.Tokens.PublicKeys(c.UserContext())
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(`{"keys":[`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJWK(&b, k); err != nil {
			return err
		}
	}
	b.WriteString(`]}`)
	return endpoint.SendJSON(c, b.Bytes())
}

type member struct {
	name  string
	value json.RawMessage
}

func writeJWK(b *bytes.Buffer, k coretokens.Key) error {
	var ms []member
	set := func(name string, v json.RawMessage) {
		for i := range ms {
			if ms[i].name == name {
				ms[i].value = v
				return
			}
		}
		ms = append(ms, member{name, v})
	}
	alg := k.Alg
	if alg == "" {
		alg = coretokens.DefaultAlg
	}
	set("alg", quote(alg))
	// A NULL crv with no keyPairConfig is undefined in better-auth, which
	// JSON drops; the public JWK names the curve anyway.
	if k.Crv != "" {
		set("crv", quote(k.Crv))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(k.PublicKey)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("jwks: key %s: public_key is not a JSON object", k.ID)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("jwks: key %s: %w", k.ID, err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("jwks: key %s: %w", k.ID, err)
		}
		set(t.(string), v)
	}
	set("kid", quote(k.ID))
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(quote(m.name))
		b.WriteByte(':')
		if err := json.Compact(b, m.value); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

func quote(s string) json.RawMessage {
	q, _ := json.Marshal(s)
	return q
}
