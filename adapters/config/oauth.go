package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strings"

	"github.com/joho/godotenv"
)

// OAuthProviders are the configured identity providers: generic ones
// (AUTH_OAUTH_PROVIDERS and AUTH_OAUTH_<ID>_*, better-auth's genericOAuth)
// and built-in ones (AUTH_SOCIAL_<NAME>_*, better-auth's socialProviders),
// on when their client id is set.
type OAuthProviders struct {
	Generic []GenericOAuth
	Builtin []BuiltinOAuth
	// problems found while reading, reported by Validate.
	problems []string
}

// GenericOAuth is one AUTH_OAUTH_<ID>_* group; <ID> is the provider id
// upper-cased with "-" as "_".
type GenericOAuth struct {
	ID                                      string
	ClientID                                string
	ClientSecret                            Secret
	DiscoveryURL                            string
	AuthorizationURL, TokenURL, UserInfoURL string
	Scopes                                  []string
	PKCE                                    bool
	// DisableSignUp refuses new users; DisableImplicitSignUp refuses them
	// unless the sign-in asks for sign-up (requestSignUp).
	DisableSignUp, DisableImplicitSignUp bool
}

// BuiltinOAuth is one AUTH_SOCIAL_<NAME>_* group.
type BuiltinOAuth struct {
	Name              string // github, google, discord, microsoft, apple, gitlab
	ClientID          string
	ClientSecret      Secret
	TenantID, BaseURL string // Microsoft tenant; GitHub/GitLab server
	TeamID, KeyID     string // Apple: the client secret is a JWT signed with PrivateKey
	PrivateKey        Secret
}

// BuiltinProviders are the names AUTH_SOCIAL_<NAME>_* accepts.
var BuiltinProviders = []string{"github", "google", "discord", "microsoft", "apple", "gitlab"}

var providerID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// oauthEnv is the environment these variables are read from: the
// process's, over .env in development (as for the fixed keys).
func oauthEnv(proc map[string]string, dev bool, dotenv string) map[string]string {
	out := map[string]string{}
	if dev {
		if dotenv == "" {
			dotenv = DefaultDotenvFile
		}
		if m, err := godotenv.Read(dotenv); err == nil {
			maps.Copy(out, m)
		}
	}
	maps.Copy(out, proc)
	return out
}

func envPrefix(id string) string { return strings.ToUpper(strings.ReplaceAll(id, "-", "_")) }

func readOAuth(ids []string, env map[string]string) OAuthProviders {
	var out OAuthProviders
	for _, id := range ids {
		p := "AUTH_OAUTH_" + envPrefix(id) + "_"
		g := GenericOAuth{ID: id, ClientID: env[p+"CLIENT_ID"], ClientSecret: Secret(env[p+"CLIENT_SECRET"]),
			DiscoveryURL: env[p+"DISCOVERY_URL"], AuthorizationURL: env[p+"AUTHORIZATION_URL"],
			TokenURL: env[p+"TOKEN_URL"], UserInfoURL: env[p+"USER_INFO_URL"],
			Scopes: splitScopes(env[p+"SCOPES"])}
		g.PKCE = boolVar(&out, p+"PKCE", env[p+"PKCE"], true)
		g.DisableSignUp = boolVar(&out, p+"DISABLE_SIGN_UP", env[p+"DISABLE_SIGN_UP"], false)
		g.DisableImplicitSignUp = boolVar(&out, p+"DISABLE_IMPLICIT_SIGN_UP", env[p+"DISABLE_IMPLICIT_SIGN_UP"], false)
		out.Generic = append(out.Generic, g)
	}
	for _, name := range BuiltinProviders {
		p := "AUTH_SOCIAL_" + strings.ToUpper(name) + "_"
		b := BuiltinOAuth{Name: name, ClientID: env[p+"CLIENT_ID"], ClientSecret: Secret(env[p+"CLIENT_SECRET"]),
			TenantID: env[p+"TENANT_ID"], BaseURL: env[p+"BASE_URL"], TeamID: env[p+"TEAM_ID"], KeyID: env[p+"KEY_ID"],
			PrivateKey: Secret(env[p+"PRIVATE_KEY"])}
		if b.ClientID != "" || b.ClientSecret != "" {
			out.Builtin = append(out.Builtin, b)
		}
	}
	return out
}

