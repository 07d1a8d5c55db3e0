package core

import (
	"context"

	"github.com/authd/authd/core/jsuri"
)

// Email claim request types, as better-auth writes them in change-email tokens.
const (
	requestChangeEmailConfirmation = "change-email-confirmation"
	requestChangeEmailVerification = "change-email-verification"
)

func orSlash(callbackURL string) string {
	if callbackURL == "" {
		return "/"
	}
	return callbackURL
}

func (a *Auth) verifyEmailURL(token, callbackURL string) string {
	return a.baseURL + "/verify-email?token=" + token + "&callbackURL=" + jsuri.EncodeURIComponent(orSlash(callbackURL))
}

// resetPasswordURL leaves callbackURL empty when there is no redirectTo, as
// better-auth does; its GET /reset-password/:token then rejects the link.
func (a *Auth) resetPasswordURL(token, redirectTo string) string {
	return a.baseURL + "/reset-password/" + token + "?callbackURL=" + jsuri.EncodeURIComponent(redirectTo)
}

func (a *Auth) deleteUserURL(token, callbackURL string) string {
	return a.baseURL + "/delete-user/callback?token=" + token + "&callbackURL=" + jsuri.EncodeURIComponent(orSlash(callbackURL))
}

// send hands m to the mailer and drops its error on purpose: better-auth only
// logs hook failures, and a response that changed when mail failed would tell
// a caller whether the address has an account. The mail adapter logs.
func (a *Auth) send(ctx context.Context, m Mail) {
	_ = a.d.Mailer.Send(ctx, m)
}

// sendThrottled sends m unless a mail of the same kind (key, with the user
// id) went to the account within MailCooldown; see mailAllowed.
func (a *Auth) sendThrottled(ctx context.Context, key string, m Mail) error {
	ok, err := a.mailAllowed(ctx, key)
	if err != nil || !ok {
		return err
	}
	a.send(ctx, m)
	return nil
}

// signEmailToken issues the stateless verification JWT for c.
func (a *Auth) signEmailToken(c EmailClaims) (string, error) {
	return a.d.EmailTokens.Sign(c, a.now(), a.p.VerificationTokenTTL)
}

// sendVerificationMail mails u a link that marks their address verified.
func (a *Auth) sendVerificationMail(ctx context.Context, u User, callbackURL string) error {
	token, err := a.signEmailToken(EmailClaims{Email: u.Email(), UserID: u.ID()})
	if err != nil {
		return err
	}
	return a.sendThrottled(ctx, keyMailVerify+u.ID(), Mail{
		To:      u.Email(),
		Subject: "Verify your email address",
		Text: "Please confirm your email address by opening this link:\n" +
			a.verifyEmailURL(token, callbackURL) + "\n\n" +
			"If you did not create an account, you can ignore this email.\n",
	})
}

// sendChangeEmailVerification mails the new address the link that completes
// a change of email (requestType change-email-verification).
func (a *Auth) sendChangeEmailVerification(ctx context.Context, u User, newEmail, callbackURL string) error {
	token, err := a.signEmailToken(EmailClaims{Email: u.Email(), UpdateTo: newEmail,
		RequestType: requestChangeEmailVerification, UserID: u.ID()})
	if err != nil {
		return err
	}
	return a.sendThrottled(ctx, keyMailChangeEmailVerify+u.ID(), Mail{
		To:      newEmail,
		Subject: "Verify your new email address",
		Text: "Please confirm your new email address by opening this link:\n" +
			a.verifyEmailURL(token, callbackURL) + "\n\n" +
			"If you did not ask to change your email, you can ignore this email.\n",
	})
}

// sendChangeEmailConfirmation asks the current (verified) address to approve
// a change to newEmail.
func (a *Auth) sendChangeEmailConfirmation(ctx context.Context, u User, newEmail, callbackURL string) error {
	token, err := a.signEmailToken(EmailClaims{Email: u.Email(), UpdateTo: newEmail,
		RequestType: requestChangeEmailConfirmation, UserID: u.ID()})
	if err != nil {
		return err
	}
	return a.sendThrottled(ctx, keyMailChangeEmailConfirm+u.ID(), Mail{
		To:      u.Email(),
		Subject: "Approve your email change",
		Text: "A change of your account's email address to " + newEmail + " was requested.\n" +
			"To approve it, open this link:\n" +
			a.verifyEmailURL(token, callbackURL) + "\n\n" +
			"If you did not ask for this, ignore this email and consider changing your password.\n",
	})
}

// sendResetPasswordMail and sendDeleteAccountMail do not check the cooldown:
// their callers do, before storing a token that would never be mailed.
func (a *Auth) sendResetPasswordMail(ctx context.Context, u User, token, redirectTo string) {
	a.send(ctx, Mail{
		To:      u.Email(),
		Subject: "Reset your password",
		Text: "To choose a new password, open this link:\n" +
			a.resetPasswordURL(token, redirectTo) + "\n\n" +
			"If you did not ask for a password reset, you can ignore this email.\n",
	})
}

func (a *Auth) sendDeleteAccountMail(ctx context.Context, u User, token, callbackURL string) {
	a.send(ctx, Mail{
		To:      u.Email(),
		Subject: "Confirm the deletion of your account",
		Text: "To delete your account for good, open this link while signed in:\n" +
			a.deleteUserURL(token, callbackURL) + "\n\n" +
			"If you did not ask for this, ignore this email and consider changing your password.\n",
	})
}

// sendExistingAccountNotice replaces better-auth's onExistingUserSignUp hook:
// under enumeration protection a sign-up for a taken address answers like a
// fresh one, so the owner is told by mail instead. The cooldown is keyed by
// the (normalised) address, which names the account as well as its id does
// and needs no lookup on the path of a lost sign-up race.
func (a *Auth) sendExistingAccountNotice(ctx context.Context, email string) error {
	return a.sendThrottled(ctx, keyMailExistingAccountNote+email, Mail{
		To:      email,
		Subject: "Sign-up attempt with your email address",
		Text: "Someone tried to create an account with this email address, which already has one.\n" +
			"If that was you, sign in instead, or reset your password if you forgot it.\n" +
			"If not, you can ignore this email.\n",
	})
}
