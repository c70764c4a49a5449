package console

import (
	"testing"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// TestUpload: an upload's progress is the phase on the terminal, drawn
// again at most every uploadRedraw, and at once when it ends.
func TestUpload(t *testing.T) {
	c, take := ttyConsole(t)
	now := fixedNow()
	c.now = func() time.Time { return now }
	c.Phase("starting the kernel")
	take()
	const total = 500_000_000
	step := func(after time.Duration, done int64, elapsed time.Duration) string {
		now = now.Add(after)
		c.Upload(jupyter.UploadProgress{Name: "orders\x1b[2J.csv", Done: done, Total: total, Elapsed: elapsed})
		return take()
	}
	// Each drawing first clears the line the last one drew.
	last := "⠋ starting the kernel"
	draw := func(label string) string {
		clr := clear(len([]rune(last)))
		last = "⠋ " + label
		return clr + "\r" + last
	}
	if got, want := step(0, 1<<20, 100*time.Millisecond), draw("uploading orders\\x1b[2J.csv: 1.0 MB of 500 MB (0%), 10.5 MB/s"); got != want {
		t.Errorf("first progress: %q, want %q", got, want)
	}
	if got := step(uploadRedraw/2, 2<<20, 150*time.Millisecond); got != "" {
		t.Errorf("progress within %s of the last drawn: %q", uploadRedraw, got)
	}
	if got, want := step(uploadRedraw/2, 125_000_000, 2*time.Second), draw("uploading orders\\x1b[2J.csv: 125 MB of 500 MB (25%), 62.5 MB/s"); got != want {
		t.Errorf("progress later: %q, want %q", got, want)
	}
	if got, want := step(time.Millisecond, total, 4*time.Second), draw("uploaded orders\\x1b[2J.csv: 500 MB in 4s, 125 MB/s"); got != want {
		t.Errorf("the end: %q, want %q", got, want)
	}
}
