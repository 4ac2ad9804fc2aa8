package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is a log destination whose writes wait until it is opened.
type gate struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	writing chan struct{} // a write has begun
	open    chan struct{}
}

func (g *gate) Write(p []byte) (int, error) {
	g.writing <- struct{}{}
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

// While the line that filled the buffer waits for its write(2), other
// requests' lines are still taken at once; nothing is lost or reordered.
func TestLogBufferWritesOutsideTheLock(t *testing.T) {
	g := &gate{writing: make(chan struct{}, 1), open: make(chan struct{})}
	b := newLogBuffer(g)
	big := strings.Repeat("x", logBufferSize-1) + "\n"
	filled := make(chan struct{})
	go func() {
		b.Write([]byte(big))
		close(filled)
	}()
	<-g.writing // the filling line is now writing out, and stuck
	done := make(chan struct{})
	go func() {
		for i := range 100 {
			b.Write(fmt.Appendf(nil, "line %d\n", i))
		}
		close(done)
	}()
	select { // appending must not wait for the write
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("lines waited for another line's write to finish")
	}
	select {
	case <-filled:
		t.Fatal("the filling line returned before its write")
	default:
	}
	close(g.open)
	<-filled
	b.Flush()
	want := big
	for i := range 100 {
		want += fmt.Sprintf("line %d\n", i)
	}
	if got := g.buf.String(); got != want {
		t.Errorf("wrote %d bytes, want %d; the lines after the big one: %q", len(got), len(want), strings.TrimPrefix(got, big)[:min(80, len(got)-len(big))])
	}
}

// Lines written at once from many goroutines all arrive whole.
func TestLogBufferConcurrentLinesWhole(t *testing.T) {
	var out bytes.Buffer
	b := newLogBuffer(&out)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 5000 {
				b.Write(fmt.Appendf(nil, "writer=%d line=%d %s\n", w, i, strings.Repeat("y", i%200)))
			}
		})
	}
	wg.Wait()
	b.Flush()
	next := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*5000 {
		t.Fatalf("%d lines, want %d", len(lines), 8*5000)
	}
	for _, l := range lines {
		var w, i int
		var pad string
		if n, _ := fmt.Sscanf(l, "writer=%d line=%d %s", &w, &i, &pad); n < 2 || len(pad) != i%200 && !(i%200 == 0 && pad == "") {
			t.Fatalf("torn line %q", l)
		}
		key := fmt.Sprint(w)
		if i != next[key] {
			t.Fatalf("writer %d: line %d after %d", w, i, next[key]-1)
		}
		next[key] = i + 1
	}
}
