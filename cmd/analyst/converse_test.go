package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/internal/testkit/superstore"
)

// The code of the first request loads the data; the follow-ups only use
// df, which the kernel still holds.
const (
	loadCode   = "import pandas as pd\ndf = pd.read_csv('superstore.csv')\nfor region, total in df.groupby('Region')['Sales'].sum().items():\n    print(f'{region}: {total:.2f}')"
	countsCode = "for region, n in df['Region'].value_counts().sort_index().items():\n    print(f'{region} rows: {n}')"
)

var countLine = regexp.MustCompile(`(?m)^(Central|East|South|West) rows: ([0-9]+)$`)

// loadReplies answer the first request: load, total, summary.
func loadReplies() []llmtest.Reply {
	return []llmtest.Reply{
		{Content: "Sub-task 1: load superstore.csv into `df` and print the total sales per region."},
		{Content: fence(loadCode)},
		{Content: "The totals are printed above.\n\nTERMINATION"},
	}
}

// countReplies answer the follow-up: count the rows of each region with df.
func countReplies() []llmtest.Reply {
	return []llmtest.Reply{
		{Content: "Sub-task 1: count the rows of each region in the `df` already loaded."},
		{Content: fence(countsCode)},
		{Content: "Counted.\n\nTERMINATION"},
	}
}

// runCLIIn runs the command line with stdin.
func runCLIIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	io, out, errb := console.Test()
	io.In = strings.NewReader(stdin)
	code := run(context.Background(), args, io)
	return code, out.String(), errb.String()
}

