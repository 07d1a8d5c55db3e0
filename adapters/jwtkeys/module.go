package jwtkeys

import (
	"go.uber.org/fx"

	"github.com/authd/authd/core/tokens"
)

// Config holds the app secret that seals the private keys (APP_SECRET).
type Config struct {
	Secret string
}

// Module provides *Keys as tokens.KeyCrypto. It needs Config in the graph.
var Module = fx.Module("jwtkeys",
	fx.Provide(fx.Annotate(func(c Config) (*Keys, error) { return New(c.Secret) }, fx.As(new(tokens.KeyCrypto)))),
)
