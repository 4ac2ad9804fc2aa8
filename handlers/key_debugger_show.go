package handlers

import (
	"crypto/hmac"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/views"
	"keydesk/web"
)

// debuggerAttempts is how many mistakes the debugger shows, each with its
// newest failure; debuggerRead is how many recent failures it reads to find
// them, so one mistake repeated does not push every other one out.
const (
	debuggerAttempts = 20
	debuggerRead     = 200
)

// maxOtherSecrets bounds the account's other secrets the debugger tries.
const maxOtherSecrets = 50

// keySignatureFailures is the signature-failure debugger of a key (admin,
// audited): each recent failed signed or token request, what the client
// sent, the server's clock and skew, the text to sign, and a diagnosis
// found with the key's own secret. It shows no secret and no MAC of ours.
func (h *Handlers) keySignatureFailures(c echo.Context) error {
	k, err := h.accountKey(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	fails, err := h.db.RequestFailures(ctx, k.AccountID, k.ID, debuggerRead)
	if err != nil {
		return err
	}
	if err := h.db.RecordSignatureDebug(ctx, k, actor(c), h.now()); err != nil {
		return err
	}
	secret, err := h.sealer.Open(k.SecretSealed, k.PublicKey)
	if err != nil {
		return fmt.Errorf("handlers: open secret of key %d: %w", k.ID, err)
	}
	all, err := h.db.AccountAPIKeys(ctx, k.AccountID)
	if err != nil {
		return err
	}
	others, previous := h.otherSecrets(k, all)
	acc := viewer(c).Account
	vm := views.SignatureDebuggerVM{Page: page(c, "Failed signatures of "+k.Name, "integrations"),
		KeyID: k.ID, KeyName: k.Name, PublicKey: k.PublicKey, Slug: acc.Slug}
	// The same mistake (route, outcome, version, findings) is shown once, by
	// its newest failure, with how many there were since when.
	seen := map[string]int{}
	for _, f := range fails {
		a := views.DebugAttemptVM{At: f.At.Format("2006-01-02 15:04:05 UTC"), Route: f.Route, Outcome: f.Outcome,
			ServerClock: f.At.Format(keys.TimestampLayout), SentTimestamp: f.Sent.Timestamp, SentVersion: f.Sent.Version}
		if k.Revoked() {
			a.Findings = append(a.Findings, views.FindingVM{Code: "key_revoked",
				Message: "This key was revoked on " + k.RevokedAt.UTC().Format("2006-01-02 15:04 UTC") + ": every request with it is refused."})
		}
		if f.Route == db.RouteToken || f.Sent.SecretPrint != nil {
			a.Token = true
			a.Findings = append(a.Findings, h.diagnoseSecret(f, secret, others, previous))
		} else {
			method, _, _ := strings.Cut(f.Route, " ")
			d := keys.DiagnoseSignature(keys.SignedAttempt{Slug: acc.Slug, AccountName: acc.Name, APIKey: k.PublicKey,
				Timestamp: f.Sent.Timestamp, Token: f.Sent.Token, Version: f.Sent.Version, Received: f.At,
				Method: method, Target: f.Sent.Target, BodySum: f.Sent.BodySum}, secret, others)
			a.Expected = d.Expected
			a.Skew = "unknown: the timestamp could not be read"
			if d.SkewKnown {
				a.Skew = describeSkew(d.Skew)
			}
			for _, fd := range d.Findings {
				a.Findings = append(a.Findings, views.FindingVM{Code: fd.Code, Message: fd.Message})
			}
		}
		mistake := a.Route + "|" + a.Outcome + "|" + a.SentVersion
		for _, fd := range a.Findings {
			mistake += "|" + fd.Code
		}
		if i, ok := seen[mistake]; ok {
			vm.Attempts[i].Like++
			vm.Attempts[i].FirstAt = a.At
			continue
		}
		if len(vm.Attempts) < debuggerAttempts {
			seen[mistake] = len(vm.Attempts)
			a.Like, a.FirstAt = 1, a.At
			vm.Attempts = append(vm.Attempts, a)
		}
	}
	return web.Render(c, http.StatusOK, views.SignatureDebuggerPage(vm))
}

// otherSecrets opens the account's other keys' secrets, the ones a client
// may confuse with this key's, and finds the pair this key was rolled from.
func (h *Handlers) otherSecrets(k db.APIKey, all []db.APIKey) ([]keys.OtherSecret, *db.APIKey) {
	var others []keys.OtherSecret
	var previous *db.APIKey
	for i, o := range all {
		if o.ID == k.ID || len(others) >= maxOtherSecrets {
			continue
		}
		s, err := h.sealer.Open(o.SecretSealed, o.PublicKey)
		if err != nil {
			continue
		}
		label := fmt.Sprintf("the secret of the %s key “%s”", o.Mode, o.Name)
		if o.Name == k.Name && o.Revoked() && !o.RevokedAt.After(k.CreatedAt) && o.Mode == k.Mode {
			if previous == nil || o.RevokedAt.After(previous.RevokedAt) {
				previous = &all[i]
			}
			label = "the old secret of this key, replaced by a roll on " + o.RevokedAt.UTC().Format("2006-01-02")
		}
		others = append(others, keys.OtherSecret{Secret: s, Label: label})
	}
	return others, previous
}

// diagnoseSecret explains a failed token request from the fingerprint of
// the secret it sent, compared with the fingerprints of the account's secrets.
func (h *Handlers) diagnoseSecret(f db.RequestFailure, secret string, others []keys.OtherSecret, previous *db.APIKey) views.FindingVM {
	sent := f.Sent.SecretPrint
	switch {
	case sent == nil:
		return views.FindingVM{Code: "no_secret", Message: "The request sent no secret keydesk could read."}
	case hmac.Equal(sent, keys.SecretPrint(h.secretPrints, secret)):
		return views.FindingVM{Code: "secret_matches",
			Message: "The secret is right: the request was refused for another reason (" + f.Outcome + "), such as too many failed attempts just before."}
	}
	for _, o := range others {
		if hmac.Equal(sent, keys.SecretPrint(h.secretPrints, o.Secret)) {
			return views.FindingVM{Code: keys.FindingOtherSecret, Message: "The client sent " + o.Label + ", not this key's secret."}
		}
	}
	msg := "The key exists but the secret does not match"
	if previous != nil {
		msg += " — was the key rolled on " + previous.RevokedAt.UTC().Format("2006-01-02") + "? The client may hold a secret older than that."
	} else {
		msg += ": it is none of this account's secrets. Check for a copy-paste error (this key's secret ends in …" + keys.Last4(secret) + ")."
	}
	return views.FindingVM{Code: "secret_mismatch", Message: msg}
}

// describeSkew says how far the client's clock was from the server's.
func describeSkew(skew time.Duration) string {
	switch {
	case skew == 0:
		return "none"
	case skew > 0:
		return "the client is " + keys.ShortDuration(skew) + " behind the server"
	}
	return "the client is " + keys.ShortDuration(-skew) + " ahead of the server"
}
