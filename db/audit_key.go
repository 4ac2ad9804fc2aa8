package db

import (
	"context"
)

// KeyAuditEvents returns the newest audit events of one key of an account.
func (d *DB) KeyAuditEvents(ctx context.Context, accountID, keyID int64, limit int) ([]AuditEvent, error) {
	return queryAll(ctx, d.read, "key audit events", scanAuditEvent, `SELECT `+auditColumns+` FROM audit_events
		WHERE account_id = ? AND key_id = ? ORDER BY id DESC LIMIT ?`, accountID, keyID, limit)
}