// boolVar reads a boolean variable, dflt when unset; anything else than
// true/false/1/0 is a problem Validate reports.
func boolVar(out *OAuthProviders, name, v string, dflt bool) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return dflt
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	out.problems = append(out.problems, fmt.Sprintf("%s must be true or false (got %q)", name, v))
	return dflt
}

// splitScopes takes space- or comma-separated scopes.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func (c Config) validateOAuth() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Auth.OAuthTimeout <= 0 {
		add("AUTH_OAUTH_TIMEOUT must be positive (got %s)", c.Auth.OAuthTimeout)
	}
	for _, p := range c.OAuth.problems {
		errs = append(errs, errors.New(p))
	}
	seen := map[string]bool{}
	for _, g := range c.OAuth.Generic {
		p := "AUTH_OAUTH_" + envPrefix(g.ID) + "_"
		switch {
		case !providerID.MatchString(g.ID):
			add("AUTH_OAUTH_PROVIDERS: %q is not a provider id (lower-case letters, digits, - and _)", g.ID)
			continue
		case seen[envPrefix(g.ID)]:
			add("AUTH_OAUTH_PROVIDERS: %q is listed twice (ids differing only in - and _ share their variables)", g.ID)
			continue
		}
		seen[envPrefix(g.ID)] = true
		if g.ClientID == "" {
			add("%sCLIENT_ID is required for provider %q", p, g.ID)
		}
		if g.ClientSecret == "" {
			add("%sCLIENT_SECRET is required for provider %q", p, g.ID)
		}
		if g.DiscoveryURL == "" && (g.AuthorizationURL == "" || g.TokenURL == "") {
			add("%sDISCOVERY_URL, or %sAUTHORIZATION_URL and %sTOKEN_URL, are required for provider %q", p, p, p, g.ID)
		}
		for name, v := range map[string]string{"DISCOVERY_URL": g.DiscoveryURL, "AUTHORIZATION_URL": g.AuthorizationURL,
			"TOKEN_URL": g.TokenURL, "USER_INFO_URL": g.UserInfoURL} {
			if err := checkEndpoint(v, c.App.Env == "production"); err != nil {
				add("%s%s: %v", p, name, err)
			}
		}
	}
	for _, b := range c.OAuth.Builtin {
		p := "AUTH_SOCIAL_" + strings.ToUpper(b.Name) + "_"
		if b.ClientID == "" {
			add("%sCLIENT_ID is required when %sCLIENT_SECRET is set", p, p)
		}
		if b.Name == "apple" {
			if b.ClientSecret == "" && (b.TeamID == "" || b.KeyID == "" || b.PrivateKey == "") {
				add("%sCLIENT_SECRET, or %sTEAM_ID, %sKEY_ID and %sPRIVATE_KEY, are required for Apple", p, p, p, p)
			}
		} else if b.ClientSecret == "" {
			add("%sCLIENT_SECRET is required when %sCLIENT_ID is set", p, p)
		}
		if err := checkEndpoint(b.BaseURL, c.App.Env == "production"); err != nil {
			add("%sBASE_URL: %v", p, err)
		}
	}
	return errs
}

// checkEndpoint accepts "" (unset) or an absolute http(s) URL; production
// allows http only towards loopback.
func checkEndpoint(v string, prod bool) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" || u.User != nil || u.Fragment != "" {
		return errors.New("must be an absolute http(s) URL")
	}
	if prod && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("must use https when APP_ENV is production")
	}
	return nil
}
