package memory

import (
	"context"
	"strings"
	"sync"

	"github.com/authd/authd/core"
	"github.com/authd/authd/core/tokens"
)

// KeyRepository keeps tokens.Key apart from the Store: keys take no part in
// transactions, and core/tokens never writes them inside one.
type KeyRepository struct {
	mu   sync.Mutex
	keys map[string]tokens.Key
}

var _ tokens.KeyRepository = (*KeyRepository)(nil)

func NewKeyRepository() *KeyRepository { return &KeyRepository{keys: map[string]tokens.Key{}} }

func (r *KeyRepository) Create(ctx context.Context, k tokens.Key) error {
	if err := ctx.Err(); err != nil {
		return core.ErrUnavailable.With(err)
	}
	k.ID, k.PublicKey, k.PrivateKey = strings.Clone(k.ID), strings.Clone(k.PublicKey), strings.Clone(k.PrivateKey)
	k.Alg, k.Crv = strings.Clone(k.Alg), strings.Clone(k.Crv)
	if k.ExpiresAt != nil {
		exp := *k.ExpiresAt
		k.ExpiresAt = &exp
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.keys[k.ID]; taken {
		return core.ErrDuplicate
	}
	r.keys[k.ID] = k
	return nil
}

func (r *KeyRepository) List(ctx context.Context) ([]tokens.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, core.ErrUnavailable.With(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]tokens.Key, 0, len(r.keys))
	for _, k := range r.keys {
		if k.ExpiresAt != nil {
			exp := *k.ExpiresAt
			k.ExpiresAt = &exp
		}
		out = append(out, k)
	}
	return out, nil
}
