package db

import (
	"context"
	"time"
)

// accountCacheTTL bounds how long the API may act on an account's old
// licenses; nothing else about an account changes while keydesk runs.
const accountCacheTTL = 5 * time.Second

type cachedAccount struct {
	account Account
	loaded  time.Time
}

// CachedAccount returns an account for the API's hot path, from memory when
// it was read less than a few seconds ago. The result is shared: do not change it.
func (d *DB) CachedAccount(ctx context.Context, id int64) (*Account, error) {
	if c, ok := d.api.accounts.Load(id); ok {
		if c := c.(*cachedAccount); time.Since(c.loaded) < accountCacheTTL {
			return &c.account, nil
		}
	}
	a, err := d.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	c := &cachedAccount{account: a, loaded: time.Now()}
	d.api.accounts.Store(id, c)
	return &c.account, nil
}
