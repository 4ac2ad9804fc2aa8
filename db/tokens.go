package db

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// MaxTokensPerKey bounds a key's live access tokens: issuing one more ends
// the oldest, so memory stays bounded however often a client asks.
const MaxTokensPerKey = 500

// AccessToken is a live access token, found by the SHA-256 of its value.
type AccessToken struct {
	KeyID     int64
	PublicKey string // the key's public API key, to find its current state
	Scope     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

type tokenHash = [sha256.Size]byte

// tokenStore holds every live token in memory; the table only lets tokens
// outlive a restart. A token is valid exactly while it is in here.
type tokenStore struct {
	mu          sync.RWMutex
	byHash      map[tokenHash]AccessToken
	byKey       map[int64]*tokenRing
	revokedKeys map[int64]struct{}
}

// tokenRing is a key's newest tokens, oldest overwritten first.
type tokenRing struct {
	hashes []tokenHash
	next   int
}

func (r *tokenRing) push(h tokenHash) (evicted tokenHash, full bool) {
	if len(r.hashes) < MaxTokensPerKey {
		r.hashes = append(r.hashes, h)
		return evicted, false
	}
	evicted = r.hashes[r.next]
	r.hashes[r.next] = h
	r.next = (r.next + 1) % MaxTokensPerKey
	return evicted, true
}

func (s *tokenStore) add(h tokenHash, t AccessToken) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, gone := s.revokedKeys[t.KeyID]; gone {
		return false
	}
	r := s.byKey[t.KeyID]
	if r == nil {
		r = &tokenRing{}
		s.byKey[t.KeyID] = r
	}
	if old, full := r.push(h); full {
		delete(s.byHash, old)
	}
	s.byHash[h] = t
	return true
}

func (s *tokenStore) has(h tokenHash) bool {
	_, ok := s.byHash[h]
	return ok
}

// tokens returns the in-memory tokens, loading them from the table on first use.
func (d *DB) tokens() *tokenStore {
	d.api.tokensOnce.Do(func() {
		s := &tokenStore{byHash: map[tokenHash]AccessToken{}, byKey: map[int64]*tokenRing{}, revokedKeys: map[int64]struct{}{}}
		if err := d.loadTokens(context.Background(), s); err != nil {
			// Tokens that cannot be read back only make clients ask again.
			clear(s.byHash)
			clear(s.byKey)
		}
		d.api.tokens = s
	})
	return d.api.tokens
}

func (d *DB) loadTokens(ctx context.Context, s *tokenStore) error {
	rows, err := d.read.QueryContext(ctx, `SELECT t.hash, t.key_id, k.public_key, t.scope, t.created_at, t.expires_at
		FROM access_tokens t JOIN api_keys k ON k.id = t.key_id
		WHERE k.revoked_at IS NULL ORDER BY t.id`)
	if err != nil {
		return fmt.Errorf("db: load tokens: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		var t AccessToken
		var created, expires int64
		if err := rows.Scan(&raw, &t.KeyID, &t.PublicKey, &t.Scope, &created, &expires); err != nil {
			return fmt.Errorf("db: load tokens: %w", err)
		}
		var h tokenHash
		if copy(h[:], raw) != len(h) {
			continue
		}
		t.CreatedAt, t.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(expires, 0).UTC()
		s.add(h, t)
	}
	return rows.Err()
}

// StoreAccessToken makes token live at once; its hash reaches the table in
// the writer's next batch. It is false when the key was revoked meanwhile.
func (d *DB) StoreAccessToken(ctx context.Context, token string, t AccessToken) (bool, error) {
	h := sha256.Sum256([]byte(token))
	if !d.tokens().add(h, t) {
		return false, nil
	}
	if _, err := d.enqueue(ctx, &tokenInsert{hash: h, t: t}); err != nil {
		return false, err
	}
	return true, nil
}

// LiveAccessToken returns the token with this value if it is live at now.
func (d *DB) LiveAccessToken(token string, now time.Time) (AccessToken, bool) {
	h := sha256.Sum256([]byte(token))
	s := d.tokens()
	s.mu.RLock()
	t, ok := s.byHash[h]
	_, gone := s.revokedKeys[t.KeyID]
	s.mu.RUnlock()
	if !ok || gone || !now.Before(t.ExpiresAt) {
		return AccessToken{}, false
	}
	return t, true
}

// LiveAccessTokenCount returns how many tokens are held in memory.
func (d *DB) LiveAccessTokenCount() int {
	s := d.tokens()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byHash)
}

