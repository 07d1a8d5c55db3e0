package social

import "github.com/authd/authd/core"

// errStateMismatch is the callback error of a state that is unknown,
// replayed, expired or not this browser's.
const errStateMismatch = "state_mismatch"

// Errors of the JSON routes, with better-auth's codes and messages (the
// HTTP adapter's table gives each its status).
var (
	ErrProviderNotFound       = core.NewError(core.KindNotFound, "PROVIDER_NOT_FOUND", "Provider not found")
	ErrIDTokenNotSupported    = core.NewError(core.KindNotFound, "ID_TOKEN_NOT_SUPPORTED", "id_token not supported")
	ErrInvalidToken           = core.NewError(core.KindUnauthenticated, "INVALID_TOKEN", "Invalid token")
	ErrFailedToGetUserInfo    = core.NewError(core.KindUnauthenticated, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	ErrUserEmailNotFound      = core.NewError(core.KindUnauthenticated, "USER_EMAIL_NOT_FOUND", "User email not found")
	ErrReservedParam          = core.NewError(core.KindInvalid, "VALIDATION_ERROR", "[body.additionalParams] additionalParams cannot include reserved OAuth parameters: state, client_id, redirect_uri, response_type, code_challenge, code_challenge_method, nonce, scope")
	ErrLastAccount            = core.NewError(core.KindInvalid, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account")
	ErrProviderNotSupported   = core.NewError(core.KindInvalid, "PROVIDER_NOT_SUPPORTED", "Provider not supported")
	ErrFailedToGetAccessToken = core.NewError(core.KindInvalid, "FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token")
	ErrRefreshTokenNotFound   = core.NewError(core.KindInvalid, "REFRESH_TOKEN_NOT_FOUND", "Refresh token not found")
	ErrRefreshNotSupported    = core.NewError(core.KindInvalid, "TOKEN_REFRESH_NOT_SUPPORTED", "Token refresh not supported")
	ErrFailedToRefreshToken   = core.NewError(core.KindInvalid, "FAILED_TO_REFRESH_ACCESS_TOKEN", "Failed to refresh access token")
	ErrLinkingNotAllowed      = core.NewError(core.KindUnauthenticated, "LINKING_NOT_ALLOWED", "Account not linked - linking not allowed")
	ErrLinkingDifferentEmails = core.NewError(core.KindUnauthenticated, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED", "Account not linked - different emails not allowed")
	ErrSocialAccountLinked    = core.NewError(core.KindConflict, "SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked")
	ErrLinkingFailed          = core.NewError(core.KindInvalid, "LINKING_FAILED", "Account not linked - unable to create account")
	ErrProviderNotConfigured  = core.NewError(core.KindInvalid, "PROVIDER_NOT_CONFIGURED", "Account is not associated with a configured social provider.")
	ErrAccessTokenNotFound    = core.NewError(core.KindInvalid, "ACCESS_TOKEN_NOT_FOUND", "Access token not found")
	ErrAccountNotFound        = core.ErrAccountNotFound
)

// The idToken branch's refusals of user and account resolution: 401
// OAUTH_LINK_ERROR with better-auth's words as the message.
var (
	ErrOAuthAccountNotLinked      = core.NewError(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "account not linked")
	ErrOAuthSignUpDisabled        = core.NewError(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "signup disabled")
	ErrOAuthUnableToCreateUser    = core.NewError(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to create user")
	ErrOAuthUnableToLink          = core.NewError(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to link account")
	ErrOAuthUnableToUpdate        = core.NewError(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to update account")
	ErrOAuthUnableToCreateSession = core.NewError(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "unable to create session")
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
