package social

import "github.com/authd/authd/core"

func newErr(k core.Kind, code, msg string) *core.Error {
	return &core.Error{Kind: k, Code: code, Message: msg}
}

// Errors of the JSON routes, with better-auth's codes and messages.
var (
	ErrProviderNotFound       = newErr(core.KindNotFound, "PROVIDER_NOT_FOUND", "Provider not found")
	ErrIDTokenNotSupported    = newErr(core.KindNotFound, "ID_TOKEN_NOT_SUPPORTED", "id_token not supported")
	ErrInvalidToken           = newErr(core.KindUnauthenticated, "INVALID_TOKEN", "Invalid token")
	ErrFailedToGetUserInfo    = newErr(core.KindUnauthenticated, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	ErrUserEmailNotFound      = newErr(core.KindUnauthenticated, "USER_EMAIL_NOT_FOUND", "User email not found")
	ErrOAuthLink              = newErr(core.KindUnauthenticated, "OAUTH_LINK_ERROR", "account not linked")
	ErrReservedParam          = newErr(core.KindInvalid, "VALIDATION_ERROR", "additionalParams must not contain reserved OAuth parameters")
	ErrLastAccount            = newErr(core.KindInvalid, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You cannot unlink your last account")
	ErrProviderNotSupported   = newErr(core.KindInvalid, "PROVIDER_NOT_SUPPORTED", "Provider not supported")
	ErrFailedToGetAccessToken = newErr(core.KindInvalid, "FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token")
	ErrRefreshTokenNotFound   = newErr(core.KindInvalid, "REFRESH_TOKEN_NOT_FOUND", "Refresh token not found")
	ErrRefreshNotSupported    = newErr(core.KindInvalid, "TOKEN_REFRESH_NOT_SUPPORTED", "Token refresh not supported")
	ErrFailedToRefreshToken   = newErr(core.KindInvalid, "FAILED_TO_REFRESH_ACCESS_TOKEN", "Failed to refresh access token")
	ErrFailedToGetAccountInfo = newErr(core.KindUnauthenticated, "FAILED_TO_GET_USER_INFO", "Access token not found")
	ErrLinkingNotAllowed      = newErr(core.KindUnauthenticated, "LINKING_NOT_ALLOWED", "Account linking is not allowed")
	ErrLinkingDifferentEmails = newErr(core.KindUnauthenticated, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED", "Account not linked - different emails not allowed")
	ErrSocialAccountLinked    = newErr(core.KindConflict, "SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked")
	ErrAccountNotFound        = core.ErrAccountNotFound
	errStateMismatch          = "state_mismatch"
)
