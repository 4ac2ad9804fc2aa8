package db

import (
	"context"
	"fmt"
	"time"
)

// postgresMigrations is append-only and numbered as sqliteMigrations: entry N
// makes the same tables, columns, nullability and unique indexes as SQLite's
// entry N, in PostgreSQL's words (BIGINT identity ids, BOOLEAN flags, BIGINT
// Unix seconds, BYTEA blobs, lower(...) indexes for case-insensitive
// uniqueness). schema_migrations records which have run.
var postgresMigrations = []Migration{
	{1, "accounts, users, sessions, keys, audit", `
CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value BYTEA NOT NULL
);

CREATE TABLE accounts (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	licenses   TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE users (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id    BIGINT NOT NULL REFERENCES accounts(id),
	email         TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'dealer')),
	disabled      BOOLEAN NOT NULL DEFAULT false,
	created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE sessions (
	id_hash      BYTEA PRIMARY KEY,
	user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_keys (
	id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id            BIGINT NOT NULL REFERENCES accounts(id),
	name                  TEXT NOT NULL,
	type                  TEXT NOT NULL CHECK (type IN ('digital_requests', 'integration')),
	licenses              TEXT NOT NULL,
	mode                  TEXT NOT NULL CHECK (mode IN ('live', 'test')),
	public_key            TEXT NOT NULL UNIQUE,
	secret_sealed         BYTEA NOT NULL,
	secret_last4          TEXT NOT NULL,
	theme                 TEXT NOT NULL CHECK (theme IN ('lite', 'pro')),
	pii_mask              BOOLEAN NOT NULL,
	redirect_url          TEXT NOT NULL,
	skip_interior         BOOLEAN NOT NULL,
	skip_odometer         BOOLEAN NOT NULL,
	include_disclosures   BOOLEAN NOT NULL,
	include_announcements BOOLEAN NOT NULL,
	capture_sms           TEXT NOT NULL,
	results_sms           TEXT NOT NULL,
	wear_and_tear         BOOLEAN NOT NULL,
	session_expiry        BIGINT NOT NULL,
	created_at            BIGINT NOT NULL,
	created_by            BIGINT REFERENCES users(id),
	last_used_at          BIGINT,
	revoked_at            BIGINT,
	revoked_by            BIGINT REFERENCES users(id)
);
CREATE INDEX api_keys_account ON api_keys(account_id, type, id);
CREATE UNIQUE INDEX api_keys_live_name ON api_keys(account_id, lower(name)) WHERE revoked_at IS NULL;

CREATE TABLE audit_events (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id  BIGINT NOT NULL REFERENCES accounts(id),
	user_id     BIGINT REFERENCES users(id),
	user_email  TEXT NOT NULL,
	action      TEXT NOT NULL,
	key_id      BIGINT REFERENCES api_keys(id),
	key_name    TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	detail      TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX audit_events_account ON audit_events(account_id, id);
`},
	{2, "access tokens (only their SHA-256) and the leads the API takes in", `
CREATE TABLE access_tokens (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	hash       BYTEA NOT NULL,
	key_id     BIGINT NOT NULL REFERENCES api_keys(id),
	scope      TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_key ON access_tokens(key_id);
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);

CREATE TABLE leads (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	public_id       TEXT NOT NULL UNIQUE,
	account_id      BIGINT NOT NULL REFERENCES accounts(id),
	key_id          BIGINT NOT NULL REFERENCES api_keys(id),
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
	request_hash    BYTEA,
	received_at     BIGINT NOT NULL
);
CREATE INDEX leads_account ON leads(account_id, mode, id);
CREATE UNIQUE INDEX leads_idempotency ON leads(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`},
	{3, "capture sessions, with the capture settings each was created with", `
CREATE TABLE capture_sessions (
	id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	public_id             TEXT NOT NULL UNIQUE,
	account_id            BIGINT NOT NULL REFERENCES accounts(id),
	key_id                BIGINT NOT NULL REFERENCES api_keys(id),
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
	pii_mask              BOOLEAN NOT NULL,
	redirect_url          TEXT NOT NULL,
	skip_interior         BOOLEAN NOT NULL,
	skip_odometer         BOOLEAN NOT NULL,
	include_disclosures   BOOLEAN NOT NULL,
	include_announcements BOOLEAN NOT NULL,
	wear_and_tear         BOOLEAN NOT NULL,
	capture_url           TEXT NOT NULL,
	capture_sms           TEXT NOT NULL,
	idempotency_key       TEXT,
	request_hash          BYTEA,
	created_at            BIGINT NOT NULL,
	expires_at            BIGINT NOT NULL
);
CREATE INDEX capture_sessions_account ON capture_sessions(account_id, mode, id);
CREATE UNIQUE INDEX capture_sessions_idempotency ON capture_sessions(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`},
	{4, "sign-in throttle buckets shared by every instance", `
CREATE TABLE login_throttle (
	bucket       TEXT PRIMARY KEY,
	window_start BIGINT NOT NULL,
	attempts     BIGINT NOT NULL,
	failures     BIGINT NOT NULL,
	last_failure BIGINT NOT NULL
);
CREATE INDEX login_throttle_window ON login_throttle(window_start);
`},
	{5, "self-validating access tokens, the change log, instances, revoked token ids", `
DROP TABLE access_tokens;
ALTER TABLE api_keys ADD COLUMN token_epoch BIGINT NOT NULL DEFAULT 0;

-- Writers take an advisory lock first, so sequence numbers commit in order.
CREATE TABLE changes (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind       TEXT NOT NULL,
	account_id BIGINT NOT NULL,
	key_id     BIGINT,
	token_id   BYTEA,
	until      BIGINT,
	created_at BIGINT NOT NULL
);
CREATE INDEX changes_created ON changes(created_at);

CREATE TABLE instances (
	id           TEXT PRIMARY KEY,
	addr         TEXT NOT NULL,
	applied_seq  BIGINT NOT NULL,
	started_at   BIGINT NOT NULL,
	heartbeat_ms BIGINT NOT NULL
);

CREATE TABLE revoked_tokens (
	token_id   BYTEA PRIMARY KEY,
	key_id     BIGINT NOT NULL REFERENCES api_keys(id),
	expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);
`},
	{6, "a key's recent audit events; one-time handles for a new secret's page", `
CREATE INDEX audit_events_key ON audit_events(account_id, key_id, id);

-- A new key's secret is shown once on a page of its own (no JavaScript): the
-- handle, kept only as its SHA-256, lets its user open that page once, shortly.
CREATE TABLE reveal_handles (
	handle_hash     BYTEA PRIMARY KEY,
	user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	key_id          BIGINT NOT NULL REFERENCES api_keys(id),
	replaced_key_id BIGINT REFERENCES api_keys(id),
	expires_at      BIGINT NOT NULL
);
`},
	{7, "Settings › Users, audit entries about a person and their filters, lead search columns and day counts", `
ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT;

-- Only the SHA-256 of an invite token is kept; a used or replaced invite has used_at set.
CREATE TABLE user_invites (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	user_id    BIGINT NOT NULL REFERENCES users(id),
	token_hash BYTEA NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT
);
CREATE INDEX user_invites_user ON user_invites(user_id, id);

ALTER TABLE audit_events ADD COLUMN subject_user_id BIGINT REFERENCES users(id);
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
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	mode       TEXT NOT NULL,
	day        BIGINT NOT NULL,
	leads      BIGINT NOT NULL,
	first_id   BIGINT NOT NULL,
	PRIMARY KEY (account_id, mode, day)
);
INSERT INTO lead_days (account_id, mode, day, leads, first_id)
	SELECT account_id, mode, received_at - received_at % 86400, count(*), min(id) FROM leads
	GROUP BY account_id, mode, received_at - received_at % 86400;
`},
	{8, "a key's lifecycle: expiry, IP allowlist, rate limits, v2-only signatures, pause, retiring after a roll", `
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN ip_mode TEXT NOT NULL DEFAULT 'off' CHECK (ip_mode IN ('off', 'report', 'enforce'));
ALTER TABLE api_keys ADD COLUMN ip_allow TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN rate_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN daily_lead_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN require_v2 BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE api_keys ADD COLUMN paused_at BIGINT;
-- After a roll that keeps the old key retiring: the key that replaced it, how
-- long it lives on once that key is first used, the hard deadline, and when
-- the countdown (once started) ends.
ALTER TABLE api_keys ADD COLUMN replaced_by BIGINT REFERENCES api_keys(id);
ALTER TABLE api_keys ADD COLUMN retire_window BIGINT;
ALTER TABLE api_keys ADD COLUMN retire_by BIGINT;
ALTER TABLE api_keys ADD COLUMN retire_at BIGINT;
CREATE INDEX api_keys_retiring ON api_keys(retire_by) WHERE retire_by IS NOT NULL AND revoked_at IS NULL;
-- A retiring key keeps its name beside the key that replaced it.
DROP INDEX api_keys_live_name;
CREATE UNIQUE INDEX api_keys_live_name ON api_keys(account_id, lower(name)) WHERE revoked_at IS NULL AND retire_by IS NULL;
`},
	{9, "request log per key: requests, interned user agents, failed-signature details, hourly counts", `
CREATE TABLE request_agents (
	id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	agent TEXT NOT NULL UNIQUE
);

CREATE TABLE request_log (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id BIGINT NOT NULL,
	key_id     BIGINT NOT NULL,
	at         BIGINT NOT NULL,
	route      SMALLINT NOT NULL,
	status     SMALLINT NOT NULL,
	outcome    SMALLINT NOT NULL,
	auth       SMALLINT NOT NULL,
	latency_us INTEGER NOT NULL,
	addr       BYTEA,
	agent_id   BIGINT
);
CREATE INDEX request_log_key ON request_log(key_id, at);

CREATE TABLE request_failures (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id     BIGINT NOT NULL,
	key_id         BIGINT NOT NULL,
	at             BIGINT NOT NULL,
	route          SMALLINT NOT NULL,
	outcome        SMALLINT NOT NULL,
	sent_timestamp TEXT NOT NULL,
	sent_token     TEXT NOT NULL,
	sent_version   TEXT NOT NULL,
	secret_print   BYTEA
);
CREATE INDEX request_failures_key ON request_failures(key_id, at);

CREATE TABLE request_hours (
	account_id BIGINT NOT NULL,
	key_id     BIGINT NOT NULL,
	hour       BIGINT NOT NULL,
	route      SMALLINT NOT NULL,
	outcome    SMALLINT NOT NULL,
	n          BIGINT NOT NULL,
	PRIMARY KEY (account_id, key_id, hour, route, outcome)
);
`},
	{10, "addresses seen outside a key's Report-only allowlist", `
-- Calls from outside a Report-only allowlist, per key and address, written
-- in batches off the request's path; swept after 7 days.
CREATE TABLE key_ip_reports (
	key_id     BIGINT NOT NULL REFERENCES api_keys(id),
	addr       TEXT NOT NULL,
	first_seen BIGINT NOT NULL,
	last_seen  BIGINT NOT NULL,
	count      BIGINT NOT NULL,
	PRIMARY KEY (key_id, addr)
);
CREATE INDEX key_ip_reports_last_seen ON key_ip_reports(last_seen);
`},
	{11, "the request log in segments: one row per key and write, packing that write's requests", `
-- A key's requests of one write of the log, oldest first, packed (db/request_segments.go):
-- about 15 bytes a request, one insert per key and second instead of one per request.
-- outcomes is a bit mask of the outcome codes inside, tokens the tokens issued.
-- request_log keeps the rows written before this; keydesk moves them here at start.
CREATE TABLE request_segments (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id BIGINT NOT NULL,
	key_id     BIGINT NOT NULL,
	first_at   BIGINT NOT NULL,
	last_at    BIGINT NOT NULL,
	n          BIGINT NOT NULL,
	outcomes   BIGINT NOT NULL,
	tokens     BIGINT NOT NULL,
	data       BYTEA NOT NULL
);
CREATE INDEX request_segments_key ON request_segments(key_id, last_at, id);
`},
	{12, "hourly totals per key for the charts, and an index of the hourly failure counts", `
-- Requests per key (key_id 0: the whole account) and hour, in one row: the
-- successes, the failures, and the successes that took data out (reads:
-- routes 5, 6, 8, 9) or pushed data in (writes: routes 4, 7). The charts and
-- Key health read these instead of a row per route and outcome. Outcome 1 is ok.
CREATE TABLE request_hour_totals (
	account_id BIGINT NOT NULL,
	key_id     BIGINT NOT NULL,
	hour       BIGINT NOT NULL,
	ok         BIGINT NOT NULL,
	failed     BIGINT NOT NULL,
	reads      BIGINT NOT NULL,
	writes     BIGINT NOT NULL,
	PRIMARY KEY (account_id, key_id, hour)
);
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
	account_id BIGINT NOT NULL,
	key_id     BIGINT NOT NULL,
	day        BIGINT NOT NULL,
	addr       BYTEA NOT NULL,
	n          BIGINT NOT NULL,
	failed     BIGINT NOT NULL,
	PRIMARY KEY (key_id, addr, day)
);
-- The same summed over the days kept, per key and address: a month's top
-- addresses when the log keeps a month. Folding subtracts the days it deletes.
CREATE TABLE request_addr_totals (
	key_id     BIGINT NOT NULL,
	addr       BYTEA NOT NULL,
	account_id BIGINT NOT NULL,
	n          BIGINT NOT NULL,
	failed     BIGINT NOT NULL,
	PRIMARY KEY (key_id, addr)
);
INSERT INTO meta (name, value) VALUES ('request_addr_days_backfill', '\x31'::bytea);
-- A failed signed request's target as sent (path and query) and the SHA-256
-- of the body received, for the signature debugger's version 2 diagnosis.
ALTER TABLE request_failures ADD COLUMN sent_target TEXT NOT NULL DEFAULT '';
ALTER TABLE request_failures ADD COLUMN body_sum BYTEA;
`},
	{14, "failed requests per key, day and outcome, for the top failure reasons", `
-- Failed requests per key (key_id 0: the whole account), UTC day and
-- outcome, kept as long as the hourly counts: the top failure reasons of a
-- week or a month read a row per day and outcome instead of one per hour,
-- route and outcome. Filled from the hourly counts. Outcome 1 is ok.
CREATE TABLE request_failure_days (
	account_id BIGINT NOT NULL,
	key_id     BIGINT NOT NULL,
	day        BIGINT NOT NULL,
	outcome    SMALLINT NOT NULL,
	n          BIGINT NOT NULL,
	PRIMARY KEY (account_id, key_id, day, outcome)
);
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
ALTER TABLE api_keys ADD COLUMN quarantined_at BIGINT;
ALTER TABLE api_keys ADD COLUMN quarantined_by BIGINT REFERENCES users(id);
ALTER TABLE leads ADD COLUMN parked_at BIGINT;
CREATE TABLE parked_leads (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	public_id       TEXT NOT NULL UNIQUE,
	account_id      BIGINT NOT NULL REFERENCES accounts(id),
	key_id          BIGINT NOT NULL REFERENCES api_keys(id),
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
	request_hash    BYTEA,
	received_at     BIGINT NOT NULL,
	search_full     TEXT NOT NULL,
	search_last     TEXT NOT NULL,
	search_email    TEXT NOT NULL,
	search_phone    TEXT NOT NULL
);
CREATE INDEX parked_leads_account ON parked_leads(account_id, id);
CREATE INDEX parked_leads_key ON parked_leads(account_id, key_id, id);
CREATE UNIQUE INDEX parked_leads_idempotency ON parked_leads(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`},
	{16, "a key's note: what it is for and whom to call", `
ALTER TABLE api_keys ADD COLUMN note TEXT NOT NULL DEFAULT '';
`},
}

