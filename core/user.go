package core

import (
	"strings"
	"time"
)

// User is the identity better-auth keeps in table "user". The password is not
// here: it lives on the credential Account, as in better-auth.
type User struct {
	id            string
	name          string
	email         string
	emailVerified bool
	image         *string
	createdAt     time.Time
	updatedAt     time.Time
	// twoFactorEnabled is the twoFactor plugin's user.two_factor_enabled.
	// Only core/twofactor's repository writes it (UserRepository.Update
	// leaves it alone), so that a profile edit cannot undo an enrolment.
	twoFactorEnabled bool
}

// UserRecord is the plain data form of a User, used by adapters to store it and
// to load it back (RehydrateUser). It bypasses validation on purpose: rows in the
// database were validated when written, possibly by better-auth itself.
type UserRecord struct {
	ID            string
	Name          string
	Email         string
	EmailVerified bool
	Image         *string
	CreatedAt     time.Time
	UpdatedAt     time.Time

	TwoFactorEnabled bool
}

// NewUser validates and normalises a new, unverified user.
func NewUser(id, name, email string, image *string, now time.Time) (User, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if id == "" {
		return User{}, &Error{Kind: KindInternal, Code: "INVALID_ID", Message: "empty user id"}
	}
	return User{id: id, name: name, email: norm, image: cloneStr(image), createdAt: now, updatedAt: now}, nil
}

// RehydrateUser rebuilds a User from storage. It is not a constructor.
func RehydrateUser(r UserRecord) User {
	return User{id: r.ID, name: r.Name, email: strings.ToLower(r.Email), emailVerified: r.EmailVerified,
		image: cloneStr(r.Image), createdAt: r.CreatedAt, updatedAt: r.UpdatedAt, twoFactorEnabled: r.TwoFactorEnabled}
}

func (u User) Record() UserRecord {
	return UserRecord{ID: u.id, Name: u.name, Email: u.email, EmailVerified: u.emailVerified,
		Image: cloneStr(u.image), CreatedAt: u.createdAt, UpdatedAt: u.updatedAt, TwoFactorEnabled: u.twoFactorEnabled}
}

func (u User) ID() string           { return u.id }
func (u User) Name() string         { return u.name }
func (u User) Email() string        { return u.email }
func (u User) EmailVerified() bool  { return u.emailVerified }
func (u User) Image() *string       { return cloneStr(u.image) }
func (u User) CreatedAt() time.Time { return u.createdAt }
func (u User) UpdatedAt() time.Time { return u.updatedAt }

func (u User) TwoFactorEnabled() bool { return u.twoFactorEnabled }

// SetTwoFactorEnabled mirrors a write of the flag made through core/twofactor's
// repository.
func (u *User) SetTwoFactorEnabled(on bool, now time.Time) {
	u.twoFactorEnabled = on
	u.updatedAt = now
}

func (u *User) Rename(name string, now time.Time) { u.name = name; u.updatedAt = now }

func (u *User) SetImage(image *string, now time.Time) { u.image = cloneStr(image); u.updatedAt = now }

func (u *User) MarkEmailVerified(now time.Time) { u.emailVerified = true; u.updatedAt = now }

// ChangeEmail sets a new address; verified says whether the new address has
// itself been proven (better-auth keeps the flag on a confirmed change).
func (u *User) ChangeEmail(email string, verified bool, now time.Time) error {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	u.email, u.emailVerified, u.updatedAt = norm, verified, now
	return nil
}

func cloneStr(s *string) *string {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}
