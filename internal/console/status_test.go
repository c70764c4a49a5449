package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// ttyConsole is a console whose stderr is a terminal without colour,
// drawing spinners at once and never animating them, so that what it writes
// is exact.
func ttyConsole(t *testing.T) (*Console, func() string) {
	t.Helper()
	s, _, errOut := Test()
	s.errTTY = true
	c := New(s, Options{Now: fixedNow})
	c.cellDelay, c.spinInterval = 0, time.Hour
	t.Cleanup(func() { c.Close() })
	take := func() string {
		got := errOut.String()
		errOut.Reset()
		return got
	}
	return c, take
}

// clear is what the spinner writes to take a line of n columns away.
func clear(n int) string { return "\r" + strings.Repeat(" ", n) + "\r" }

// TestSpinnerPausedForNotices: what a command prints on stderr through the
// console's Writer, and the notices, take the spinner off its line first,
// then the spinner is drawn again below them (also without colour).
func TestSpinnerPausedForNotices(t *testing.T) {
	c, take := ttyConsole(t)
	c.Observe(team.TurnStarted{Turn: 1, Agent: "planner"})
	take()
	const spin = "\r⠋ planner is thinking"
	fmt.Fprintln(c.Writer(c.io.Err), "local Jupyter Server 2.14 on 127.0.0.1:8888, stopped on exit")
	if got, want := take(), clear(21)+"local Jupyter Server 2.14 on 127.0.0.1:8888, stopped on exit\n"+spin; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	c.Observe(team.Notice{Text: "kernel 1234 (python3) ready in 2s"})
	if got, want := take(), clear(21)+spin; got != want {
		t.Errorf("stderr after a notice = %q, want %q (the spinner drawn again)", got, want)
	}
	// A partial line is not drawn over.
	fmt.Fprint(c.Writer(c.io.Err), "half a line")
	if got, want := take(), clear(21)+"half a line"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

// TestPhase: a cell that waits for the kernel says so; once the kernel is
// up it says the cell runs.
func TestPhase(t *testing.T) {
	c, take := ttyConsole(t)
	c.Phase("starting the kernel")
	if got, want := take(), "\r⠋ starting the kernel"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	c.Observe(team.TurnStarted{Turn: 1, Agent: "executor"})
	c.Observe(cell.Started{Agent: "executor", Index: 1, Language: "python", Code: "x = 1"})
	if got, want := take(), clear(21)+"\r⠋ starting the kernel"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	c.Phase("")
	if got, want := take(), clear(21)+"\r⠋ running cell 1"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	// Without a phase, a cell runs.
	c.Observe(cell.Finished{Agent: "executor", Cell: cell.Cell{Index: 1, Code: "x = 1", Result: &jupyter.Result{Status: "ok"}}})
	take()
	c.Observe(cell.Started{Agent: "executor", Index: 2, Language: "python", Code: "y = 2"})
	if got, want := take(), "\r⠋ running cell 2"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

// TestLiveTail: the spinner of a running cell shows the last line of its
// output, cut to fit a line; the transcript gets the output only when the
// cell ends.
func TestLiveTail(t *testing.T) {
	s, out, errOut := Test()
	s.errTTY = true
	c := New(s, Options{Now: fixedNow})
	c.cellDelay, c.spinInterval = 0, time.Hour
	defer c.Close()
	c.Observe(cell.Started{Agent: "executor", Index: 3, Language: "python", Code: "train()"})
	transcript := out.String()
	errOut.Reset()
	c.Output(jupyter.Output{Type: "stream", Name: "stdout", Text: "epoch 1\n"})
	c.Output(jupyter.Output{Type: "stream", Name: "stderr", Text: "epoch 2 \x1b[32m50%\x1b[0m\rep"})
	c.Output(jupyter.Output{Type: "stream", Name: "stderr", Text: "och 2 100%\n"})
	c.Output(jupyter.Output{Type: "display_data", Data: map[string]any{"text/plain": "<Figure>"}})
	c.Observe(team.Notice{Text: "the kernel is slow"}) // redraws the spinner at once
	if got, want := errOut.String(), clear(16)+"\r⠋ running cell 3 │ epoch 2 100%"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	errOut.Reset()
	c.Output(jupyter.Output{Type: "stream", Name: "stdout", Text: strings.Repeat("x", 200) + "\n"})
	c.Observe(team.Notice{Text: "again"})
	line := strings.TrimPrefix(errOut.String(), clear(31))
	if want := "\r⠋ running cell 3 │ " + strings.Repeat("x", 59) + "…"; line != want {
		t.Errorf("stderr = %q, want %q (79 columns)", line, want)
	}
	if got, want := out.String(), transcript+"the kernel is slow\nagain\n"; got != want {
		t.Errorf("transcript = %q, want %q: the live output is for the terminal only", got, want)
	}
}

// TestTruncate cuts at the edge: a wide rune fills the last columns exactly
// or is left out whole, and a character made of several runes is never cut
// in two (the sun with its emoji selector, a family, a flag).
func TestTruncate(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"abcdefghij", 5, "abcd…"},
		{"abc日本語", 6, "abc日…"}, // 日 ends at column 5, "…" fills 6
		{"ab日本語", 6, "ab日…"},   // 本 would need columns 5 and 6
		{"日本", 1, "…"},
		{"cafe\u0301 au lait", 5, "cafe\u0301…"}, // the accent takes no column
		{"ok ☀\ufe0f sunny", 5, "ok …"},          // not "ok ☀…", a text-style sun
		{"👨\u200d👩\u200d👧 family", 3, "👨\u200d👩\u200d👧…"},
		{"ab🇩🇪cd", 4, "ab…"},
		{strings.Repeat("x", 200), statusWidth, strings.Repeat("x", statusWidth-1) + "…"},
	}
	for _, tt := range tests {
		got := truncate(tt.s, tt.width)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
		if w := lipgloss.Width(got); w > tt.width {
			t.Errorf("truncate(%q, %d) is %d columns wide", tt.s, tt.width, w)
		}
	}
}