// migratePostgres runs the pending PostgreSQL migrations under an advisory
// lock, so instances starting together on an empty database migrate once.
func (d *DB) migratePostgres(ctx context.Context) error {
	return d.Exclusively(ctx, "migrate", func(ctx context.Context) error {
		if _, err := d.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			id          BIGINT PRIMARY KEY,
			description TEXT NOT NULL,
			applied_at  BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("db: schema_migrations: %w", err)
		}
		var version int
		if err := d.write.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return fmt.Errorf("db: read schema version: %w", err)
		}
		if version > len(postgresMigrations) {
			return fmt.Errorf("db: schema version %d is newer than this keydesk (%d): upgrade keydesk", version, len(postgresMigrations))
		}
		for _, m := range postgresMigrations[version:] {
			err := d.inTx(ctx, func(tx *Tx) error {
				if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (id, description, applied_at) VALUES (?, ?, ?)`,
					m.ID, m.Description, time.Now().Unix())
				return err
			})
			if err != nil {
				return fmt.Errorf("db: migration %d (%s): %w", m.ID, m.Description, err)
			}
		}
		return nil
	})
}

// SchemaVersion returns how many migrations the database has run.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	q := `PRAGMA user_version`
	if d.backend == Postgres {
		q = `SELECT coalesce(max(id), 0) FROM schema_migrations`
	}
	var v int
	if err := d.read.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return 0, fmt.Errorf("db: read schema version: %w", err)
	}
	return v, nil
}
