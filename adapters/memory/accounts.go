package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/authd/authd/core"
)

// AccountRepository stores accounts in a Store.
type AccountRepository struct{ s *Store }

var _ core.AccountRepository = (*AccountRepository)(nil)

func storedAccount(a core.Account) core.AccountRecord {
	r := a.Record()
	r.ID, r.UserID, r.AccountID, r.ProviderID = strings.Clone(r.ID), strings.Clone(r.UserID), strings.Clone(r.AccountID), strings.Clone(r.ProviderID)
	r.AccessToken, r.RefreshToken, r.IDToken = cloneStr(r.AccessToken), cloneStr(r.RefreshToken), cloneStr(r.IDToken)
	r.Scope, r.Password = cloneStr(r.Scope), cloneStr(r.Password)
	return r
}

func (r *AccountRepository) Create(ctx context.Context, a core.Account) error {
	rec := storedAccount(a)
	return r.s.do(ctx, func(t *tables) error {
		if _, ok := t.users[rec.UserID]; !ok {
			return core.ErrUserNotFound
		}
		if _, taken := t.accounts[rec.ID]; taken {
			return core.ErrDuplicate
		}
		t.accounts[rec.ID] = rec
		return nil
	})
}

func (r *AccountRepository) Credential(ctx context.Context, userID string) (core.Account, error) {
	var a core.Account
	err := r.s.do(ctx, func(t *tables) error {
		recs := userAccounts(t, userID)
		i := slices.IndexFunc(recs, func(rec core.AccountRecord) bool {
			return rec.ProviderID == core.ProviderCredential && rec.AccountID == userID
		})
		if i < 0 {
			return core.ErrAccountNotFound
		}
		a = core.RehydrateAccount(recs[i])
		return nil
	})
	return a, err
}

func (r *AccountRepository) ListByUser(ctx context.Context, userID string) ([]core.Account, error) {
	var out []core.Account
	err := r.s.do(ctx, func(t *tables) error {
		recs := userAccounts(t, userID)
		out = make([]core.Account, len(recs))
		for i, rec := range recs {
			out[i] = core.RehydrateAccount(rec)
		}
		return nil
	})
	return out, err
}

// userAccounts returns a user's accounts oldest first.
func userAccounts(t *tables, userID string) []core.AccountRecord {
	var recs []core.AccountRecord
	for _, rec := range t.accounts {
		if rec.UserID == userID {
			recs = append(recs, rec)
		}
	}
	slices.SortFunc(recs, func(a, b core.AccountRecord) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return recs
}

func (r *AccountRepository) Update(ctx context.Context, a core.Account) error {
	rec := storedAccount(a)
	return r.s.do(ctx, func(t *tables) error {
		if _, ok := t.accounts[rec.ID]; !ok {
			return core.ErrAccountNotFound
		}
		if _, ok := t.users[rec.UserID]; !ok {
			return core.ErrUserNotFound
		}
		rec.Password = t.accounts[rec.ID].Password
		t.accounts[rec.ID] = rec
		return nil
	})
}

func (r *AccountRepository) SetPassword(ctx context.Context, id, expected, hash string, now time.Time) error {
	hash = strings.Clone(hash)
	return r.s.do(ctx, func(t *tables) error {
		rec, ok := t.accounts[id]
		if !ok {
			return core.ErrAccountNotFound
		}
		if rec.Password == nil && expected != "" || rec.Password != nil && *rec.Password != expected {
			return core.ErrPasswordChanged
		}
		rec.Password, rec.UpdatedAt = &hash, now
		t.accounts[id] = rec
		return nil
	})
}

func (r *AccountRepository) ByProviderAccount(ctx context.Context, providerID, accountID string) (core.Account, error) {
	var a core.Account
	err := r.s.do(ctx, func(t *tables) error {
		var found *core.AccountRecord
		for _, rec := range t.accounts {
			if rec.ProviderID != providerID || rec.AccountID != accountID {
				continue
			}
			if found == nil || cmp.Or(rec.CreatedAt.Compare(found.CreatedAt), strings.Compare(rec.ID, found.ID)) < 0 {
				found = &rec
			}
		}
		if found == nil {
			return core.ErrAccountNotFound
		}
		a = core.RehydrateAccount(*found)
		return nil
	})
	return a, err
}

func (r *AccountRepository) Delete(ctx context.Context, userID, id string) error {
	return r.s.do(ctx, func(t *tables) error {
		rec, ok := t.accounts[id]
		if !ok || rec.UserID != userID {
			return core.ErrAccountNotFound
		}
		delete(t.accounts, id)
		return nil
	})
}
