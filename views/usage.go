package views

import (
	"fmt"
	"strconv"
	"time"
)

// ChartBar is the requests of one hour, successes and failures.
type ChartBar struct {
	Start      time.Time
	OK, Failed int64
}

// UsageChartVM is a stacked bar chart of requests per hour.
type UsageChartVM struct {
	ID    string // element id prefix, unique on the page
	Title string
	Bars  []ChartBar
}

// Chart geometry, in the SVG's own units; the SVG scales to its box.
const (
	chartW, chartH       = 640, 220
	plotLeft, plotRight  = 48, 632
	plotTop, plotBottom  = 12, 188
	chartLabelY          = 208
	chartMinBarWidthDraw = 0.5
)

type chartTick struct {
	Pos   string // y for a value tick, x for a time tick
	Label string
}

// chartDrawing is a chart laid out: every number as the SVG attribute it
// becomes. Each series is one path of rectangles ("M x y h w v h h -w z"
// a bar): a month is 720 bars, one element each would be 1,440.
type chartDrawing struct {
	OK, Failed string
	YTicks     []chartTick
	XTicks     []chartTick
}

func px(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// appendBar adds a bar at x, y (its top), w wide and h high to a path.
func appendBar(path []byte, x, y, w, h float64) []byte {
	path = append(path, 'M')
	path = strconv.AppendFloat(path, x, 'f', 1, 64)
	path = append(path, ' ')
	path = strconv.AppendFloat(path, y, 'f', 1, 64)
	path = append(path, 'h')
	path = strconv.AppendFloat(path, w, 'f', 1, 64)
	path = append(path, 'v')
	path = strconv.AppendFloat(path, h, 'f', 1, 64)
	path = append(path, 'h')
	path = strconv.AppendFloat(path, -w, 'f', 1, 64)
	return append(path, 'z')
}

// draw lays the chart out: bars stacked (successes below failures), three
// value ticks from a round maximum, and time ticks at round hours or days.
func (vm UsageChartVM) draw() chartDrawing {
	var d chartDrawing
	var top int64
	for _, b := range vm.Bars {
		top = max(top, b.OK+b.Failed)
	}
	top = niceCeil(top)
	scale := float64(plotBottom-plotTop) / float64(top)
	n := max(len(vm.Bars), 1)
	slot := float64(plotRight-plotLeft) / float64(n)
	gap := 0.0
	if slot >= 4 {
		gap = slot * 0.2
	}
	var ok, failed []byte
	for i, b := range vm.Bars {
		x := float64(plotLeft) + float64(i)*slot + gap/2
		w := max(slot-gap, chartMinBarWidthDraw)
		okH, failH := float64(b.OK)*scale, float64(b.Failed)*scale
		if b.OK > 0 {
			ok = appendBar(ok, x, plotBottom-okH, w, okH)
		}
		if b.Failed > 0 {
			failed = appendBar(failed, x, plotBottom-okH-failH, w, failH)
		}
	}
	d.OK, d.Failed = string(ok), string(failed)
	for _, v := range []int64{0, top / 2, top} {
		d.YTicks = append(d.YTicks, chartTick{px(plotBottom - float64(v)*scale), FormatCount(v)})
	}
	labelled, layout := timeTicks(len(vm.Bars))
	for i, b := range vm.Bars {
		if labelled(b.Start.UTC()) {
			d.XTicks = append(d.XTicks, chartTick{px(float64(plotLeft) + float64(i)*slot), b.Start.UTC().Format(layout)})
		}
	}
	return d
}

// timeTicks says which hours get a time label, and in which layout: every
// six hours over a day or two, each midnight over a week, every fifth day beyond.
func timeTicks(bars int) (func(time.Time) bool, string) {
	switch {
	case bars <= 48:
		return func(t time.Time) bool { return t.Hour()%6 == 0 }, "15:04"
	case bars <= 24*8:
		return func(t time.Time) bool { return t.Hour() == 0 }, "Mon 2"
	}
	return func(t time.Time) bool { return t.Hour() == 0 && t.YearDay()%5 == 0 }, "Jan 2"
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 2, so a half tick is whole).
func niceCeil(n int64) int64 {
	if n <= 2 {
		return 2
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n && (m*p)%2 == 0 {
				return m * p
			}
		}
	}
}

