package record

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// TestMain lets the test binary play the recording process of
// TestKillAnyMoment.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ANALYST_RECORD_CHILD"); dir != "" {
		recordForever(dir)
		return
	}
	os.Exit(m.Run())
}

// recordForever records steps with cells of 200 kB output into dir until
// it is killed, saying on stdout how many events it has recorded.
func recordForever(dir string) {
	r, err := New(dir, Meta{Task: "print a lot", StepAgent: "planner"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if os.Getenv("ANALYST_RECORD_NO_EXCHANGE") != "" {
		// A file system that cannot exchange two names.
		r.nb.exchange = func(a, b string) error { return errors.New("not supported") }
	}
	big := strings.Repeat("0123456789abcdef\n", 200<<10/17)
	r.Observe(team.RunStarted{Task: "print a lot", Agents: []string{"planner", "writer", "executor"}})
	events := 1
	for i := 1; ; i++ {
		code := fmt.Sprintf("print('x' * %d)", i)
		for _, e := range []team.Event{
			team.MessageDone{Message: team.Message{Agent: "planner", Content: fmt.Sprintf("Step %d: print", i)}},
			cell.Started{Agent: "executor", Index: i, Language: "python", Code: code},
			cell.Finished{Agent: "executor", Cell: cell.Cell{Index: i, Language: "python", Code: code, Result: &jupyter.Result{
				Status: "ok", ExecutionCount: i, Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: big}},
			}}},
		} {
			r.Observe(e)
			events++
			fmt.Println(events)
		}
	}
}

// TestKillAnyMoment kills a recording process with SIGKILL at many
// different moments and checks that what it leaves is whole: the notebook
// validates with nbformat and holds every cell recorded as finished in
// events.jsonl, whose lines all parse but a cut-short last one.
func TestKillAnyMoment(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, swap := range []string{"exchange", "link"} {
		for trial, after := range []int{1, 2, 3, 5, 8, 13, 21, 34} {
			t.Run(swap+"/"+strconv.Itoa(trial), func(t *testing.T) {
				killAt(t, exe, after, swap == "link")
			})
		}
	}
}

// killAt kills a recording process once it has recorded after events and
// checks what it leaves; with link, the process swaps the notebook's files
// without exchanging their names.
func killAt(t *testing.T, exe string, after int, link bool) {
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "ANALYST_RECORD_CHILD="+dir)
	if link {
		cmd.Env = append(cmd.Env, "ANALYST_RECORD_NO_EXCHANGE=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, err := strconv.Atoi(sc.Text()); err == nil && n >= after {
			break
		}
		if strings.HasPrefix(sc.Text(), "error") {
			t.Fatal(sc.Text())
		}
	}
	// The child is between two events, or in the middle of one:
	// kill it wherever it is.
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	validateNotebook(t, filepath.Join(dir, NotebookFile))
	events, err := ReadEvents(filepath.Join(dir, EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	finished := 0
	for _, e := range events {
		if e.Type == TypeCellFinished {
			finished++
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, NotebookFile))
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			ID      string            `json:"id"`
			Outputs []json.RawMessage `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatal(err)
	}
	withOutput := 0
	for _, c := range nb.Cells {
		if len(c.Outputs) > 0 {
			withOutput++
		}
	}
	// The notebook is written after the event: it may hold one
	// cell fewer than events.jsonl, never more.
	if withOutput != finished && withOutput != finished-1 {
		t.Errorf("notebook holds %d cells with output, events.jsonl %d finished cells", withOutput, finished)
	}
}
