package db

import (
	"context"
	"fmt"
)

// Migration is one step of the schema. Entry N of the SQLite and the
// PostgreSQL lists is the same change in each dialect.
type Migration struct {
	ID          int
	Description string
	SQL         string
}

// sqliteMigrations is append-only: each entry runs once, in order, in its own
// transaction, and PRAGMA user_version records how many have run. A test
// pins the SQL of every shipped entry: never edit one, append another.
var sqliteMigrations = []Migration{
	{1, "accounts, users, sessions, keys, audit", `
CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;

CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	licenses   TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts(id),
	email         TEXT NOT NULL COLLATE NOCASE UNIQUE,
	password_hash TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'dealer')),
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
	id_hash      BLOB PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_keys (
	id                    INTEGER PRIMARY KEY,
	account_id            INTEGER NOT NULL REFERENCES accounts(id),
	name                  TEXT NOT NULL,
	type                  TEXT NOT NULL CHECK (type IN ('digital_requests', 'integration')),
	licenses              TEXT NOT NULL,
	mode                  TEXT NOT NULL CHECK (mode IN ('live', 'test')),
	public_key            TEXT NOT NULL UNIQUE,
	secret_sealed         BLOB NOT NULL,
	secret_last4          TEXT NOT NULL,
	theme                 TEXT NOT NULL CHECK (theme IN ('lite', 'pro')),
	pii_mask              INTEGER NOT NULL,
	redirect_url          TEXT NOT NULL,
	skip_interior         INTEGER NOT NULL,
	skip_odometer         INTEGER NOT NULL,
	include_disclosures   INTEGER NOT NULL,
	include_announcements INTEGER NOT NULL,
	capture_sms           TEXT NOT NULL,
	results_sms           TEXT NOT NULL,
	wear_and_tear         INTEGER NOT NULL,
	session_expiry        INTEGER NOT NULL,
	created_at            INTEGER NOT NULL,
	created_by            INTEGER REFERENCES users(id),
	last_used_at          INTEGER,
	revoked_at            INTEGER,
	revoked_by            INTEGER REFERENCES users(id)
) STRICT;
CREATE INDEX api_keys_account ON api_keys(account_id, type, id);
CREATE UNIQUE INDEX api_keys_live_name ON api_keys(account_id, name COLLATE NOCASE) WHERE revoked_at IS NULL;

CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY,
	account_id  INTEGER NOT NULL REFERENCES accounts(id),
	user_id     INTEGER REFERENCES users(id),
	user_email  TEXT NOT NULL,
	action      TEXT NOT NULL,
	key_id      INTEGER REFERENCES api_keys(id),
	key_name    TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	detail      TEXT NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_events_account ON audit_events(account_id, id);
`},
	{2, "access tokens (only their SHA-256) and the leads the API takes in", `
-- Rows only ever append (tokens are found in memory, never by hash here), so
-- a batch of inserts dirties a few pages at the end of the table and indexes.
CREATE TABLE access_tokens (
	id         INTEGER PRIMARY KEY,
	hash       BLOB NOT NULL,
	key_id     INTEGER NOT NULL REFERENCES api_keys(id),
	scope      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX access_tokens_key ON access_tokens(key_id);
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);

-- public_id starts with the time received, so its index also appends.
CREATE TABLE leads (
	id              INTEGER PRIMARY KEY,
	public_id       TEXT NOT NULL UNIQUE,
	account_id      INTEGER NOT NULL REFERENCES accounts(id),
	key_id          INTEGER NOT NULL REFERENCES api_keys(id),
	mode            TEXT NOT NULL CHECK (mode IN ('live', 'test')),
	first_name      TEXT NOT NULL,
	last_name       TEXT NOT NULL,
	email           TEXT NOT NULL,
	phone           TEXT NOT NULL,
	vin             TEXT NOT NULL,
	year            INTEGER,
	make            TEXT NOT NULL,
	model           TEXT NOT NULL,
	stock_number    TEXT NOT NULL,
	message         TEXT NOT NULL,
	source          TEXT NOT NULL,
	idempotency_key TEXT,
	request_hash    BLOB,
	received_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX leads_account ON leads(account_id, mode, id);
CREATE UNIQUE INDEX leads_idempotency ON leads(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`},
	{3, "capture sessions, with the capture settings each was created with", `
-- The settings are copied from the key (or the request's overrides) when the
-- session is made, so editing the key later does not change a session sent out.
-- public_id starts with the time created, so its index also appends.
CREATE TABLE capture_sessions (
	id                    INTEGER PRIMARY KEY,
	public_id             TEXT NOT NULL UNIQUE,
	account_id            INTEGER NOT NULL REFERENCES accounts(id),
	key_id                INTEGER NOT NULL REFERENCES api_keys(id),
	mode                  TEXT NOT NULL CHECK (mode IN ('live', 'test')),
	customer_name         TEXT NOT NULL,
	customer_email        TEXT NOT NULL,
	customer_phone        TEXT NOT NULL,
	vin                   TEXT NOT NULL,
	year                  INTEGER,
	make                  TEXT NOT NULL,
	model                 TEXT NOT NULL,
	stock_number          TEXT NOT NULL,
	theme                 TEXT NOT NULL CHECK (theme IN ('lite', 'pro')),
	pii_mask              INTEGER NOT NULL,
	redirect_url          TEXT NOT NULL,
	skip_interior         INTEGER NOT NULL,
	skip_odometer         INTEGER NOT NULL,
	include_disclosures   INTEGER NOT NULL,
	include_announcements INTEGER NOT NULL,
	wear_and_tear         INTEGER NOT NULL,
	capture_url           TEXT NOT NULL,
	capture_sms           TEXT NOT NULL,
	idempotency_key       TEXT,
	request_hash          BLOB,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX capture_sessions_account ON capture_sessions(account_id, mode, id);
CREATE UNIQUE INDEX capture_sessions_idempotency ON capture_sessions(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`},
	{4, "sign-in throttle buckets shared by every instance", `
-- One row per bucket (an address, an email, an email from one address): the
-- attempts in the current fixed window, in flight ones included.
CREATE TABLE login_throttle (
	bucket       TEXT PRIMARY KEY,
	window_start INTEGER NOT NULL,
	attempts     INTEGER NOT NULL,
	failures     INTEGER NOT NULL,
	last_failure INTEGER NOT NULL
) STRICT;
CREATE INDEX login_throttle_window ON login_throttle(window_start);
`},
	{5, "self-validating access tokens, the change log, instances, revoked token ids", `
DROP TABLE access_tokens;
ALTER TABLE api_keys ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;

-- Append-only: every change that decides whether a credential is valid, in
-- commit order. Instances apply it to their live state.
CREATE TABLE changes (
	seq        INTEGER PRIMARY KEY,
	kind       TEXT NOT NULL,
	account_id INTEGER NOT NULL,
	key_id     INTEGER,
	token_id   BLOB,
	until      INTEGER,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX changes_created ON changes(created_at);

CREATE TABLE instances (
	id           TEXT PRIMARY KEY,
	addr         TEXT NOT NULL,
	applied_seq  INTEGER NOT NULL,
	started_at   INTEGER NOT NULL,
	heartbeat_ms INTEGER NOT NULL
) STRICT;

-- An access token revoked on its own, remembered until it would have expired.
CREATE TABLE revoked_tokens (
	token_id   BLOB PRIMARY KEY,
	key_id     INTEGER NOT NULL REFERENCES api_keys(id),
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);
`},
	{6, "request log per key: requests, interned user agents, failed-signature details, hourly counts", `
-- A user agent is stored once and referred to by id.
CREATE TABLE request_agents (
	id    INTEGER PRIMARY KEY,
	agent TEXT NOT NULL UNIQUE
) STRICT;

-- One row per API request that named a key, kept KEYDESK_REQUEST_LOG_DAYS days.
-- Compact on purpose: route, outcome and auth are codes (db/request_log.go),
-- the client address is 4 or 16 bytes.
CREATE TABLE request_log (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL,
	key_id     INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	route      INTEGER NOT NULL,
	status     INTEGER NOT NULL,
	outcome    INTEGER NOT NULL,
	auth       INTEGER NOT NULL,
	latency_us INTEGER NOT NULL,
	addr       BLOB,
	agent_id   INTEGER
) STRICT;
CREATE INDEX request_log_key ON request_log(key_id, at);

-- What the client sent with a failed signed or token request, for the
-- signature debugger: never a secret of ours (a keyed fingerprint of the
-- secret sent at the token endpoint, the client's own MAC of a failed
-- signature).
CREATE TABLE request_failures (
	id             INTEGER PRIMARY KEY,
	account_id     INTEGER NOT NULL,
	key_id         INTEGER NOT NULL,
	at             INTEGER NOT NULL,
	route          INTEGER NOT NULL,
	outcome        INTEGER NOT NULL,
	sent_timestamp TEXT NOT NULL,
	sent_token     TEXT NOT NULL,
	sent_version   TEXT NOT NULL,
	secret_print   BLOB
) STRICT;
CREATE INDEX request_failures_key ON request_failures(key_id, at);

-- Requests per hour, key and outcome, kept 400 days; key_id 0 is the whole account.
CREATE TABLE request_hours (
	account_id INTEGER NOT NULL,
	key_id     INTEGER NOT NULL,
	hour       INTEGER NOT NULL,
	route      INTEGER NOT NULL,
	outcome    INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (account_id, key_id, hour, route, outcome)
) STRICT, WITHOUT ROWID;
`},
}

func (d *DB) migrateSQLite(ctx context.Context) error {
	for {
		// The version is read inside each migration's write transaction, so
		// two stores opening one new file cannot both run a migration.
		done := false
		err := d.inTx(ctx, func(tx *Tx) error {
			var version int
			if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
				return fmt.Errorf("db: read schema version: %w", err)
			}
			if version > len(sqliteMigrations) {
				return fmt.Errorf("db: schema version %d is newer than this keydesk (%d): upgrade keydesk", version, len(sqliteMigrations))
			}
			if version == len(sqliteMigrations) {
				done = true
				return nil
			}
			m := sqliteMigrations[version]
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("db: migration %d (%s): %w", m.ID, m.Description, err)
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.ID))
			return err
		})
		if err != nil || done {
			return err
		}
	}
}
