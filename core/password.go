package core

import (
	"context"
	"errors"
	"unicode/utf8"
)

// PasswordLength counts UTF-16 code units like JS String#length, which is what
// better-auth's min/max rules measure: a character outside the Basic
// Multilingual Plane (most emoji) counts as two. Invalid UTF-8 bytes count as
// one unit each (they decode to U+FFFD).
func PasswordLength(pw string) int {
	n := 0
	for _, r := range pw {
		if r >= 0x10000 && r <= utf8.MaxRune {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// checkNewPassword applies the length policy to a password about to be hashed
// and stored. It runs before any hashing, so an over-long password costs no
// scrypt run.
func (a *Auth) checkNewPassword(pw string) error {
	n := PasswordLength(pw)
	if n < a.p.MinPasswordLength {
		return ErrPasswordTooShort
	}
	if n > a.p.MaxPasswordLength {
		return ErrPasswordTooLong
	}
	return nil
}

// checkPasswordMax is the only rule for passwords that are verified, not set.
func (a *Auth) checkPasswordMax(pw string) error {
	if PasswordLength(pw) > a.p.MaxPasswordLength {
		return ErrPasswordTooLong
	}
	return nil
}

// errHasherBusy is the cause of the ErrUnavailable that sign-in and sign-up
// answer when the hasher is already turning callers away.
var errHasherBusy = errors.New("password hasher busy: too many sign-ins and sign-ups waiting")

// checkHasherFree refuses at once when the hasher would refuse the hash this
// request leads to. It runs before any lookup: its answer must not, and
// does not, depend on whether the account exists. A request let through may
// still be refused at the hash itself when the queue filled meanwhile.
func (a *Auth) checkHasherFree() error {
	if a.d.Hasher.Busy() {
		return ErrUnavailable.With(errHasherBusy)
	}
	return nil
}

// decoyVerify spends the same hashing work a real password check would, for
// the branches where there is nothing to check against: the response time must
// not tell an unknown email from a wrong password.
func (a *Auth) decoyVerify(ctx context.Context, pw string) error {
	if a.d.DecoyHash != "" {
		_, err := a.d.Hasher.Verify(ctx, a.d.DecoyHash, pw)
		return err
	}
	_, err := a.d.Hasher.Hash(ctx, pw)
	return err
}

// credentialHash returns the user's credential account and its password hash;
// ok is false when there is no account or no password on it. Other errors are
// infrastructure failures.
func (a *Auth) credentialHash(ctx context.Context, userID string) (acc Account, hash string, ok bool, err error) {
	acc, err = a.d.Accounts.Credential(ctx, userID)
	if errors.Is(err, ErrAccountNotFound) {
		return Account{}, "", false, nil
	}
	if err != nil {
		return Account{}, "", false, err
	}
	hash, ok = acc.PasswordHash()
	return acc, hash, ok, nil
}
