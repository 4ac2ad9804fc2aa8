package db

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"keydesk/keys"
)

// ErrIdempotencyMismatch is returned when an idempotency key is reused with a different lead.
var ErrIdempotencyMismatch = errors.New("db: idempotency key reused with a different request")

// Lead is a sales lead pushed in through the API.
type Lead struct {
	ID          int64 // internal order, for paging
	PublicID    string
	AccountID   int64
	KeyID       int64
	KeyName     string
	Mode        keys.Mode
	FirstName   string
	LastName    string
	Email       string
	Phone       string
	VIN         string
	Year        int
	Make        string
	Model       string
	StockNumber string
	Message     string
	Source      string
	ReceivedAt  time.Time
	// Parked stores the lead apart, in quarantine (its key is quarantined);
	// ParkedAt is when a lead released from quarantine first came in (its
	// ReceivedAt is the release), zero for every other lead.
	Parked   bool
	ParkedAt time.Time

	// IdempotencyKey and RequestHash make a retried POST answer the first receipt.
	IdempotencyKey string
	RequestHash    []byte
}

// LeadReceipt is all the API tells about a lead it took in.
type LeadReceipt struct {
	PublicID   string
	ReceivedAt time.Time
	Replayed   bool // an earlier request with the same idempotency key stored it
}

// CreateLead stores a lead through the group-commit writer and returns once
// it is committed. A key's second lead with the same idempotency key stores
// nothing and returns the first receipt, or ErrIdempotencyMismatch when the
// lead differs.
func (d *DB) CreateLead(ctx context.Context, l Lead) (LeadReceipt, error) {
	op := &leadInsert{lead: l, done: make(chan struct{})}
	if err := d.commit(ctx, op, op.done); err != nil {
		return LeadReceipt{}, err
	}
	return op.receipt, op.err
}

var leadsInsert, parkedLeadsInsert = newInsertTable("leads", leadInsertColumns...), newInsertTable("parked_leads", leadInsertColumns...)

// leadInsertColumns are the columns a lead is stored with, in leads and parked_leads alike.
var leadInsertColumns = []string{"public_id", "account_id", "key_id", "mode", "first_name", "last_name",
	"email", "phone", "vin", "year", "make", "model", "stock_number", "message", "source", "idempotency_key",
	"request_hash", "received_at", "search_full", "search_last", "search_email", "search_phone"}

type leadInsert struct {
	lead    Lead
	receipt LeadReceipt
	err     error
	done    chan struct{}
}

func (o *leadInsert) table() *insertTable {
	if o.lead.Parked {
		return &parkedLeadsInsert
	}
	return &leadsInsert
}

func (o *leadInsert) values() []any {
	l := &o.lead
	full, last := searchNames(l.FirstName, l.LastName)
	return []any{l.PublicID, l.AccountID, l.KeyID, string(l.Mode), l.FirstName, l.LastName, l.Email, l.Phone, l.VIN,
		nullIfZero(l.Year), l.Make, l.Model, l.StockNumber, l.Message, l.Source, nullIfEmpty(l.IdempotencyKey),
		l.RequestHash, l.ReceivedAt.Unix(), full, last, strings.ToLower(l.Email), searchPhone(l.Phone)}
}

func (o *leadInsert) publicID() string { return o.lead.PublicID }

func (o *leadInsert) stored(id int64) {
	o.lead.ID = id
	o.receipt, o.err = LeadReceipt{PublicID: o.lead.PublicID, ReceivedAt: o.lead.ReceivedAt.UTC().Truncate(time.Second)}, nil
}

func (o *leadInsert) replay(ctx context.Context, q querier) error {
	o.lead.ID = 0 // not stored by this request
	var r LeadReceipt
	var received int64
	var hash []byte
	err := q.QueryRowContext(ctx, `SELECT public_id, received_at, request_hash FROM `+o.table().name+` WHERE key_id = ? AND idempotency_key = ?`,
		o.lead.KeyID, o.lead.IdempotencyKey).Scan(&r.PublicID, &received, &hash)
	if err != nil {
		return fmt.Errorf("db: replayed lead: %w", err)
	}
	if !bytes.Equal(hash, o.lead.RequestHash) {
		o.receipt, o.err = LeadReceipt{}, ErrIdempotencyMismatch
		return o.err
	}
	r.ReceivedAt, r.Replayed = time.Unix(received, 0).UTC(), true
	o.receipt, o.err = r, nil
	return nil
}