// RevokeAccessToken ends one token of a key (RFC 7009). A token of another
// key, or none, is left alone without saying so.
func (d *DB) RevokeAccessToken(ctx context.Context, token string, keyID int64) error {
	h := sha256.Sum256([]byte(token))
	s := d.tokens()
	s.mu.Lock()
	t, ok := s.byHash[h]
	if ok && t.KeyID == keyID {
		delete(s.byHash, h)
	}
	s.mu.Unlock()
	if !ok || t.KeyID != keyID {
		return nil
	}
	// Through the writer, so it lands after the token's own insert.
	_, err := d.enqueue(ctx, &tokenDelete{hash: h, keyID: keyID})
	return err
}

// KeyRevoked reports whether a key was revoked since this process loaded
// it, so a copy of the key read just before the revoke cannot authenticate.
func (d *DB) KeyRevoked(k *APIKey) bool {
	if k.Revoked() {
		return true
	}
	s := d.tokens()
	s.mu.RLock()
	_, gone := s.revokedKeys[k.ID]
	s.mu.RUnlock()
	return gone
}

// endKeyTokens forgets every token of a revoked key and refuses new ones.
func (d *DB) endKeyTokens(keyID int64) {
	s := d.tokens()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokedKeys[keyID] = struct{}{}
	if r := s.byKey[keyID]; r != nil {
		for _, h := range r.hashes {
			delete(s.byHash, h)
		}
		delete(s.byKey, keyID)
	}
}

// SweepAccessTokens drops tokens that expired before now, in memory and in the table.
func (d *DB) SweepAccessTokens(ctx context.Context, now time.Time) error {
	s := d.tokens()
	s.mu.Lock()
	for h, t := range s.byHash {
		if !now.Before(t.ExpiresAt) {
			delete(s.byHash, h)
		}
	}
	for id, r := range s.byKey {
		// Rebuilt oldest first, so the ring still overwrites the oldest next.
		n := len(r.hashes)
		kept := make([]tokenHash, 0, n)
		for i := range n {
			if h := r.hashes[(r.next+i)%n]; s.has(h) {
				kept = append(kept, h)
			}
		}
		if len(kept) == 0 {
			delete(s.byKey, id)
			continue
		}
		r.hashes, r.next = kept, 0
	}
	s.mu.Unlock()
	// Through the writer, so hashes still queued are inserted before the delete.
	_, err := d.enqueue(ctx, &tokenSweep{before: now.Unix()})
	return err
}

// The insert skips a key revoked while the token waited in the queue, so a
// restart cannot bring back a token of a revoked key.
const insertTokenSQL = `INSERT INTO access_tokens (hash, key_id, scope, created_at, expires_at)
	SELECT ?, id, ?, ?, ? FROM api_keys WHERE id = ? AND revoked_at IS NULL`

type tokenInsert struct {
	hash tokenHash
	t    AccessToken
}

func (o *tokenInsert) apply(ctx context.Context, s *writeStmts) error {
	_, err := s.insertToken.ExecContext(ctx, o.hash[:], o.t.Scope, o.t.CreatedAt.Unix(), o.t.ExpiresAt.Unix(), o.t.KeyID)
	return err
}

func (o *tokenInsert) finish(error) {}
func (o *tokenInsert) waited() bool { return false }

type tokenDelete struct {
	hash  tokenHash
	keyID int64
}

func (o *tokenDelete) apply(ctx context.Context, s *writeStmts) error {
	_, err := s.tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE key_id = ? AND hash = ?`, o.keyID, o.hash[:])
	return err
}

func (o *tokenDelete) finish(error) {}
func (o *tokenDelete) waited() bool { return false }

type tokenSweep struct{ before int64 }

func (o *tokenSweep) apply(ctx context.Context, s *writeStmts) error {
	if _, err := s.tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE expires_at <= ?`, o.before); err != nil {
		return fmt.Errorf("db: sweep tokens: %w", err)
	}
	return nil
}

func (o *tokenSweep) finish(error) {}
func (o *tokenSweep) waited() bool { return false }
