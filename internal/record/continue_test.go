package record

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// TestContinue records a run, continues it with a follow-up request, and
// checks that every file holds both: the events in order, the notebook
// rebuilt with the first run's outputs and the new cell, the report with a
// section for the follow-up.
func TestContinue(t *testing.T) {
	r := record(t, -1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	dir := r.Dir()
	events, err := ReadEvents(filepath.Join(dir, EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: t0.Add(time.Hour)}
	meta := testMeta()
	meta.Task, meta.Kernel = "ignored: the run's task stays", "python3-other"
	c, err := continueRecorder(dir, events, meta, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	code := "print(df['sales'].sum())"
	for _, e := range []team.Event{
		team.RunStarted{Task: "And the total?", Agents: []string{"planner", "writer", "executor"}, Time: clk.now()},
		team.TurnStarted{Turn: 1, Agent: "planner"},
		team.MessageDone{Turn: 1, Message: team.Message{Agent: "planner", Content: "Sum the sales."}},
		cell.Started{Agent: "executor", Index: 4, Language: "python", Code: code},
		cell.Finished{Agent: "executor", Cell: cell.Cell{Index: 4, Language: "python", Code: code, Result: &jupyter.Result{
			Status: "ok", ExecutionCount: 3, Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: "60\n"}}}}},
		team.MessageDone{Turn: 2, Message: team.Message{Agent: "planner", Content: "60 in all. TERMINATION", Final: true, Summary: "60 in all."}},
		team.RunFinished{Reason: team.StopTerminated, Turns: 2},
	} {
		c.Observe(e)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	all, err := ReadEvents(filepath.Join(dir, EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range all[len(events):] {
		types = append(types, e.Type)
	}
	want := []string{"run_continued", "request_started", "turn_started", "message", "cell_started", "cell_finished", "message", "request_finished", "run_finished"}
	if !slices.Equal(types, want) {
		t.Errorf("new events %q, want %q", types, want)
	}
	if e := all[len(events)+1]; e.Number != 2 || e.Request != "And the total?" {
		t.Errorf("request_started = %+v", e)
	}
	if last := all[len(all)-1]; last.Turns != 6 || last.Reason != "terminated" {
		t.Errorf("run_finished: %d turns (%s), want 4+2 turns", last.Turns, last.Reason)
	}

	validateNotebook(t, filepath.Join(dir, NotebookFile))
	nb := readNotebook(t, dir)
	var ids []string
	for _, c := range nb.Cells {
		ids = append(ids, c.ID)
	}
	if want := []string{"task", "step-1", "cell-1", "cell-2", "cell-3", "summary", "request-2", "step-2", "cell-4", "summary-2"}; !slices.Equal(ids, want) {
		t.Errorf("notebook cells %q, want %q", ids, want)
	}
	if len(nb.Cells[2].Outputs) != 3 || len(nb.Cells[8].Outputs) != 1 {
		t.Errorf("outputs: cell 1 has %d (want 3, rebuilt from the events), cell 4 has %d", len(nb.Cells[2].Outputs), len(nb.Cells[8].Outputs))
	}
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rep := string(b)
	for _, w := range []string{"## Task\n\nWhat sells best?", "## Summary\n\n" + finalSummary, "## Request 2\n\nAnd the total?\n\n### Summary\n\n60 in all.", "- Requests: 2"} {
		if !strings.Contains(rep, w) {
			t.Errorf("report lacks %q:\n%s", w, rep)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock left behind: %v", err)
	}
}

// TestLocked checks that a directory being recorded cannot be recorded
// into by another recorder, and that a dead process's lock is taken over.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	r, err := New(dir, Meta{Task: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(dir, Meta{Task: "t"})
	var le *ErrLocked
	if !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("second recorder: %v, want ErrLocked by pid %d", err, os.Getpid())
	}
	r.Close()
	// A lock whose process is gone.
	if err := os.WriteFile(filepath.Join(dir, LockFile), []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = New(dir, Meta{Task: "t"})
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	r.Close()
}