func (o *leadInsert) fail(err error) { o.lead.ID, o.receipt, o.err = 0, LeadReceipt{}, err }

func (o *leadInsert) waited() bool { return true }

func (o *leadInsert) finish(err error) {
	if err != nil {
		o.err = err
	}
	close(o.done)
}

const leadColumns = `l.id, l.public_id, l.account_id, l.key_id, k.name, l.mode, l.first_name, l.last_name, l.email,
	l.phone, l.vin, coalesce(l.year, 0), l.make, l.model, l.stock_number, l.message, l.source, l.received_at, l.parked_at`

// PageFilter selects one page of an account's rows, newest first.
type PageFilter struct {
	Mode     keys.Mode // "" for both modes
	BeforeID int64     // 0 for the newest
	// AfterID, instead of BeforeID, reads the page just newer than it:
	// oldest first along the same index (Leads returns them newest first).
	AfterID int64
	Limit   int
}

// LeadFilter selects an account's leads for a page.
type LeadFilter struct {
	PageFilter
	KeyID int64 // 0 for every key
	// KeyIDs, when there are several, are the keys to list instead of KeyID
	// (every key of one name): one arm per key, each a page along its index.
	KeyIDs []int64
	Search LeadSearch // the zero value for no search
	// Since keeps leads received at Since or later; SinceID (from FirstLeadIDSince) bounds the ids to read.
	Since   time.Time
	SinceID int64
}

// Leads lists an account's leads newest first, with the name of the key that
// brought each. Every filter is an equality on an index ending in id, so a
// page never sorts or skips rows, however deep.
func (d *DB) Leads(ctx context.Context, accountID int64, f LeadFilter) ([]Lead, error) {
	q, args := f.leadsQuery(accountID)
	leads, err := queryAll(ctx, d.read, "leads", scanLead, q, args...)
	if f.AfterID > 0 {
		slices.Reverse(leads) // read oldest first from AfterID; shown newest first
	}
	return leads, err
}

func (f LeadFilter) leadsQuery(accountID int64) (string, []any) {
	return f.queryFrom(`SELECT `+leadColumns+` FROM leads l`, accountID)
}

// queryFrom completes selectFrom, a SELECT … FROM leads or parked_leads
// aliased l, into the filter's page.
func (f LeadFilter) queryFrom(selectFrom string, accountID int64) (string, []any) {
	if len(f.KeyIDs) > 1 {
		// Each key's page newest first along (account_id, key_id, id), at most
		// Limit rows an arm; the union's few rows are then put in order.
		var q string
		var args []any
		for i, id := range f.KeyIDs {
			one := f
			one.KeyID, one.KeyIDs = id, nil
			arm, armArgs := one.queryFrom(selectFrom, accountID)
			if i > 0 {
				q += ` UNION ALL `
			}
			q += `SELECT * FROM (` + arm + `) AS arm` + strconv.Itoa(i)
			args = append(args, armArgs...)
		}
		order := ` DESC`
		if f.AfterID > 0 {
			order = ` ASC`
		}
		return q + ` ORDER BY 1` + order + ` LIMIT ?`, append(args, f.Limit)
	}
	if len(f.KeyIDs) == 1 {
		f.KeyID = f.KeyIDs[0]
	}
	from := selectFrom + ` JOIN api_keys k ON k.id = l.key_id`
	var args []any
	if f.KeyID != 0 {
		from += ` AND l.key_id = ?`
		args = append(args, f.KeyID)
	}
	if f.Search.Column != "" {
		from += ` AND l.` + f.Search.Column + ` = ? AND l.` + f.Search.Column + ` <> ''`
		args = append(args, f.Search.Value)
		if f.Search.Full != "" {
			from += ` AND l.search_full = ?`
			args = append(args, f.Search.Full)
		}
	}
	if !f.Since.IsZero() {
		from += ` AND l.id >= ? AND l.received_at >= ?`
		args = append(args, f.SinceID, f.Since.Unix())
	}
	q, pageArgs := f.query(from, "l", accountID)
	return q, append(args, pageArgs...)
}

