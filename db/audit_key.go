package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const auditColumns = `id, account_id, coalesce(user_id, 0), user_email, action,
	coalesce(key_id, 0), key_name, remote_addr, detail, created_at`

// KeyAuditEvents returns the newest audit events of one key of an account.
func (d *DB) KeyAuditEvents(ctx context.Context, accountID, keyID int64, limit int) ([]AuditEvent, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events
		WHERE account_id = ? AND key_id = ? ORDER BY id DESC LIMIT ?`, accountID, keyID, limit)
	if err != nil {
		return nil, fmt.Errorf("db: key audit events: %w", err)
	}
	return scanAuditEvents(rows)
}

func scanAuditEvents(rows *sql.Rows) ([]AuditEvent, error) {
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var created int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.UserID, &e.UserEmail, &e.Action, &e.KeyID, &e.KeyName,
			&e.RemoteAddr, &e.Detail, &created); err != nil {
			return nil, fmt.Errorf("db: scan audit event: %w", err)
		}
		e.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
