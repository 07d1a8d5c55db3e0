package emailtoken_test

import (
	"errors"
	"testing"

	"go.uber.org/fx"

	"github.com/authd/authd/adapters/emailtoken"
)

func TestModuleRefusesAnEmptySecret(t *testing.T) {
	app := fx.New(emailtoken.Module, fx.NopLogger, fx.Supply(emailtoken.Config{}),
		fx.Invoke(func(*emailtoken.JWTSigner) {}))
	if !errors.Is(app.Err(), emailtoken.ErrEmptySecret) {
		t.Fatalf("err = %v, want ErrEmptySecret", app.Err())
	}
}
