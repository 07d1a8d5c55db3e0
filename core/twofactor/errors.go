package twofactor

import "github.com/authd/authd/core"

func newErr(k core.Kind, code, msg string) *core.Error {
	return &core.Error{Kind: k, Code: code, Message: msg}
}

// ErrNotFound is Repository.ByUser finding no row.
var ErrNotFound = newErr(core.KindNotFound, "TWO_FACTOR_NOT_FOUND", "Two factor not found")

// The plugin's errors, with better-auth's codes, messages and statuses.
var (
	ErrOTPHasExpired          = newErr(core.KindInvalid, "OTP_HAS_EXPIRED", "OTP has expired")
	ErrTOTPNotEnabled         = newErr(core.KindInvalid, "TOTP_NOT_ENABLED", "TOTP not enabled")
	ErrTOTPAlreadyEnabled     = newErr(core.KindInvalid, "TOTP_ALREADY_ENABLED", "TOTP is already enabled")
	ErrTwoFactorNotEnabled    = newErr(core.KindInvalid, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled")
	ErrBackupCodesNotEnabled  = newErr(core.KindInvalid, "BACKUP_CODES_NOT_ENABLED", "Backup codes aren't enabled")
	ErrInvalidBackupCode      = newErr(core.KindUnauthenticated, "INVALID_BACKUP_CODE", "Invalid backup code")
	ErrInvalidCode            = newErr(core.KindUnauthenticated, "INVALID_CODE", "Invalid code")
	ErrTooManyAttempts        = newErr(core.KindInvalid, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code.")
	ErrAccountLocked          = newErr(core.KindRateLimited, "ACCOUNT_TEMPORARILY_LOCKED", "Too many failed verification attempts. Your account is temporarily locked. Please try again later.")
	ErrInvalidTwoFactorCookie = newErr(core.KindUnauthenticated, "INVALID_TWO_FACTOR_COOKIE", "Invalid two factor cookie")
	ErrFailedToCreateSession  = core.ErrFailedToCreateSession.WithKind(core.KindInvalid)
	// ErrBackupCodeRace is better-auth's 409 without a code: another request
	// spent a code of the same list meanwhile. The route maps it to 409.
	ErrBackupCodeRace = newErr(core.KindConflict, "-BACKUP_CODE_CONFLICT", "Failed to verify backup code. Please try again.")
)
