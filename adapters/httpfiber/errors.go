package httpfiber

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/apierror"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/adapters/httpfiber/internal/jsonw"
	"github.com/authd/authd/core"
	"github.com/authd/authd/core/social"
	"github.com/authd/authd/core/twofactor"
)

// unavailableRetryAfter is sent with every 503: dependencies come back in
// seconds, and clients that honour it should not hammer a recovering DB.
const unavailableRetryAfter = "5"

// answer is better-auth's response to one failure: an empty code sends
// {"message"} alone, an empty message an empty body.
type answer struct {
	status        int
	code, message string
}

// answers is the wire form of every core error, in core's order. Routes
// where better-auth answers a failure with another status declare it in
// their route table (endpoint.Route.Answer).
var answers = map[*core.Error]answer{
	core.ErrUserNotFound: {fiber.StatusNotFound, "USER_NOT_FOUND", "User not found"},
	core.ErrUserExists:   {fiber.StatusUnprocessableEntity, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email."},
	// No session, or the caller's gone mid-request: better-auth's session
	// middleware answers 401.
	core.ErrSessionNotFound:      {fiber.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized"},
	core.ErrAccountNotFound:      {fiber.StatusBadRequest, "ACCOUNT_NOT_FOUND", "Account not found"},
	core.ErrVerificationNotFound: {fiber.StatusBadRequest, "INVALID_TOKEN", "Invalid token"},
	core.ErrDuplicate:            {fiber.StatusUnprocessableEntity, "DUPLICATE", "Duplicate value"},
	// Never sent by today's flows, which answer a lost compare-and-set with
	// better-auth's own error.
	core.ErrPasswordChanged: {fiber.StatusUnprocessableEntity, "PASSWORD_CHANGED", "Password changed meanwhile"},
	core.ErrUnavailable:     {fiber.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable"},

	core.ErrInvalidEmail:             {fiber.StatusBadRequest, "INVALID_EMAIL", "Invalid email"},
	core.ErrInvalidEmailOrPassword:   {fiber.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password"},
	core.ErrInvalidPassword:          {fiber.StatusBadRequest, "INVALID_PASSWORD", "Invalid password"},
	core.ErrPasswordTooShort:         {fiber.StatusBadRequest, "PASSWORD_TOO_SHORT", "Password too short"},
	core.ErrPasswordTooLong:          {fiber.StatusBadRequest, "PASSWORD_TOO_LONG", "Password too long"},
	core.ErrEmailNotVerified:         {fiber.StatusForbidden, "EMAIL_NOT_VERIFIED", "Email not verified"},
	core.ErrInvalidToken:             {fiber.StatusBadRequest, "INVALID_TOKEN", "Invalid token"},
	core.ErrTokenExpired:             {fiber.StatusUnauthorized, "TOKEN_EXPIRED", "Token expired"},
	core.ErrInvalidUser:              {fiber.StatusBadRequest, "INVALID_USER", "Invalid user"},
	core.ErrCredentialAccountMissing: {fiber.StatusBadRequest, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found"},
	core.ErrEmailCannotBeUpdated:     {fiber.StatusBadRequest, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated"},
	core.ErrSessionExpired:           {fiber.StatusBadRequest, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action."},
	core.ErrSessionNotFresh:          {fiber.StatusForbidden, "SESSION_NOT_FRESH", "Session is not fresh"},
	core.ErrEmailMismatch:            {fiber.StatusBadRequest, "EMAIL_MISMATCH", "Email mismatch"},
	core.ErrEmailAlreadyVerified:     {fiber.StatusBadRequest, "EMAIL_ALREADY_VERIFIED", "Email is already verified"},
	core.ErrFailedToCreateSession:    {fiber.StatusUnauthorized, "FAILED_TO_CREATE_SESSION", "Failed to create session"},
	core.ErrFailedToGetSession:       {fiber.StatusUnauthorized, "FAILED_TO_GET_SESSION", "Failed to get session"},
	core.ErrFailedToGetUserInfo:      {fiber.StatusNotFound, "FAILED_TO_GET_USER_INFO", "Failed to get user info"},
	// POST /delete-user when disabled: better-call's bare 404.
	core.ErrDeleteUserDisabled: {fiber.StatusNotFound, "", ""},
	// better-auth's APIError.fromStatus: no code on the wire.
	core.ErrNoFieldsToUpdate: {fiber.StatusBadRequest, "", "No fields to update"},
	core.ErrEmailIsTheSame:   {fiber.StatusBadRequest, "", "Email is the same"},
	core.ErrVerificationOff:  {fiber.StatusBadRequest, "", "Verification email isn't enabled"},
	core.ErrTooManyRequests:  {fiber.StatusTooManyRequests, "", "Too many requests. Please try again later."},

	// Social sign-in (core/social).
	social.ErrProviderNotFound:           {fiber.StatusNotFound, "PROVIDER_NOT_FOUND", "Provider not found"},
	social.ErrIDTokenNotSupported:        {fiber.StatusNotFound, "ID_TOKEN_NOT_SUPPORTED", "id_token not supported"},
	social.ErrInvalidToken:               {fiber.StatusUnauthorized, "INVALID_TOKEN", "Invalid token"},
	social.ErrFailedToGetUserInfo:        {fiber.StatusUnauthorized, "FAILED_TO_GET_USER_INFO", "Failed to get user info"},
	social.ErrUserEmailNotFound:          {fiber.StatusUnauthorized, "USER_EMAIL_NOT_FOUND", "User email not found"},
	social.ErrReservedParam:              {fiber.StatusBadRequest, "VALIDATION_ERROR", social.ErrReservedParam.Message},
	social.ErrLastAccount:                {fiber.StatusBadRequest, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account"},
	social.ErrProviderNotSupported:       {fiber.StatusBadRequest, "PROVIDER_NOT_SUPPORTED", "Provider not supported"},
	social.ErrFailedToGetAccessToken:     {fiber.StatusBadRequest, "FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token"},
	social.ErrRefreshTokenNotFound:       {fiber.StatusBadRequest, "REFRESH_TOKEN_NOT_FOUND", "Refresh token not found"},
	social.ErrRefreshNotSupported:        {fiber.StatusBadRequest, "TOKEN_REFRESH_NOT_SUPPORTED", "Token refresh not supported"},
	social.ErrFailedToRefreshToken:       {fiber.StatusBadRequest, "FAILED_TO_REFRESH_ACCESS_TOKEN", "Failed to refresh access token"},
	social.ErrProviderNotConfigured:      {fiber.StatusBadRequest, "PROVIDER_NOT_CONFIGURED", "Account is not associated with a configured social provider."},
	social.ErrAccessTokenNotFound:        {fiber.StatusBadRequest, "ACCESS_TOKEN_NOT_FOUND", "Access token not found"},
	social.ErrLinkingNotAllowed:          {fiber.StatusUnauthorized, "LINKING_NOT_ALLOWED", "Account not linked - linking not allowed"},
	social.ErrLinkingDifferentEmails:     {fiber.StatusUnauthorized, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED", "Account not linked - different emails not allowed"},
	social.ErrSocialAccountLinked:        {fiber.StatusConflict, "SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked"},
	social.ErrLinkingFailed:              {fiber.StatusExpectationFailed, "LINKING_FAILED", "Account not linked - unable to create account"},
	social.ErrOAuthAccountNotLinked:      {fiber.StatusUnauthorized, "OAUTH_LINK_ERROR", "account not linked"},
	social.ErrOAuthSignUpDisabled:        {fiber.StatusUnauthorized, "OAUTH_LINK_ERROR", "signup disabled"},
	social.ErrOAuthUnableToCreateUser:    {fiber.StatusUnauthorized, "OAUTH_LINK_ERROR", "unable to create user"},
	social.ErrOAuthUnableToLink:          {fiber.StatusUnauthorized, "OAUTH_LINK_ERROR", "unable to link account"},
	social.ErrOAuthUnableToUpdate:        {fiber.StatusUnauthorized, "OAUTH_LINK_ERROR", "unable to update account"},
	social.ErrOAuthUnableToCreateSession: {fiber.StatusUnauthorized, "OAUTH_LINK_ERROR", "unable to create session"},
	twofactor.ErrOTPHasExpired:           {fiber.StatusBadRequest, "OTP_HAS_EXPIRED", "OTP has expired"},
	twofactor.ErrTOTPNotEnabled:          {fiber.StatusBadRequest, "TOTP_NOT_ENABLED", "TOTP not enabled"},
	twofactor.ErrTOTPAlreadyEnabled:      {fiber.StatusBadRequest, "TOTP_ALREADY_ENABLED", "TOTP is already enabled"},
	twofactor.ErrTwoFactorNotEnabled:     {fiber.StatusBadRequest, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled"},
	twofactor.ErrBackupCodesNotEnabled:   {fiber.StatusBadRequest, "BACKUP_CODES_NOT_ENABLED", "Backup codes aren't enabled"},
	twofactor.ErrInvalidBackupCode:       {fiber.StatusUnauthorized, "INVALID_BACKUP_CODE", "Invalid backup code"},
	twofactor.ErrInvalidCode:             {fiber.StatusUnauthorized, "INVALID_CODE", "Invalid code"},
	twofactor.ErrTooManyAttempts:         {fiber.StatusBadRequest, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code."},
	twofactor.ErrAccountLocked:           {fiber.StatusTooManyRequests, "ACCOUNT_TEMPORARILY_LOCKED", "Too many failed verification attempts. Your account is temporarily locked. Please try again later."},
	twofactor.ErrInvalidTwoFactorCookie:  {fiber.StatusUnauthorized, "INVALID_TWO_FACTOR_COOKIE", "Invalid two factor cookie"},
	twofactor.ErrChallengeUserOff:        {fiber.StatusBadRequest, "FAILED_TO_CREATE_SESSION", "Failed to create session"},
	// better-auth's APIError.fromStatus("CONFLICT"): no code.
	twofactor.ErrBackupCodeRace: {fiber.StatusConflict, "", "Failed to verify backup code. Please try again."},
}

// errorHandler is the only place where an error becomes an HTTP response.
// Whatever the error, internal detail (causes, SQL, panics) is logged with
// the request id and never sent.
func (s *server) errorHandler(c *fiber.Ctx, err error) error {
	c.Response().ResetBody()
	c.Response().Header.Del(fiber.HeaderContentType)
	// fasthttp reports unreadable requests (413, 431, 408) straight to this
	// handler, before the edge middleware could log them.
	_, viaEdge := c.Locals(localRequestID).(string)
	id := s.requestID(c)
	if !viaEdge {
		defer s.accessLog(c, id, time.Now())
	}

	var (
		ae *apierror.Error
		ce *core.Error
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &ae):
		s.writeError(c, ae.Status, ae.Message, ae.Code)
	case errors.As(err, &ce):
		s.coreError(c, ce, id)
	case errors.Is(err, context.DeadlineExceeded):
		s.log.LogAttrs(c.UserContext(), slog.LevelWarn, "request deadline exceeded",
			slog.String("request_id", id), slog.String("error", err.Error()))
		s.unavailable(c)
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
			// better-auth answers unknown paths and wrong methods alike:
			// 404, no body, no content type.
			c.Status(fiber.StatusNotFound)
		default:
			// fasthttp's messages can quote the request; send the
			// standard phrase instead.
			text := http.StatusText(fe.Code)
			s.writeError(c, fe.Code, text, strings.ToUpper(strings.ReplaceAll(text, " ", "_")))
		}
	default:
		s.internal(c, id, err)
	}
	return nil
}

func (s *server) coreError(c *fiber.Ctx, ce *core.Error, id string) {
	a, ok := answers[ce.Sentinel()]
	if !ok || ce.Kind == core.KindInternal {
		s.internal(c, id, ce)
		return
	}
	if status, ok := endpoint.AnswersOf(c)[ce.Sentinel()]; ok {
		a.status = status
	}
	switch ce.Kind {
	case core.KindUnavailable:
		s.log.LogAttrs(c.UserContext(), slog.LevelWarn, "dependency unavailable",
			slog.String("request_id", id), slog.String("error", ce.Error()))
		c.Set(fiber.HeaderRetryAfter, unavailableRetryAfter)
	case core.KindRateLimited:
		// better-auth's header, in whole seconds rounded up: a client that
		// waits exactly that long is let through.
		secs := int(math.Ceil(ce.RetryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		c.Set("X-Retry-After", strconv.Itoa(secs))
	}
	s.writeError(c, a.status, a.message, a.code)
}

func (s *server) unavailable(c *fiber.Ctx) {
	c.Set(fiber.HeaderRetryAfter, unavailableRetryAfter)
	a := answers[core.ErrUnavailable]
	s.writeError(c, a.status, a.message, a.code)
}

func (s *server) internal(c *fiber.Ctx, id string, err error) {
	s.log.LogAttrs(c.UserContext(), slog.LevelError, "internal error",
		slog.String("request_id", id), slog.String("method", c.Method()),
		slog.String("route", s.routeOf(c)), slog.String("error", err.Error()))
	s.writeError(c, fiber.StatusInternalServerError, "Internal Server Error", "INTERNAL_SERVER_ERROR")
}

// writeError sends better-auth's error envelope; an empty message means an
// empty body that is still labelled JSON (APIError.fromStatus without body).
func (s *server) writeError(c *fiber.Ctx, status int, message, code string) {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if message == "" {
		return
	}
	c.Response().SetBodyRaw(jsonw.ErrorBody(message, code))
}
