package config_test

import (
	"strings"
	"testing"
)

func TestOAuthProvidersAreValidatedByVariable(t *testing.T) {
	c, err := load(t, []string{"APP_ENV=production", "APP_SECRET=" + secret32, "AUTH_BASE_URL=https://example.com/api",
		"SMTP_HOST=mail", "AUTH_OAUTH_PROVIDERS=a,B!,c", "AUTH_OAUTH_A_PKCE=maybe", "AUTH_OAUTH_A_DISABLE_SIGN_UP=nah", "AUTH_OAUTH_A_DISCOVERY_URL=http://idp.example.com/x",
		"AUTH_OAUTH_C_CLIENT_ID=x", "AUTH_OAUTH_C_CLIENT_SECRET=y", "AUTH_OAUTH_C_DISCOVERY_URL=https://idp.example.com/.well-known/openid-configuration",
		"AUTH_SOCIAL_GITLAB_CLIENT_SECRET=s", "AUTH_SOCIAL_APPLE_CLIENT_ID=com.example", "AUTH_OAUTH_TIMEOUT=0s"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	if err == nil {
		t.Fatal("invalid providers accepted")
	}
	for _, want := range []string{
		"AUTH_OAUTH_A_CLIENT_ID is required", "AUTH_OAUTH_A_CLIENT_SECRET is required", "AUTH_OAUTH_A_PKCE must be true or false", "AUTH_OAUTH_A_DISABLE_SIGN_UP must be true or false",
		"AUTH_OAUTH_A_DISCOVERY_URL: must use https", `"B!" is not a provider id`, "AUTH_SOCIAL_GITLAB_CLIENT_ID is required",
		"AUTH_SOCIAL_APPLE_CLIENT_SECRET, or AUTH_SOCIAL_APPLE_TEAM_ID", "AUTH_OAUTH_TIMEOUT must be positive",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "AUTH_OAUTH_C_") {
		t.Errorf("a complete provider was refused:\n%v", err)
	}
}
