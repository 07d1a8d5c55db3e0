package social

import "github.com/authd/authd/core"

func newErr(k core.Kind, code, msg string) *core.Error {
	return &core.Error{Kind: k, Code: code, Message: msg}
}

// errStateMismatch is the callback error of a state that is unknown,
// replayed, expired or not this browser's.
const errStateMismatch = "state_mismatch"

// Errors of the JSON routes, with better-auth's codes and messages (the
// HTTP adapter's table gives each its status).
var (
	ErrProviderNotFound       = newErr(core.KindNotFound, "PROVIDER_NOT_FOUND", "Provider not found")
	ErrIDTokenNotSupported    = newErr(core.KindNotFound, "ID_TOKEN_NOT_SUPPORTED", "id_token not supported")
	ErrInvalidToken           = newErr(core.KindUnauthenticated, "INVALID_TOKEN", "Invalid token")
	ErrFailedToGetUserInfo    = newErr(core.KindUnauthenticated, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	ErrUserEmailNotFound      = newErr(core.KindUnauthenticated, "USER_EMAIL_NOT_FOUND", "User email not found")
	ErrReservedParam          = newErr(core.KindInvalid, "VALIDATION_ERROR", "[body.additionalParams] additionalParams cannot include reserved OAuth parameters: state, client_id, redirect_uri, response_type, code_challenge, code_challenge_method, nonce, scope")
	ErrLastAccount            = newErr(core.KindInvalid, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account")
	ErrProviderNotSupported   = newErr(core.KindInvalid, "PROVIDER_NOT_SUPPORTED", "Provider not supported")
	ErrFailedToGetAccessToken = newErr(core.KindInvalid, "FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token")
	ErrRefreshTokenNotFound   = newErr(core.KindInvalid, "REFRESH_TOKEN_NOT_FOUND", "Refresh token not found")
	ErrRefreshNotSupported    = newErr(core.KindInvalid, "TOKEN_REFRESH_NOT_SUPPORTED", "Token refresh not supported")
	ErrFailedToRefreshToken   = newErr(core.KindInvalid, "FAILED_TO_REFRESH_ACCESS_TOKEN", "Failed to refresh access token")
	ErrLinkingNotAllowed      = newErr(core.KindUnauthenticated, "LINKING_NOT_ALLOWED", "Account not linked - linking not allowed")
	ErrLinkingDifferentEmails = newErr(core.KindUnauthenticated, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED", "Account not linked - different emails not allowed")
	ErrSocialAccountLinked    = newErr(core.KindConflict, "SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked")
	ErrLinkingFailed          = newErr(core.KindInvalid, "LINKING_FAILED", "Account not linked - unable to create account")
	ErrProviderNotConfigured  = newErr(core.KindInvalid, "PROVIDER_NOT_CONFIGURED", "Account is not associated with a configured social provider.")
	ErrAccessTokenNotFound    = newErr(core.KindInvalid, "ACCESS_TOKEN_NOT_FOUND", "Access token not found")
	ErrAccountNotFound        = core.ErrAccountNotFound
)

// The idToken branch's refusals of user and account resolution: 401
// OAUTH_LINK_ERROR with better-auth's words as the message.
var (
	ErrOAuthAccountNotLinked      = newErr(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "account not linked")
	ErrOAuthSignUpDisabled        = newErr(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "signup disabled")
	ErrOAuthUnableToCreateUser    = newErr(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to create user")
	ErrOAuthUnableToLink          = newErr(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to link account")
	ErrOAuthUnableToUpdate        = newErr(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to update account")
	ErrOAuthUnableToCreateSession = newErr(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to create session")
)

// oauthLinkErrors maps the callback's refusal codes to them.
var oauthLinkErrors = map[string]*core.Error{
	errAccountNotLinked:   ErrOAuthAccountNotLinked,
	errSignUpDisabled:     ErrOAuthSignUpDisabled,
	errUnableToCreateUser: ErrOAuthUnableToCreateUser,
	errUnableToLink:       ErrOAuthUnableToLink,
	errUnableToUpdateAcct: ErrOAuthUnableToUpdate,
	errUnableToCreateSess: ErrOAuthUnableToCreateSession,
}
