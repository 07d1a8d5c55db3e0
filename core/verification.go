package core

import "time"

// Verification is a one-time secret better-auth keeps in table "verification":
// identifier names the purpose and token (e.g. "reset-password:<token>"), value
// is what it grants (a user id).
type Verification struct {
	id         string
	identifier string
	value      string
	expiresAt  time.Time
	createdAt  time.Time
	updatedAt  time.Time
}

// VerificationRecord is the storage form of a Verification (see UserRecord).
type VerificationRecord struct {
	ID         string
	Identifier string
	Value      string
	ExpiresAt  time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Identifier prefixes, as better-auth writes them, so that a token minted for
// one purpose can never be redeemed for another.
const (
	ResetPasswordPrefix = "reset-password:"
	DeleteAccountPrefix = "delete-account-"
)

func NewVerification(id, identifier, value string, now time.Time, ttl time.Duration) (Verification, error) {
	if id == "" || identifier == "" || value == "" || ttl <= 0 {
		return Verification{}, &Error{Kind: KindInternal, Code: "INVALID_VERIFICATION", Message: "incomplete verification"}
	}
	return Verification{id: id, identifier: identifier, value: value, expiresAt: now.Add(ttl), createdAt: now, updatedAt: now}, nil
}

// RehydrateVerification rebuilds a Verification from storage. It is not a constructor.
func RehydrateVerification(r VerificationRecord) Verification {
	return Verification{id: r.ID, identifier: r.Identifier, value: r.Value, expiresAt: r.ExpiresAt,
		createdAt: r.CreatedAt, updatedAt: r.UpdatedAt}
}

func (v Verification) Record() VerificationRecord {
	return VerificationRecord{ID: v.id, Identifier: v.identifier, Value: v.value, ExpiresAt: v.expiresAt,
		CreatedAt: v.createdAt, UpdatedAt: v.updatedAt}
}

func (v Verification) ID() string                 { return v.id }
func (v Verification) Identifier() string         { return v.identifier }
func (v Verification) Value() string              { return v.value }
func (v Verification) ExpiresAt() time.Time       { return v.expiresAt }
func (v Verification) CreatedAt() time.Time       { return v.createdAt }
func (v Verification) UpdatedAt() time.Time       { return v.updatedAt }
func (v Verification) Expired(now time.Time) bool { return v.expiresAt.Before(now) }
