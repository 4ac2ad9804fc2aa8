package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"keydesk/keys"
)

func fixtureLead(acc Account, k APIKey, n int, idem, hash string) Lead {
	return Lead{PublicID: fmt.Sprintf("ld_%03d", n), AccountID: acc.ID, KeyID: k.ID, Mode: keys.Live,
		FirstName: "Ann", LastName: "Lee", Email: "ann@example.com", Year: 2024, Make: "Honda", Model: "Accord",
		Source: "website", IdempotencyKey: idem, RequestHash: []byte(hash),
		ReceivedAt: fixtureNow.Add(time.Duration(n) * time.Second)}
}

// One batch holds rows that go in, rows that replay an earlier row (of this
// batch or an earlier one), a reused idempotency key with a different body,
// and rows that fail: each answers for itself, and a failing row costs
// only its own request (on PostgreSQL it would abort the transaction).
func TestBatchAnswersEachRow(t *testing.T) { forEachBackend(t, testBatchAnswersEachRow) }

func testBatchAnswersEachRow(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	k := fixtureKey(t, d, acc, fixtureUser(t, d, acc, "admin@acme.test"), "Web")
	missingKey := k
	missingKey.ID = k.ID + 100

	if _, err := d.CreateLead(ctx, fixtureLead(acc, k, 1, "earlier", "h1")); err != nil {
		t.Fatal(err)
	}
	earlierSession := fixtureCaptureSession(acc, k, keys.Live, 1)
	earlierSession.IdempotencyKey, earlierSession.RequestHash = "earlier", []byte("h1")
	if _, _, err := d.CreateCaptureSession(ctx, earlierSession); err != nil {
		t.Fatal(err)
	}

	lead := func(n int, key APIKey, idem, hash string) *leadInsert {
		return &leadInsert{lead: fixtureLead(acc, key, n, idem, hash), done: make(chan struct{})}
	}
	session := func(n int, key APIKey, idem, hash string) *captureInsert {
		s := fixtureCaptureSession(acc, key, keys.Live, n)
		s.IdempotencyKey, s.RequestHash = idem, []byte(hash)
		return &captureInsert{session: s, done: make(chan struct{})}
	}
	leads := []struct {
		name     string
		op       *leadInsert
		wantID   string // the receipt's public id; "" when an error is wanted
		replayed bool
		wantErr  error // nil, ErrIdempotencyMismatch, or errAny
	}{
		{"new", lead(2, k, "a", "ha"), "ld_002", false, nil},
		{"unknown key", lead(3, missingKey, "", ""), "", false, errAny},
		{"same key and body in the batch", lead(4, k, "a", "ha"), "ld_002", true, nil},
		{"same key, other body", lead(5, k, "a", "hb"), "", false, ErrIdempotencyMismatch},
		{"key of an earlier batch", lead(6, k, "earlier", "h1"), "ld_001", true, nil},
		{"duplicate public id", lead(2, k, "", ""), "", false, errAny},
		{"no idempotency key", lead(7, k, "", ""), "ld_007", false, nil},
	}
	sessions := []struct {
		name     string
		op       *captureInsert
		wantID   string
		replayed bool
		wantErr  error
	}{
		{"new", session(2, k, "s", "hs"), "cs_live_002", false, nil},
		{"unknown key", session(3, missingKey, "", ""), "", false, errAny},
		{"same key and body in the batch", session(4, k, "s", "hs"), "cs_live_002", true, nil},
		{"same key, other body", session(5, k, "s", "hx"), "", false, ErrIdempotencyMismatch},
		{"key of an earlier batch", session(6, k, "earlier", "h1"), "cs_live_001", true, nil},
	}
	var batch []writeOp
	for _, l := range leads {
		batch = append(batch, l.op)
	}
	for _, s := range sessions {
		batch = append(batch, s.op)
	}
	d.commitBatch(ctx, batch)

	for _, tt := range leads {
		t.Run("lead "+tt.name, func(t *testing.T) {
			<-tt.op.done
			checkOutcome(t, tt.op.err, tt.wantErr, tt.op.receipt.PublicID, tt.wantID, tt.op.receipt.Replayed, tt.replayed)
		})
	}
	for _, tt := range sessions {
		t.Run("session "+tt.name, func(t *testing.T) {
			<-tt.op.done
			checkOutcome(t, tt.op.err, tt.wantErr, tt.op.result.PublicID, tt.wantID, tt.op.replayed, tt.replayed)
			if tt.wantErr == nil && tt.op.result.ID == 0 {
				t.Error("no id")
			}
		})
	}
	stored, err := d.Leads(ctx, acc.ID, LeadFilter{PageFilter: PageFilter{Limit: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(leadIDs(stored)); got != "[ld_007 ld_002 ld_001]" {
		t.Errorf("stored leads %s, want [ld_007 ld_002 ld_001]", got)
	}
	// The day counts hold what went in, not the replays or the failures.
	var counted, firstID int64
	if err := d.read.QueryRowContext(ctx, `SELECT sum(leads), min(first_id) FROM lead_days WHERE account_id = ?`, acc.ID).Scan(&counted, &firstID); err != nil {
		t.Fatal(err)
	}
	if want := leadID(t, d, acc.ID, "ld_001"); counted != 3 || firstID != want {
		t.Errorf("lead_days counts %d leads from id %d, want 3 from %d", counted, firstID, want)
	}
	all, _ := d.CaptureSessions(ctx, acc.ID, CaptureSessionFilter{Limit: 50})
	if got := fmt.Sprint(publicIDs(all)); got != "[cs_live_002 cs_live_001]" {
		t.Errorf("stored sessions %s, want [cs_live_002 cs_live_001]", got)
	}
}

// errAny stands for "some error" in a table of wanted outcomes.
var errAny = errors.New("any error")

func checkOutcome(t *testing.T, err, wantErr error, id, wantID string, replayed, wantReplayed bool) {
	t.Helper()
	switch {
	case wantErr == errAny && err == nil:
		t.Errorf("stored %s, want an error", id)
	case wantErr == errAny:
	case !errors.Is(err, wantErr):
		t.Errorf("error %v, want %v", err, wantErr)
	case id != wantID || replayed != wantReplayed:
		t.Errorf("answered %q replayed=%v, want %q replayed=%v", id, replayed, wantID, wantReplayed)
	}
}

func leadIDs(ls []Lead) []string {
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.PublicID)
	}
	return ids
}

// Many requests with one idempotency key at once store one lead, and every
// one of them answers with its receipt.
func TestConcurrentLeadsShareOneIdempotencyKey(t *testing.T) {
	forEachBackend(t, testConcurrentLeadsShareOneIdempotencyKey)
}

func testConcurrentLeadsShareOneIdempotencyKey(t *testing.T, dsn string) {
	ctx := context.Background()
	d := fixtureOpen(t, dsn)
	acc := fixtureAccount(t, d, "acme")
	k := fixtureKey(t, d, acc, fixtureUser(t, d, acc, "admin@acme.test"), "Web")
	const n = 40
	receipts := make([]LeadReceipt, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			receipts[i], errs[i] = d.CreateLead(ctx, fixtureLead(acc, k, i, "once", "h"))
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if receipts[i].PublicID != receipts[0].PublicID {
			t.Errorf("request %d answered %s, request 0 %s", i, receipts[i].PublicID, receipts[0].PublicID)
		}
		if !receipts[i].Replayed {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d requests say they stored the lead, want 1", fresh)
	}
	if stored, _ := d.Leads(ctx, acc.ID, LeadFilter{PageFilter: PageFilter{Limit: 100}}); len(stored) != 1 {
		t.Errorf("%d leads stored, want 1", len(stored))
	}
}
