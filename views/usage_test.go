package views

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestUsageChartGolden draws a known day of traffic and compares the SVG
// with testdata/usage_chart.golden.svg (go test ./views -update rewrites it).
func TestUsageChartGolden(t *testing.T) {
	start := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	var bars []ChartBar
	for i := range 24 {
		bars = append(bars, ChartBar{Start: start.Add(time.Duration(i) * time.Hour), OK: int64(i * 10 % 70), Failed: int64(i % 5)})
	}
	bars[20] = ChartBar{Start: bars[20].Start, OK: 130, Failed: 17}
	var out strings.Builder
	if err := UsageChart(UsageChartVM{ID: "golden", Title: "Requests per hour, last 24 hours", Bars: bars}).Render(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	const golden = "testdata/usage_chart.golden.svg"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./views -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the chart differs from %s:\n%s", golden, got)
	}
	for _, s := range []string{"style=", "<script"} {
		if strings.Contains(got, s) {
			t.Errorf("the chart has %q, which the CSP forbids", s)
		}
	}
}

func TestNiceCeilAndCounts(t *testing.T) {
	for _, tt := range []struct{ in, want int64 }{{0, 2}, {1, 2}, {3, 10}, {11, 20}, {147, 200}, {201, 500}, {999, 1000}, {1001, 2000}} {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}} {
		if got := FormatCount(tt.in); got != tt.want {
			t.Errorf("FormatCount(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
