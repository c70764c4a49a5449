package console

import (
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/team"
)

// TestBoard: on a terminal, a line per task under way, redrawn in place;
// finished tasks' lines go above it; Close takes it away.
func TestBoard(t *testing.T) {
	s, out, errOut := Test()
	s.errTTY = true
	b := NewBoard(s)
	b.now, b.interval = fixedNow, time.Hour
	take := func() string { got := errOut.String(); errOut.Reset(); return got }

	b.Set("totals", "starting")
	if got, want := take(), "▸ totals  starting  0s\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	a := b.Observer("answer")
	a.Observe(team.TurnStarted{Turn: 1, Agent: "planner"})
	if got, want := take(), "\x1b[1F\x1b[J▸ totals  starting  0s\n▸ answer  turn 1: planner is thinking  0s\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	a.Observe(team.TurnStarted{Turn: 3, Agent: "executor"})
	a.Observe(cell.Started{Agent: "executor", Index: 2, Code: "x"})
	if got, want := take(), "\x1b[2F\x1b[J▸ totals  starting  0s\n▸ answer  turn 3: executor  0s\n"+
		"\x1b[2F\x1b[J▸ totals  starting  0s\n▸ answer  turn 3: running cell 2  0s\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	b.Remove("totals")
	b.Println("✓ totals  1.0s  3 turns")
	if got, want := take(), "\x1b[2F\x1b[J▸ answer  turn 3: running cell 2  0s\n"+
		"\x1b[1F\x1b[J✓ totals  1.0s  3 turns\n▸ answer  turn 3: running cell 2  0s\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	// What a gateway or a task file puts in a status or a line is shown,
	// never obeyed; the line's own colours stay.
	b.Set("evil", "failed: \x1b]52;c;cHduZWQ=\a\x1b[2J")
	b.Println("\x1b[31m✗\x1b[0m evil  \x1bc")
	if got, want := take(), "\x1b[1F\x1b[J▸ answer  turn 3: running cell 2  0s\n▸ evil  failed: \\x1b]52;c;cHduZWQ=\\x07\\x1b[2J  0s\n"+
		"\x1b[2F\x1b[J\x1b[31m✗\x1b[0m evil  \\x1bc\n▸ answer  turn 3: running cell 2  0s\n▸ evil  failed: \\x1b]52;c;cHduZWQ=\\x07\\x1b[2J  0s\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	b.Remove("evil")
	take()
	b.Close()
	if got, want := take(), "\x1b[1F\x1b[J"; got != want {
		t.Errorf("stderr after Close = %q, want %q", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", out)
	}
}

// TestBoardWithoutTTY: elsewhere only the finished tasks' lines are written.
func TestBoardWithoutTTY(t *testing.T) {
	s, _, errOut := Test()
	b := NewBoard(s)
	b.Set("totals", "starting")
	b.Observer("totals").Observe(team.TurnStarted{Turn: 1, Agent: "planner"})
	b.Println("✓ totals")
	b.Close()
	if got, want := errOut.String(), "✓ totals\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}
