package db

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

func TestIPReports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		d := fixtureOpen(t, dsn)
		acc := fixtureAccount(t, d, "acme")
		other := fixtureAccount(t, d, "other")
		u := fixtureUser(t, d, acc, "a@acme.test")
		k := fixtureKey(t, d, acc, u, "Website")
		a, b := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::1")

		d.NoteOutsideIP(k.ID, a, fixtureNow)
		d.NoteOutsideIP(k.ID, a, fixtureNow.Add(time.Minute))
		d.NoteOutsideIP(k.ID, b, fixtureNow.Add(2*time.Minute))
		if got, _ := d.IPReports(ctx, acc.ID, k.ID, fixtureNow.Add(-time.Hour)); len(got) != 0 {
			t.Fatalf("reports before the flush: %+v", got)
		}
		if err := d.FlushLastUsed(ctx); err != nil {
			t.Fatal(err)
		}
		// A second flush adds to the counts and only moves last_seen forward.
		d.NoteOutsideIP(k.ID, a, fixtureNow.Add(30*time.Second))
		if err := d.FlushLastUsed(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := d.IPReports(ctx, acc.ID, k.ID, fixtureNow.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []IPReport{
			{Addr: b.String(), FirstSeen: fixtureNow.Add(2 * time.Minute), LastSeen: fixtureNow.Add(2 * time.Minute), Count: 1},
			{Addr: a.String(), FirstSeen: fixtureNow, LastSeen: fixtureNow.Add(time.Minute), Count: 3},
		}
		if len(got) != len(want) {
			t.Fatalf("reports = %+v, want %+v", got, want)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Addr != w.Addr || !g.FirstSeen.Equal(w.FirstSeen.Truncate(time.Second)) || !g.LastSeen.Equal(w.LastSeen.Truncate(time.Second)) || g.Count != w.Count {
				t.Errorf("report %d = %+v, want %+v", i, g, w)
			}
		}
		if got, _ := d.IPReports(ctx, other.ID, k.ID, fixtureNow.Add(-time.Hour)); len(got) != 0 {
			t.Errorf("another account sees the key's reports: %+v", got)
		}
		if got, _ := d.IPReports(ctx, acc.ID, k.ID, fixtureNow.Add(90*time.Second)); len(got) != 1 {
			t.Errorf("reports since 90 s later = %+v, want only %s", got, b)
		}
		if err := d.SweepChanges(ctx, fixtureNow.Add(IPReportDays*24*time.Hour+time.Minute+30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.IPReports(ctx, acc.ID, k.ID, time.Time{}); len(got) != 1 || got[0].Addr != b.String() {
			t.Errorf("after the sweep: %+v, want only %s", got, b)
		}
	})
}
