// Command setup prepares a fresh keydesk database for the benchmark: an
// account holding the leads license, an admin, and one key per measured
// call. It prints the keys as shell assignments and writes the request
// signatures for the next minutes as a Lua table, so wrk can send a
// correctly signed, current API-Timestamp with every request.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"keydesk/db"
	"keydesk/keys"
	"keydesk/web"
)

const slug = "bench-motors"

func main() {
	dbPath := flag.String("db", os.Getenv("KEYDESK_DB"), "database file")
	signFile := flag.String("signatures", "", "Lua file to write the signatures to")
	window := flag.Duration("window", 15*time.Minute, "how far ahead to sign")
	flag.Parse()
	master, err := keys.DecodeMasterKey(os.Getenv("KEYDESK_MASTER_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	sealer, err := keys.NewSealer(master)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	store, err := db.Open(ctx, *dbPath)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	acc, err := store.CreateAccount(ctx, db.Account{Slug: slug, Name: "Bench Motors", Licenses: db.AllLicenses, CreatedAt: now})
	if err != nil {
		log.Fatal(err)
	}
	// The admin signs in only for the revoke benchmark; "!" matches no password.
	hash := "!"
	if pw := os.Getenv("KEYDESK_ADMIN_PASSWORD"); pw != "" {
		if hash, err = web.HashPassword(pw); err != nil {
			log.Fatal(err)
		}
	}
	admin, err := store.CreateUser(ctx, db.User{AccountID: acc.ID, Email: "bench@bench-motors.test",
		PasswordHash: hash, Role: db.RoleAdmin, CreatedAt: now})
	if err != nil {
		log.Fatal(err)
	}
	settings := keys.Settings{Theme: "lite", SessionExpiry: 24 * time.Hour}
	if on, _ := strconv.ParseBool(os.Getenv("BENCH_ALLOWLIST")); on {
		settings = withLimits(settings)
	}
	key := func(name string, t db.KeyType) (string, string) {
		public, secret := keys.NewAPIKey(keys.Live), keys.NewSecret(keys.Live)
		set := settings
		if t == db.DigitalRequests && set.RateLimit > 0 {
			set.DailyLeadLimit = keys.MaxDailyLeadLimit
		}
		_, err := store.CreateAPIKey(ctx, db.APIKey{
			AccountID: acc.ID, Name: name, Type: t, Licenses: []string{db.LicenseLeads}, Mode: keys.Live,
			PublicKey: public, SecretSealed: sealer.Seal(secret, public), SecretLast4: keys.Last4(secret),
			Settings:  set,
			CreatedAt: now, CreatedBy: admin.ID,
		}, db.Actor{UserID: admin.ID, Email: admin.Email, RemoteAddr: "127.0.0.1"})
		if err != nil {
			log.Fatal(err)
		}
		return public, secret
	}
	tokenKey, tokenSecret := key("Bench token issuance", db.Integration)
	bearerKey, bearerSecret := key("Bench bearer", db.Integration)
	signedKey, signedSecret := key("Bench signed", db.Integration)
	leadsKey, leadsSecret := key("Bench website form", db.DigitalRequests)
	for _, kv := range [][2]string{
		{"TOKEN_KEY", tokenKey}, {"TOKEN_SECRET", tokenSecret},
		{"BEARER_KEY", bearerKey}, {"BEARER_SECRET", bearerSecret},
		{"SIGNED_KEY", signedKey},
		{"LEADS_KEY", leadsKey}, {"LEADS_SECRET", leadsSecret},
	} {
		fmt.Printf("%s=%s\n", kv[0], kv[1])
	}
	if *signFile != "" {
		var b strings.Builder
		b.WriteString("return {\n")
		for t := now.Add(-time.Minute); t.Before(now.Add(*window)); t = t.Add(time.Second) {
			ts := t.Format(keys.TimestampLayout)
			fmt.Fprintf(&b, "[%q]=%q,\n", ts, keys.Sign(signedSecret, slug, signedKey, ts))
		}
		b.WriteString("}\n")
		if err := os.WriteFile(*signFile, []byte(b.String()), 0o600); err != nil {
			log.Fatal(err)
		}
	}
}

// withLimits is BENCH_ALLOWLIST=1: an enforced allowlist of 50 entries with
// 127.0.0.1 last (so every call scans the whole list) and a rate limit far
// above what the benchmark sends, so it measures what the checks cost.
func withLimits(s keys.Settings) keys.Settings {
	var lines []string
	for i := range keys.MaxAllowlist - 1 {
		lines = append(lines, fmt.Sprintf("198.51.%d.0/24", i))
	}
	list, msg := keys.ParseAllowlist(strings.Join(append(lines, "127.0.0.1"), "\n"))
	if msg != "" {
		log.Fatal(msg)
	}
	s.IPMode, s.IPAllow, s.RateLimit = keys.IPEnforce, keys.FormatAllowlist(list), 10_000_000
	return s
}