// LeadByID returns one lead of an account, in either mode; any other is ErrNotFound.
func (d *DB) LeadByID(ctx context.Context, accountID, id int64) (Lead, error) {
	return scanLead(d.read.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads l JOIN api_keys k ON k.id = l.key_id
		WHERE l.account_id = ? AND l.id = ?`, accountID, id))
}

// LeadSearch is a search of the Leads page turned into an equality on one of
// the normalised search columns.
type LeadSearch struct {
	Kind   string // "email", "phone", "vin" or "name"; "" for no search
	Column string
	Value  string
	Full   string // several words: the full name the last word's matches must have
}

// ParseLeadSearch reads what a person typed: an email (it has an @), a VIN
// (17 letters and digits with one digit at least), a phone number (7 digits
// or more, compared by its last 10 digits so formatting and a country code do
// not matter), else a name. One word matches last names (a lead without a
// last name by its first name); several words match the full name. Every
// match is exact and case-insensitive: an index answers it newest first
// without sorting, at any size.
func ParseLeadSearch(q string) LeadSearch {
	q = strings.Join(strings.Fields(q), " ")
	switch {
	case q == "":
		return LeadSearch{}
	case strings.Contains(q, "@"):
		return LeadSearch{Kind: "email", Column: "search_email", Value: strings.ToLower(q)}
	case looksLikeVIN(q):
		return LeadSearch{Kind: "vin", Column: "vin", Value: strings.ToUpper(q)}
	case looksLikePhone(q):
		return LeadSearch{Kind: "phone", Column: "search_phone", Value: searchPhone(q)}
	}
	full, last := strings.ToLower(q), strings.ToLower(q)
	if i := strings.LastIndexByte(full, ' '); i >= 0 {
		return LeadSearch{Kind: "name", Column: "search_last", Value: full[i+1:], Full: full}
	}
	return LeadSearch{Kind: "name", Column: "search_last", Value: last}
}

// searchNames are a lead's normalised full name and the name a one-word search matches.
func searchNames(first, last string) (string, string) {
	full := strings.ToLower(strings.Join(strings.Fields(first+" "+last), " "))
	l := strings.Fields(strings.ToLower(last))
	if len(l) == 0 {
		l = strings.Fields(strings.ToLower(first))
	}
	if len(l) == 0 {
		return full, ""
	}
	return full, l[len(l)-1]
}

// searchPhone is a phone number's last 10 digits.
func searchPhone(p string) string {
	var d []byte
	for i := 0; i < len(p); i++ {
		if '0' <= p[i] && p[i] <= '9' {
			d = append(d, p[i])
		}
	}
	if len(d) > 10 {
		d = d[len(d)-10:]
	}
	return string(d)
}

func looksLikeVIN(q string) bool {
	if len(q) != 17 {
		return false
	}
	digit := false
	for _, c := range strings.ToUpper(q) {
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'A' <= c && c <= 'Z':
		default:
			return false
		}
	}
	return digit
}

func looksLikePhone(q string) bool {
	digits := 0
	for _, c := range q {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case strings.ContainsRune("+-.() ", c):
		default:
			return false
		}
	}
	return digits >= 7
}

// LeadByPublicID returns one lead of an account in one mode; any other is ErrNotFound.
func (d *DB) LeadByPublicID(ctx context.Context, accountID int64, mode keys.Mode, publicID string) (Lead, error) {
	return scanLead(d.read.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads l JOIN api_keys k ON k.id = l.key_id
		WHERE l.account_id = ? AND l.mode = ? AND l.public_id = ?`, accountID, string(mode), publicID))
}

func scanLead(s scanner) (Lead, error) {
	var l Lead
	var mode string
	var received int64
	var parked sql.NullInt64
	err := s.Scan(&l.ID, &l.PublicID, &l.AccountID, &l.KeyID, &l.KeyName, &mode, &l.FirstName, &l.LastName, &l.Email,
		&l.Phone, &l.VIN, &l.Year, &l.Make, &l.Model, &l.StockNumber, &l.Message, &l.Source, &received, &parked)
	if errors.Is(err, sql.ErrNoRows) {
		return Lead{}, ErrNotFound
	}
	if err != nil {
		return Lead{}, fmt.Errorf("db: scan lead: %w", err)
	}
	l.Mode, l.ReceivedAt, l.ParkedAt = keys.Mode(mode), time.Unix(received, 0).UTC(), unixOrZero(parked)
	return l, nil
}

