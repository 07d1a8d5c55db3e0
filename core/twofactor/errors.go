package twofactor

import "github.com/authd/authd/core"

// The plugin's failures; the HTTP adapter answers them with better-auth's
// statuses, codes and messages.
var (
	ErrOTPHasExpired          = core.NewError(core.KindInvalid, "OTP_HAS_EXPIRED", "OTP has expired")
	ErrTOTPNotEnabled         = core.NewError(core.KindInvalid, "TOTP_NOT_ENABLED", "TOTP not enabled")
	ErrTOTPAlreadyEnabled     = core.NewError(core.KindInvalid, "TOTP_ALREADY_ENABLED", "TOTP is already enabled")
	ErrTwoFactorNotEnabled    = core.NewError(core.KindInvalid, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled")
	ErrBackupCodesNotEnabled  = core.NewError(core.KindInvalid, "BACKUP_CODES_NOT_ENABLED", "Backup codes aren't enabled")
	ErrInvalidBackupCode      = core.NewError(core.KindUnauthenticated, "INVALID_BACKUP_CODE", "Invalid backup code")
	ErrInvalidCode            = core.NewError(core.KindUnauthenticated, "INVALID_CODE", "Invalid code")
	ErrTooManyAttempts        = core.NewError(core.KindInvalid, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code.")
	ErrAccountLocked          = core.NewError(core.KindRateLimited, "ACCOUNT_TEMPORARILY_LOCKED", "Too many failed verification attempts. Your account is temporarily locked. Please try again later.")
	ErrInvalidTwoFactorCookie = core.NewError(core.KindUnauthenticated, "INVALID_TWO_FACTOR_COOKIE", "Invalid two factor cookie")
	// ErrChallengeUserOff is a challenge completed by a mailed code after
	// two-factor was turned off meanwhile (better-auth: 400
	// FAILED_TO_CREATE_SESSION).
	ErrChallengeUserOff = core.NewError(core.KindInvalid, "FAILED_TO_CREATE_SESSION", "Failed to create session")
	// ErrBackupCodeRace: another request spent a code of the same list
	// meanwhile (better-auth: 409).
	ErrBackupCodeRace = core.NewError(core.KindConflict, "BACKUP_CODE_CONFLICT", "Failed to verify backup code. Please try again.")
)
