package core

import (
	"time"
)

// Kind classifies an error by what the caller can do about it: retry later
// (Unavailable, RateLimited), fix the request, or nothing (Internal). Core
// never speaks HTTP; the HTTP adapter decides each error's status, code and
// body, per route where better-auth answers one failure differently.
type Kind int

const (
	KindInternal        Kind = iota // 500: a bug or an unexpected infrastructure failure
	KindInvalid                     // 400: the request is malformed or breaks a rule
	KindUnauthenticated             // 401
	KindForbidden                   // 403
	KindNotFound                    // 404
	KindConflict                    // 422: better-auth answers UNPROCESSABLE_ENTITY for duplicates
	KindRateLimited                 // 429
	KindUnavailable                 // 503: a dependency (the database) is down; clients should retry
)

// Error is the one error type that crosses from core to the driving adapters.
// Code names the failure (one per sentinel) and Message describes it; Err
// keeps the internal cause, which is logged but never sent to clients.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Err     error
	// RetryAfter is set on KindRateLimited errors: how long until the same
	// request can succeed. The HTTP adapter sends it as X-Retry-After.
	RetryAfter time.Duration
	// sentinel is the package-level error this one was derived from.
	sentinel *Error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches a sentinel and every copy of it (With, RetryIn), so each
// sentinel names exactly one failure.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Sentinel() == e.Sentinel()
}

// Sentinel returns the package-level error e derives from (e itself for
// errors made elsewhere), for adapters that look failures up in a table.
func (e *Error) Sentinel() *Error {
	if e.sentinel != nil {
		return e.sentinel
	}
	return e
}

// With returns a copy of e carrying cause, for adapters that translate an
// infrastructure error into a core error without losing it from the logs.
func (e *Error) With(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// RetryIn returns a copy of e that tells the caller to wait d.
func (e *Error) RetryIn(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// NewError declares a sentinel of a feature package of core (core/twofactor's
// errors): copies of it (With, RetryIn) match it, as core's own do.
func NewError(k Kind, code, msg string) *Error { return newErr(k, code, msg) }

func newErr(k Kind, code, msg string) *Error {
	e := &Error{Kind: k, Code: code, Message: msg}
	e.sentinel = e
	return e
}

// Errors raised by repositories. Adapters must return these (possibly wrapped
// with With) so that the contract suite can assert on them with errors.Is.
var (
	ErrUserNotFound         = newErr(KindNotFound, "USER_NOT_FOUND", "User not found")
	ErrUserExists           = newErr(KindConflict, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	ErrSessionNotFound      = newErr(KindUnauthenticated, "SESSION_NOT_FOUND", "Session not found")
	ErrAccountNotFound      = newErr(KindInvalid, "ACCOUNT_NOT_FOUND", "Account not found")
	ErrVerificationNotFound = newErr(KindInvalid, "VERIFICATION_NOT_FOUND", "Verification not found")
	ErrDuplicate            = newErr(KindConflict, "DUPLICATE", "Duplicate value")
	// ErrPasswordChanged is AccountRepository.SetPassword losing its
	// compare-and-set; flows answer with better-auth's own error instead.
	ErrPasswordChanged = newErr(KindConflict, "PASSWORD_CHANGED", "Password changed meanwhile")
	// ErrUnavailable means the store could not be reached or did not answer in
	// time; it must never be confused with "not found".
	ErrUnavailable = newErr(KindUnavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
)

// Errors raised by the auth engine, with better-auth's codes and messages.
var (
	ErrInvalidEmail             = newErr(KindInvalid, "INVALID_EMAIL", "Invalid email")
	ErrInvalidEmailOrPassword   = newErr(KindUnauthenticated, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	ErrInvalidPassword          = newErr(KindInvalid, "INVALID_PASSWORD", "Invalid password")
	ErrPasswordTooShort         = newErr(KindInvalid, "PASSWORD_TOO_SHORT", "Password too short")
	ErrPasswordTooLong          = newErr(KindInvalid, "PASSWORD_TOO_LONG", "Password too long")
	ErrEmailNotVerified         = newErr(KindForbidden, "EMAIL_NOT_VERIFIED", "Email not verified")
	ErrInvalidToken             = newErr(KindInvalid, "INVALID_TOKEN", "Invalid token")
	ErrTokenExpired             = newErr(KindUnauthenticated, "TOKEN_EXPIRED", "Token expired")
	ErrInvalidUser              = newErr(KindInvalid, "INVALID_USER", "Invalid user")
	ErrCredentialAccountMissing = newErr(KindInvalid, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
	ErrEmailCannotBeUpdated     = newErr(KindInvalid, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	ErrSessionExpired           = newErr(KindInvalid, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	ErrSessionNotFresh          = newErr(KindForbidden, "SESSION_NOT_FRESH", "Session is not fresh")
	ErrEmailMismatch            = newErr(KindInvalid, "EMAIL_MISMATCH", "Email mismatch")
	ErrEmailAlreadyVerified     = newErr(KindInvalid, "EMAIL_ALREADY_VERIFIED", "Email is already verified")
	ErrFailedToCreateSession    = newErr(KindUnauthenticated, "FAILED_TO_CREATE_SESSION", "Failed to create session")
	ErrFailedToGetSession       = newErr(KindUnauthenticated, "FAILED_TO_GET_SESSION", "Failed to get session")
	ErrFailedToGetUserInfo      = newErr(KindNotFound, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	ErrDeleteUserDisabled       = newErr(KindNotFound, "DELETE_USER_DISABLED", "Deleting users is disabled")
	ErrNoFieldsToUpdate         = newErr(KindInvalid, "NO_FIELDS_TO_UPDATE", "No fields to update")
	ErrEmailIsTheSame           = newErr(KindInvalid, "EMAIL_IS_THE_SAME", "Email is the same")
	ErrVerificationOff          = newErr(KindInvalid, "VERIFICATION_EMAIL_NOT_ENABLED", "Verification email isn't enabled")
	// ErrTooManyRequests: raise it with RetryIn.
	ErrTooManyRequests = newErr(KindRateLimited, "TOO_MANY_REQUESTS", "Too many requests. Please try again later.")
)