// query completes selectFrom, a SELECT … FROM of a table aliased t, into the
// filter's page of an account's rows, and returns it with its arguments.
func (f PageFilter) query(selectFrom, t string, accountID int64) (string, []any) {
	q := selectFrom + ` WHERE ` + t + `.account_id = ?`
	args := []any{accountID}
	if f.Mode != "" {
		q += ` AND ` + t + `.mode = ?`
		args = append(args, string(f.Mode))
	}
	order := ` DESC`
	switch {
	case f.AfterID > 0:
		q += ` AND ` + t + `.id > ?`
		args = append(args, f.AfterID)
		order = ` ASC`
	case f.BeforeID > 0:
		q += ` AND ` + t + `.id < ?`
		args = append(args, f.BeforeID)
	}
	q += ` ORDER BY ` + t + `.id` + order + ` LIMIT ?`
	args = append(args, f.Limit)
	return q, args
}

// queryAll runs a query and scans every row with scan; what names the query
// in errors, such as "leads".
func queryAll[T any](ctx context.Context, read querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return out, nil
}

// nullIfEmpty stores an empty string as NULL.
func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// nullIfZero stores 0 as NULL.
func nullIfZero(n int) sql.NullInt64 { return sql.NullInt64{Int64: int64(n), Valid: n != 0} }

type leadDay struct {
	accountID int64
	mode      keys.Mode
	day       int64
}

type leadDayCount struct{ leads, firstID int64 }

func compareLeadDays(a, b leadDay) int {
	return cmp.Or(cmp.Compare(a.accountID, b.accountID), strings.Compare(string(a.mode), string(b.mode)), cmp.Compare(a.day, b.day))
}

// writeLeadDays adds the day counts of the leads a batch stored to
// lead_days, inside the batch's transaction, in key order (as a PostgreSQL
// batch does: see insertTable.sql).
func writeLeadDays(ctx context.Context, tx *Tx, batch []writeOp) error {
	days := map[leadDay]leadDayCount{}
	for _, op := range batch {
		o, ok := op.(*leadInsert)
		if !ok || o.err != nil || o.lead.ID == 0 || o.lead.Parked {
			continue
		}
		l := &o.lead
		at := l.ReceivedAt.Unix()
		k := leadDay{l.AccountID, l.Mode, at - at%86400}
		c := days[k]
		if c.leads == 0 || l.ID < c.firstID {
			c.firstID = l.ID
		}
		c.leads++
		days[k] = c
	}
	for _, k := range slices.SortedFunc(maps.Keys(days), compareLeadDays) {
		c := days[k]
		_, err := tx.ExecPrepared(ctx, `INSERT INTO lead_days (account_id, mode, day, leads, first_id) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, mode, day) DO UPDATE SET leads = lead_days.leads + excluded.leads,
			first_id = CASE WHEN excluded.first_id < lead_days.first_id THEN excluded.first_id ELSE lead_days.first_id END`,
			k.accountID, string(k.mode), k.day, c.leads, c.firstID)
		if err != nil {
			return fmt.Errorf("db: count leads: %w", err)
		}
	}
	return nil
}

// LeadCounts are how many leads an account received, for the landing page.
type LeadCounts struct{ Today, Week int }

// CountLeads counts an account's leads (live and test) of the UTC day of now and of the 7 days ending with it.
func (d *DB) CountLeads(ctx context.Context, accountID int64, now time.Time) (LeadCounts, error) {
	today := dayStart(now)
	var c LeadCounts
	err := d.read.QueryRowContext(ctx, `SELECT coalesce(sum(CASE WHEN day = ? THEN leads ELSE 0 END), 0), coalesce(sum(leads), 0)
		FROM lead_days WHERE account_id = ? AND day >= ?`, today, accountID, today-6*86400).Scan(&c.Today, &c.Week)
	if err != nil {
		return LeadCounts{}, fmt.Errorf("db: count leads: %w", err)
	}
	return c, nil
}

// FirstLeadIDSince is the smallest id of the account's leads received on the UTC day of since or later; 0 when none.
func (d *DB) FirstLeadIDSince(ctx context.Context, accountID int64, since time.Time) (int64, error) {
	var id int64
	err := d.read.QueryRowContext(ctx, `SELECT coalesce(min(first_id), 0) FROM lead_days WHERE account_id = ? AND day >= ?`,
		accountID, dayStart(since)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("db: first lead since: %w", err)
	}
	return id, nil
}

func dayStart(t time.Time) int64 {
	u := t.Unix()
	return u - u%86400
}
