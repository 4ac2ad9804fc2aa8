package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"keydesk/db"
	"keydesk/web"
)

// burst sends the forms at once, each from its own goroutine, with one
// session's CSRF token, and returns how many of each status came back.
func burst(t *testing.T, app *testApp, forms []url.Values) map[int]int {
	t.Helper()
	b := app.browser()
	token := b.csrf("/login")
	statuses := make([]int, len(forms))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, f := range forms {
		f.Set("_csrf", token)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", app.srv.URL+"/login", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := b.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	return counts
}

func TestSimultaneousSignInsCannotOutrunTheThrottle(t *testing.T) {
	tests := []struct {
		name      string
		forms     func() []url.Values
		maxChecks int // requests that reached the password check (401, or 303 signed in)
	}{
		{"40 guesses at one email, the right password last", func() []url.Values {
			var fs []url.Values
			for i := range 40 {
				pw := fmt.Sprintf("guess %d", i)
				if i == 39 {
					pw = testPassword
				}
				fs = append(fs, url.Values{"email": {"boss@acme.test"}, "password": {pw}})
			}
			return fs
		}, 5},
		{"100 wrong sign-ins from one address", func() []url.Values {
			var fs []url.Values
			for i := range 100 {
				fs = append(fs, url.Values{"email": {fmt.Sprintf("user%d@acme.test", i)}, "password": {"wrong"}})
			}
			return fs
		}, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			acc, _, _ := app.account("acme", db.LicenseLeads)
			// A real-cost hash, so password checks overlap as they do in production.
			hash, err := web.HashPassword(testPassword)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.db.CreateUser(context.Background(), db.User{AccountID: acc.ID, Email: "boss@acme.test",
				PasswordHash: hash, Role: db.RoleAdmin, CreatedAt: app.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			counts := burst(t, app, tc.forms())
			t.Logf("statuses: %v", counts)
			checked := counts[http.StatusUnauthorized] + counts[http.StatusSeeOther]
			if checked > tc.maxChecks || checked == 0 {
				t.Fatalf("statuses %v: %d password checks, want 1..%d", counts, checked, tc.maxChecks)
			}
			if counts[http.StatusTooManyRequests]+checked != len(tc.forms()) {
				t.Fatalf("statuses %v: only 401, 303 and 429 expected", counts)
			}
		})
	}
}

func TestThrottledMessageSaysHowLong(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want string
	}{
		{300 * time.Millisecond, "Wait 1 second and try again."},
		{1500 * time.Millisecond, "Wait 2 seconds and try again."},
		{59 * time.Second, "Wait 59 seconds and try again."},
		{time.Minute, "Wait 1 minute and try again."},
		{14*time.Minute + time.Second, "Wait 15 minutes and try again."},
	} {
		if got := throttledMessage(tt.wait); !strings.HasSuffix(got, tt.want) {
			t.Errorf("throttledMessage(%v) = %q, want it to end %q", tt.wait, got, tt.want)
		}
	}
}
