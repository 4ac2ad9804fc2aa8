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
	{6, "a key's recent audit events; one-time handles for a new secret's page", `
CREATE INDEX audit_events_key ON audit_events(account_id, key_id, id);

-- A new key's secret is shown once on a page of its own (no JavaScript): the
-- handle, kept only as its SHA-256, lets its user open that page once, shortly.
CREATE TABLE reveal_handles (
	handle_hash     BLOB PRIMARY KEY,
	user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	key_id          INTEGER NOT NULL REFERENCES api_keys(id),
	replaced_key_id INTEGER REFERENCES api_keys(id),
	expires_at      INTEGER NOT NULL
) STRICT;
`},
	{7, "Settings › Users, audit entries about a person and their filters, lead search columns and day counts", `
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;

-- Only the SHA-256 of an invite token is kept; a used or replaced invite has used_at set.
CREATE TABLE user_invites (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	user_id    INTEGER NOT NULL REFERENCES users(id),
	token_hash BLOB NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
) STRICT;
CREATE INDEX user_invites_user ON user_invites(user_id, id);

ALTER TABLE audit_events ADD COLUMN subject_user_id INTEGER REFERENCES users(id);
ALTER TABLE audit_events ADD COLUMN subject_email TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_user ON audit_events(account_id, user_id, id);
CREATE INDEX audit_events_action ON audit_events(account_id, action, id);

-- The landing page counts active and idle keys from this index alone.
CREATE INDEX api_keys_stats ON api_keys(account_id, type, revoked_at, last_used_at);

-- Search keys, normalised when a lead is stored: lower-case full name, lower-case
-- last name (the first name when there is none), lower-case email, the phone's
-- last 10 digits. Every search is an equality on one of them, so each index
-- answers newest first without sorting.
ALTER TABLE leads ADD COLUMN search_full TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN search_last TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN search_email TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN search_phone TEXT NOT NULL DEFAULT '';
UPDATE leads SET
	search_full = lower(trim(first_name || ' ' || last_name)),
	search_last = lower(CASE WHEN last_name <> '' THEN last_name ELSE first_name END),
	search_email = lower(email),
	search_phone = CASE WHEN length(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '')) > 10
		THEN substr(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', ''),
			length(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '')) - 9)
		ELSE replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '+', '') END;
CREATE INDEX leads_account_id ON leads(account_id, id);
CREATE INDEX leads_key ON leads(account_id, key_id, id);
CREATE INDEX leads_search_full ON leads(account_id, search_full, id) WHERE search_full <> '';
CREATE INDEX leads_search_last ON leads(account_id, search_last, id) WHERE search_last <> '';
CREATE INDEX leads_search_email ON leads(account_id, search_email, id) WHERE search_email <> '';
CREATE INDEX leads_search_phone ON leads(account_id, search_phone, id) WHERE search_phone <> '';
CREATE INDEX leads_vin ON leads(account_id, vin, id) WHERE vin <> '';

-- Leads per account, mode and UTC day (unix seconds of its midnight), kept by
-- the lead writer once per batch: the landing page counts without reading
-- leads, and first_id turns "since a day" into an id bound for the Leads page.
CREATE TABLE lead_days (
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	mode       TEXT NOT NULL,
	day        INTEGER NOT NULL,
	leads      INTEGER NOT NULL,
	first_id   INTEGER NOT NULL,
	PRIMARY KEY (account_id, mode, day)
) STRICT;
INSERT INTO lead_days (account_id, mode, day, leads, first_id)
	SELECT account_id, mode, received_at - received_at % 86400, count(*), min(id) FROM leads
	GROUP BY account_id, mode, received_at - received_at % 86400;
`},
	{8, "a key's lifecycle: expiry, IP allowlist, rate limits, v2-only signatures, pause, retiring after a roll", `
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN ip_mode TEXT NOT NULL DEFAULT 'off' CHECK (ip_mode IN ('off', 'report', 'enforce'));
ALTER TABLE api_keys ADD COLUMN ip_allow TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN daily_lead_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN require_v2 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN paused_at INTEGER;
-- After a roll that keeps the old key retiring: the key that replaced it, how
-- long it lives on once that key is first used, the hard deadline, and when
-- the countdown (once started) ends.
ALTER TABLE api_keys ADD COLUMN replaced_by INTEGER REFERENCES api_keys(id);
ALTER TABLE api_keys ADD COLUMN retire_window INTEGER;
ALTER TABLE api_keys ADD COLUMN retire_by INTEGER;
ALTER TABLE api_keys ADD COLUMN retire_at INTEGER;
CREATE INDEX api_keys_retiring ON api_keys(retire_by) WHERE retire_by IS NOT NULL AND revoked_at IS NULL;
-- A retiring key keeps its name beside the key that replaced it.
DROP INDEX api_keys_live_name;
CREATE UNIQUE INDEX api_keys_live_name ON api_keys(account_id, name COLLATE NOCASE) WHERE revoked_at IS NULL AND retire_by IS NULL;
`},
	{9, "request log per key: requests, interned user agents, failed-signature details, hourly counts", `
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
	{10, "addresses seen outside a key's Report-only allowlist", `
-- Calls from outside a Report-only allowlist, per key and address, written
-- in batches off the request's path; swept after 7 days.
CREATE TABLE key_ip_reports (
	key_id     INTEGER NOT NULL REFERENCES api_keys(id),
	addr       TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	PRIMARY KEY (key_id, addr)
) STRICT;
CREATE INDEX key_ip_reports_last_seen ON key_ip_reports(last_seen);
`},
	{11, "the request log in segments: one row per key and write, packing that write's requests", `
-- A key's requests of one write of the log, oldest first, packed (db/request_segments.go):
-- about 15 bytes a request, one insert per key and second instead of one per request.
-- outcomes is a bit mask of the outcome codes inside, tokens the tokens issued.
-- request_log keeps the rows written before this; keydesk moves them here at start.
CREATE TABLE request_segments (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL,
	key_id     INTEGER NOT NULL,
	first_at   INTEGER NOT NULL,
	last_at    INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	outcomes   INTEGER NOT NULL,
	tokens     INTEGER NOT NULL,
	data       BLOB NOT NULL
) STRICT;
CREATE INDEX request_segments_key ON request_segments(key_id, last_at, id);
`},
	{12, "hourly totals per key for the charts, and an index of the hourly failure counts", `
-- Requests per key (key_id 0: the whole account) and hour, in one row: the
-- successes, the failures, and the successes that took data out (reads:
-- routes 5, 6, 8, 9) or pushed data in (writes: routes 4, 7). The charts and
-- Key health read these instead of a row per route and outcome. Outcome 1 is ok.
CREATE TABLE request_hour_totals (
	account_id INTEGER NOT NULL,
	key_id     INTEGER NOT NULL,
	hour       INTEGER NOT NULL,
	ok         INTEGER NOT NULL,
	failed     INTEGER NOT NULL,
	reads      INTEGER NOT NULL,
	writes     INTEGER NOT NULL,
	PRIMARY KEY (account_id, key_id, hour)
) STRICT, WITHOUT ROWID;
INSERT INTO request_hour_totals (account_id, key_id, hour, ok, failed, reads, writes)
SELECT account_id, key_id, hour,
	sum(CASE WHEN outcome = 1 THEN n ELSE 0 END),
	sum(CASE WHEN outcome <> 1 THEN n ELSE 0 END),
	sum(CASE WHEN outcome = 1 AND route IN (5, 6, 8, 9) THEN n ELSE 0 END),
	sum(CASE WHEN outcome = 1 AND route IN (4, 7) THEN n ELSE 0 END)
FROM request_hours GROUP BY account_id, key_id, hour;
-- The top failure reasons read the hourly rows of failures only.
CREATE INDEX request_hours_failures ON request_hours(account_id, key_id, hour, outcome, n) WHERE outcome <> 1;
`},
	{13, "requests per key, day and client address; the target and body hash of a failed signed request", `
-- Requests per key, UTC day and client address (an empty addr: not known),
-- kept as long as the request log: the top client addresses of a week or a
-- month read these instead of decoding a month of segments. keydesk fills
-- them from the segments already written, once, at its next start.
CREATE TABLE request_addr_days (
	account_id INTEGER NOT NULL,
	key_id     INTEGER NOT NULL,
	day        INTEGER NOT NULL,
	addr       BLOB NOT NULL,
	n          INTEGER NOT NULL,
	failed     INTEGER NOT NULL,
	PRIMARY KEY (key_id, addr, day)
) STRICT, WITHOUT ROWID;
-- The same summed over the days kept, per key and address: a month's top
-- addresses when the log keeps a month. Folding subtracts the days it deletes.
CREATE TABLE request_addr_totals (
	key_id     INTEGER NOT NULL,
	addr       BLOB NOT NULL,
	account_id INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	failed     INTEGER NOT NULL,
	PRIMARY KEY (key_id, addr)
) STRICT, WITHOUT ROWID;
INSERT INTO meta (name, value) VALUES ('request_addr_days_backfill', X'31');
-- A failed signed request's target as sent (path and query) and the SHA-256
-- of the body received, for the signature debugger's version 2 diagnosis.
ALTER TABLE request_failures ADD COLUMN sent_target TEXT NOT NULL DEFAULT '';
ALTER TABLE request_failures ADD COLUMN body_sum BLOB;
`},
	{14, "failed requests per key, day and outcome, for the top failure reasons", `
-- Failed requests per key (key_id 0: the whole account), UTC day and
-- outcome, kept as long as the hourly counts: the top failure reasons of a
-- week or a month read a row per day and outcome instead of one per hour,
-- route and outcome. Filled from the hourly counts. Outcome 1 is ok.
CREATE TABLE request_failure_days (
	account_id INTEGER NOT NULL,
	key_id     INTEGER NOT NULL,
	day        INTEGER NOT NULL,
	outcome    INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (account_id, key_id, day, outcome)
) STRICT, WITHOUT ROWID;
INSERT INTO request_failure_days (account_id, key_id, day, outcome, n)
SELECT account_id, key_id, hour / 24, outcome, sum(n) FROM request_hours
WHERE outcome <> 1 GROUP BY account_id, key_id, hour / 24, outcome;
`},
	{15, "quarantine: a digital-requests key's leads parked apart until an admin releases or discards them", `
-- A key in quarantine takes leads as usual (the sender cannot tell) but they
-- go to parked_leads, which the Leads list, the API and the counts never read:
-- the normal path keeps its table and indexes untouched. Release moves a lead
-- into leads as if just received (a new id and received_at), keeping when it
-- first came in as parked_at; discard deletes it.
ALTER TABLE api_keys ADD COLUMN quarantined_at INTEGER;
ALTER TABLE api_keys ADD COLUMN quarantined_by INTEGER REFERENCES users(id);
ALTER TABLE leads ADD COLUMN parked_at INTEGER;
CREATE TABLE parked_leads (
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
	received_at     INTEGER NOT NULL,
	search_full     TEXT NOT NULL,
	search_last     TEXT NOT NULL,
	search_email    TEXT NOT NULL,
	search_phone    TEXT NOT NULL
) STRICT;
CREATE INDEX parked_leads_account ON parked_leads(account_id, id);
CREATE INDEX parked_leads_key ON parked_leads(account_id, key_id, id);
CREATE UNIQUE INDEX parked_leads_idempotency ON parked_leads(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`},
	{16, "a key's note: what it is for and whom to call", `
ALTER TABLE api_keys ADD COLUMN note TEXT NOT NULL DEFAULT '';
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
