// Package tokens issues JSON Web Tokens of a session's user for other
// services, as better-auth 1.7's jwt plugin does: signed with the newest key
// of table jwks, which is created on first use (never at start-up), rotated
// after RotationInterval and published for GracePeriod after it expired.
//
// Keys are cached in memory: better-auth reads the table on every session
// read (its issue #3954). The cache is re-read every Options.Refresh and
// always before a key is created, and instances sharing a database make a
// key one at a time (Deps.Lock), so they settle on one key that all their
// JWKS list.
package tokens

import (
	"context"
	"time"
)

// Key is a row of table jwks. PublicKey is the public JWK's JSON text and
// PrivateKey the stored form of the private JWK (encrypted with the app
// secret); both are opaque to this package and read only by KeyCrypto. An
// empty Alg or Crv stands for NULL; a NULL alg means DefaultAlg.
type Key struct {
	ID         string
	PublicKey  string
	PrivateKey string
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never
	Alg        string
	Crv        string
}

// Live reports whether k may still sign at now.
func (k Key) Live(now time.Time) bool { return k.ExpiresAt == nil || k.ExpiresAt.After(now) }

// KeyRepository stores Keys. Failures to reach the store are
// core.ErrUnavailable (wrapped), as for every repository port.
type KeyRepository interface {
	// Create inserts k; core.ErrDuplicate when the id exists.
	Create(ctx context.Context, k Key) error
	// List returns every key, expired ones included, in no particular order.
	List(ctx context.Context) ([]Key, error)
}

// KeyCrypto is the JOSE side: key generation, the stored private-key format
// and signing.
type KeyCrypto interface {
	// Generate makes a key pair for alg, returning the public JWK's JSON, the
	// stored form of the private key, and the curve ("" when alg has none).
	Generate(alg string) (publicJWK, privateKey, crv string, err error)
	// Signer opens k's private key (alg is k.Alg, or DefaultAlg when NULL).
	// A key that cannot be opened (another secret, a damaged row) is an
	// error, never a reason to make a new key.
	Signer(k Key, alg string) (Signer, error)
}

// Signer signs JWT claims with one key. It must be safe for concurrent use.
type Signer interface {
	// Sign returns the compact JWS of payload, whose protected header is
	// exactly {"alg","kid"} with kid = the key's id.
	Sign(payload []byte) (string, error)
}