// FormatCount writes n with thousands separators: 12,345.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Totals are the chart's sums.
func (vm UsageChartVM) Totals() (ok, failed int64) {
	for _, b := range vm.Bars {
		ok, failed = ok+b.OK, failed+b.Failed
	}
	return ok, failed
}

// Summary says in words what the chart shows, for people who cannot see it.
func (vm UsageChartVM) Summary() string {
	ok, failed := vm.Totals()
	total := ok + failed
	if total == 0 {
		return vm.Title + ": no requests."
	}
	var busiest ChartBar
	for _, b := range vm.Bars {
		if b.OK+b.Failed > busiest.OK+busiest.Failed {
			busiest = b
		}
	}
	return fmt.Sprintf("%s: %s requests, %s succeeded and %s failed (%.1f %%). Busiest hour: %s with %s.",
		vm.Title, FormatCount(total), FormatCount(ok), FormatCount(failed), 100*float64(failed)/float64(total),
		busiest.Start.UTC().Format("Jan 2 15:04 UTC"), FormatCount(busiest.OK+busiest.Failed))
}

// CountRow is a label with a count, for the top-N tables.
type CountRow struct {
	Label  string
	N      int64
	Failed int64
}

// RequestRow is one logged request as the table shows it.
type RequestRow struct {
	At, Route, Outcome, Auth, Addr, Agent, Latency string
	Status                                         int
	OK                                             bool
}

// HealthFlag is one thing the Key health panel flags, with the action that clears it.
type HealthFlag struct {
	KeyName     string
	KeyHref     string // the key's page, which its name links to
	Text        string
	ActionLabel string
	ActionHref  string
}

// Choice is an allowed value of a filter, with its label.
type Choice struct{ Value, Label string }

// KeyUsageVM is a key's usage: chart, top failures and addresses, recent
// requests, tokens, health. KeyUsagePanel draws it on the usage page and
// can be embedded in the key's page.
type KeyUsageVM struct {
	KeyID         int64
	KeyName       string
	PublicKey     string
	Revoked       bool
	Range         string
	Ranges        []Choice
	Chart         UsageChartVM
	TopFailures   []CountRow
	TopAddresses  []CountRow
	Outcome       string
	Outcomes      []Choice
	Requests      []RequestRow
	NextCursor    string
	TokensIssued  int64 // in the last 30 minutes
	Health        []HealthFlag
	FailedSigned  int
	RetentionDays int
	CSRF          string // for End all tokens
}

// KeyUsagePageVM is the page /settings/integrations/keys/:id/usage.
type KeyUsagePageVM struct {
	Page  Page
	Usage KeyUsageVM
}

// href is this usage page with a range, outcome filter and cursor.
func (vm KeyUsageVM) href(rng, outcome, before string) string {
	q := "?range=" + rng
	if outcome != "" {
		q += "&outcome=" + outcome
	}
	if before != "" {
		q += "&before=" + before
	}
	return keyPath(vm.KeyID, "/usage") + q + "#requests"
}

// FindingVM is one finding of the debugger.
type FindingVM struct{ Code, Message string }

// DebugAttemptVM is one failed signed or token request in the debugger.
type DebugAttemptVM struct {
	At, Route, Outcome string
	Token              bool // a token-endpoint failure
	SentTimestamp      string
	SentVersion        string
	ServerClock, Skew  string
	Expected           string
	Findings           []FindingVM
	// Like is how many of the failures read made this same mistake (this
	// one, the newest, shown for all), the oldest of them at FirstAt.
	Like    int
	FirstAt string
}

// SignatureDebuggerVM is the signature-failure debugger of one key.
type SignatureDebuggerVM struct {
	Page      Page
	KeyID     int64
	KeyName   string
	PublicKey string
	Slug      string
	Attempts  []DebugAttemptVM
}

// AccountUsageVM is the landing page's small usage card: every key of the account.
type AccountUsageVM struct {
	Chart  UsageChartVM
	Health []HealthFlag
}