// checkCounts checks that the follow-up's cell printed the row counts
// computed here from the CSV.
func checkCounts(t *testing.T, dir string) {
	t.Helper()
	want, err := superstore.RegionCounts(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	events, err := record.ReadEvents(filepath.Join(dir, record.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range events {
		if e.Type == record.TypeCellFinished && e.Code == countsCode {
			for _, m := range countLine.FindAllStringSubmatch(e.Cell().Text(), -1) {
				got[m[1]], _ = strconv.Atoi(m[2])
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("counts printed %v, want %v", got, want)
	}
	for region, n := range want {
		if got[region] != n {
			t.Errorf("%s: %d rows printed, want %d", region, got[region], n)
		}
	}
}

// requestTypes lists the request events of a run's records.
func requestTypes(t *testing.T, dir string) []string {
	t.Helper()
	events, err := record.ReadEvents(filepath.Join(dir, record.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		switch e.Type {
		case record.TypeRequestStarted, record.TypeRequestFinished, record.TypeRunContinued, record.TypeRunFinished:
			types = append(types, e.Type)
		}
	}
	return types
}

// TestFollowUp asks a follow-up from standard input: it uses the df the
// first request loaded, on the same kernel, and the records grow.
func TestFollowUp(t *testing.T) {
	js := jupytertest.Start(t)
	llm := scripted(t, nil, append(loadReplies(), countReplies()...)...)
	setLLM(t, llm)
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errs := runCLIIn(t, "How many rows does each region have?\n",
		"run", "-i", "--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Total the sales per region.", "--data", superstoreCSV, "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	checkCounts(t, dir)
	reqs := llm.Requests()
	if len(reqs) != 6 {
		t.Fatalf("%d LLM requests, want 6", len(reqs))
	}
	// The follow-up's planner sees the first request and its answer.
	var seen []string
	for _, m := range reqs[3].Messages {
		seen = append(seen, m.Content)
	}
	if all := strings.Join(seen, "\n"); !strings.Contains(all, "Total the sales per region.") || !strings.Contains(all, "How many rows does each region have?") {
		t.Errorf("the follow-up's planner does not see both requests:\n%s", all)
	}
	if got, want := requestTypes(t, dir), []string{"request_started", "request_finished", "request_started", "request_finished", "run_finished"}; !slices.Equal(got, want) {
		t.Errorf("request events %q, want %q", got, want)
	}
	rep, _ := os.ReadFile(filepath.Join(dir, record.ReportFile))
	nb, _ := os.ReadFile(filepath.Join(dir, record.NotebookFile))
	if !strings.Contains(string(rep), "## Request 2\n\nHow many rows does each region have?") || !strings.Contains(string(nb), "# Request 2") {
		t.Errorf("the follow-up has no section of its own:\n%s", rep)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left", n)
	}
}

// TestContinue finishes a run, then continues it in a fresh kernel: the
// recorded cells bring df back, the conversation goes on, the records
// grow.
func TestContinue(t *testing.T) {
	js := jupytertest.Start(t)
	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	dir := filepath.Join(t.TempDir(), "run")
	setLLM(t, scripted(t, nil, loadReplies()...))
	if code, out, errs := runCLI(t, context.Background(), append([]string{"run", "--task", "Total the sales per region.", "--data", superstoreCSV, "--out", dir}, gw...)...); code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errs)
	}

	llm := scripted(t, nil, countReplies()...)
	setLLM(t, llm)
	code, out, errs := runCLI(t, context.Background(), append([]string{"run", "--continue", dir, "--data", superstoreCSV,
		"--task", "How many rows does each region have?"}, gw...)...)
	if code != 0 {
		t.Fatalf("continued run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "restored cell 1 (1/1): ok") {
		t.Errorf("no progress line for the restored cell:\n%s", out)
	}
	checkCounts(t, dir)
	first := llm.Requests()[0]
	var all []string
	for _, m := range first.Messages {
		all = append(all, m.Content)
	}
	if s := strings.Join(all, "\n"); !strings.Contains(s, "Total the sales per region.") || !strings.Contains(s, "The totals are printed above.") {
		t.Errorf("the continued planner does not see the earlier conversation:\n%s", s)
	}
	if got, want := requestTypes(t, dir), []string{"request_started", "request_finished", "run_finished", "run_continued", "request_started", "request_finished", "run_finished"}; !slices.Equal(got, want) {
		t.Errorf("request events %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, record.LockFile)); err == nil {
		t.Error("the lock file was left behind")
	}
}

// TestContinueAfterKill kills a run with SIGKILL after its first cell, and
// continues it: the lock it left is taken over, its cells restore df.
func TestContinueAfterKill(t *testing.T) {
	js := jupytertest.Start(t)
	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	dir := filepath.Join(t.TempDir(), "run")
	// The planner never answers after the cell: the run waits there until
	// it is killed.
	hang := make(chan struct{})
	defer close(hang)
	replies := loadReplies()[:2]
	llm := scripted(t, func(llmtest.Request) llmtest.Reply {
		<-hang
		return llmtest.Reply{Status: 500, ErrorMessage: "gone"}
	}, replies...)
	setLLM(t, llm)
	cmd := exec.Command(binary(t), append([]string{"run", "--task", "Total the sales per region.", "--data", superstoreCSV, "--out", dir}, gw...)...)
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the cell to be recorded (the file the run writes), then kill.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, record.EventsFile))
		if bytes.Contains(b, []byte(`"type":"cell_finished"`)) && len(llm.Requests()) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the run never recorded its cell")
		}
		select {
		case <-time.After(20 * time.Millisecond): // polling a file the child writes
		case <-t.Context().Done():
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	llm2 := scripted(t, nil, countReplies()...)
	setLLM(t, llm2)
	code, out, errs := runCLI(t, context.Background(), append([]string{"run", "--continue", dir, "--data", superstoreCSV,
		"--task", "How many rows does each region have?"}, gw...)...)
	if code != 0 {
		t.Fatalf("continued run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	checkCounts(t, dir)
	validNotebook(t, filepath.Join(dir, record.NotebookFile))
}

// TestContinueBadInput: a folder that is no run, a damaged recording,
// missing data, a run in use: one line, exit 2, nothing in the folder
// changed.
func TestContinueBadInput(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-never-sent")
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	base := t.TempDir()
	recorded := func(name string, events ...string) string {
		dir := filepath.Join(base, name)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, record.EventsFile), []byte(strings.Join(events, "\n")+"\n"), 0o644)
		return dir
	}
	start := `{"type":"run_started","time":"2026-01-01T00:00:00Z","task":"t","started":"2026-01-01T00:00:00Z"}`
	empty := filepath.Join(base, "empty")
	os.MkdirAll(empty, 0o755)
	locked := recorded("locked", start)
	os.WriteFile(filepath.Join(locked, record.LockFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	tests := []struct {
		name, dir, want string
	}{
		{"no events", empty, "no events.jsonl there: pass the folder of an analyst run"},
		{"not a run", recorded("other", `{"type":"turn_started","turn":1}`), "no run_started event"},
		{"damaged", recorded("damaged", start, `{"type":"message","content":`, `{"type":"turn_started"}`), "events.jsonl:2"},
		{"missing data", recorded("nodata", `{"type":"run_started","time":"2026-01-01T00:00:00Z","task":"t","data":[{"name":"gone.csv","path":"/nonexistent/gone.csv","size":3,"sha256":"ab"}]}`), "data file gone.csv not found"},
		{"in use", locked, fmt.Sprintf("is in use by another analyst (pid %d)", os.Getpid())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, tt.dir)
			code, _, errs := runCLI(t, context.Background(), "run", "--continue", tt.dir, "--task", "more", "--gateway-url", "http://127.0.0.1:1")
			if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line containing %q", code, errs, tt.want)
			}
			if after := snapshot(t, tt.dir); after != before {
				t.Errorf("the folder changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot is a folder's file names and contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		c, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fmt.Fprintf(&b, "%s:%q ", e.Name(), c)
	}
	return b.String()
}

// TestApprove drives a person's answers from a file: an edited cell, a
// skipped one, feedback that sends a cell back to the writer, a note.
func TestApprove(t *testing.T) {
	js := jupytertest.Start(t)
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.txt")
	os.WriteFile(filepath.Join(dir, "fixed.py"), []byte("x = 40 + 2\nprint('x is', x)\n"), 0o644)
	os.WriteFile(answers, []byte("edit fixed.py\nnote look at x\nskip\nfeedback print x squared instead\nrun\n"), 0o644)
	llm := scripted(t, nil,
		llmtest.Reply{Content: "Sub-task 1: compute x."},
		llmtest.Reply{Content: fence("x = 1\nprint('x is', x)")},
		llmtest.Reply{Content: "Sub-task 2: print x."},
		llmtest.Reply{Content: fence("print(x)")},
		llmtest.Reply{Content: "Sub-task 3: print x times 2."},
		llmtest.Reply{Content: fence("print(x * 2)")},
		llmtest.Reply{Content: fence("print(x ** 2)")},
		llmtest.Reply{Content: "x squared is 1764.\n\nTERMINATION"},
	)
	setLLM(t, llm)
	out := filepath.Join(dir, "run")
	code, stdout, errs := runCLI(t, context.Background(), "run", "--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Play with x.", "--approve-from", answers, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errs)
	}
	events, err := record.ReadEvents(filepath.Join(out, record.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var cells []record.Event
	for _, e := range events {
		if e.Type == record.TypeCellFinished {
			cells = append(cells, e)
		}
	}
	if len(cells) != 4 {
		t.Fatalf("%d cells recorded, want 4", len(cells))
	}
	if c := cells[0]; !c.Edited || !strings.Contains(c.Cell().Text(), "x is 42") {
		t.Errorf("cell 1 = edited %v, output %q; want the edited code's output", c.Edited, c.Cell().Text())
	}
	if c := cells[1]; c.Status != "skipped" || c.Skipped != "the person chose not to run it" {
		t.Errorf("cell 2 = %s (%s), want skipped by the person", c.Status, c.Skipped)
	}
	if c := cells[2]; c.Status != "skipped" || !strings.Contains(c.Skipped, "print x squared instead") {
		t.Errorf("cell 3 = %s (%s), want sent back with the feedback", c.Status, c.Skipped)
	}
	if c := cells[3]; c.Code != "print(x ** 2)" || strings.TrimSpace(c.Cell().Text()) != "1764" {
		t.Errorf("cell 4 = %q printing %q, want x squared from the edited x", c.Code, c.Cell().Text())
	}
	reqs := llm.Requests()
	// The planner's second turn sees the note; the writer, sent back, sees
	// the feedback.
	if last := reqs[2].Messages[len(reqs[2].Messages)-1].Content; !strings.Contains(last, "A note from the person: look at x") {
		t.Errorf("the planner was not shown the note:\n%s", last)
	}
	if last := reqs[6].Messages[len(reqs[6].Messages)-1].Content; !strings.Contains(last, "the person asked for a change: print x squared instead") {
		t.Errorf("the writer was not shown the feedback:\n%s", last)
	}
	nb, _ := os.ReadFile(filepath.Join(out, record.NotebookFile))
	if !strings.Contains(string(nb), "Cell 1 was edited by a person before it ran.") {
		t.Error("the notebook does not say cell 1 was edited")
	}
}

// TestApproveNeedsTerminal: --approve without a terminal and without
// scripted answers is a usage error.
func TestApproveNeedsTerminal(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-never-sent")
	code, _, errs := runCLI(t, context.Background(), "run", "--task", "t", "--approve", "--gateway-url", "http://127.0.0.1:1")
	if code != 2 || errs != "analyst: --approve needs a terminal to ask on; give scripted answers with --approve-from FILE\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestCtrlCEndsTheRequestOnly interrupts a long cell of an interactive run
// with SIGINT: that request ends, the kernel and its variables stay, and
// the next request from standard input uses them.
func TestCtrlCEndsTheRequestOnly(t *testing.T) {
	js := jupytertest.Start(t)
	dir := filepath.Join(t.TempDir(), "run")
	marker := filepath.Join(t.TempDir(), "running")
	llm := scripted(t, nil,
		llmtest.Reply{Content: "Sub-task 1: set x, then wait."},
		llmtest.Reply{Content: fence(fmt.Sprintf("x = 5\nopen(%q, 'w').close()\nimport time\ntime.sleep(600)", marker))},
		llmtest.Reply{Content: "Sub-task 1: print x."},
		llmtest.Reply{Content: fence("print('x =', x)")},
		llmtest.Reply{Content: "x is 5.\n\nTERMINATION"},
	)
	setLLM(t, llm)
	cmd := exec.Command(binary(t), "run", "-i", "--task", "Set x and wait.", "--out", dir, "--gateway-url", js.URL, "--gateway-token", js.Token)
	cmd.Env = os.Environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // a failed wait must not leave it running
	// Wait until the cell runs (it has made its file), then press Ctrl-C.
	waitFile(t, marker)
	cmd.Process.Signal(os.Interrupt)
	fmt.Fprintln(stdin, "Print x.")
	stdin.Close()
	err = cmd.Wait()
	if err != nil {
		t.Fatalf("exit: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	events, err := record.ReadEvents(filepath.Join(dir, record.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	printed := false
	for _, e := range events {
		if e.Type == record.TypeRequestFinished {
			reasons = append(reasons, e.Reason)
		}
		if e.Type == record.TypeCellFinished && strings.Contains(e.Cell().Text(), "x = 5") {
			printed = true
		}
	}
	if want := []string{"canceled", "terminated"}; !slices.Equal(reasons, want) || !printed {
		t.Errorf("requests ended %q (want %q); x printed: %v\n%s", reasons, want, printed, &stdout)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left", n)
	}
}
