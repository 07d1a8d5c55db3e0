package emailtoken

import "go.uber.org/fx"

// Config holds the HMAC key that signs email tokens (APP_SECRET).
type Config struct {
	Secret []byte
}

// Module provides the *JWTSigner. It needs Config in the graph.
var Module = fx.Module("emailtoken",
	fx.Provide(func(c Config) (*JWTSigner, error) { return NewJWTSigner(c.Secret) }),
)
