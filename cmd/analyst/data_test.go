package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestDataNeverOverwritten: a data file whose name is taken by a different
// file in the local gateway's working directory is refused before anything
// starts, naming both; the user's file is left as it was.
func TestDataNeverOverwritten(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-never-sent")
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	work, other := t.TempDir(), t.TempDir()
	mine := filepath.Join(work, "orders.csv")
	os.WriteFile(mine, []byte("mine\n"), 0o644)
	theirs := filepath.Join(other, "orders.csv")
	os.WriteFile(theirs, []byte("theirs\n"), 0o644)
	code, out, errs := runCLI(t, context.Background(), "run", "--task", "t", "--data", theirs, "--workdir", work, "--out", filepath.Join(t.TempDir(), "run"))
	want := fmt.Sprintf("analyst: --data %s: the kernel's working directory already has a different orders.csv (%s): rename one, pass another --workdir, or --force to replace it\n", theirs, mine)
	if code != 2 || errs != want || out != "" {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and\n%s", code, out, errs, want)
	}
	if b, _ := os.ReadFile(mine); string(b) != "mine\n" {
		t.Errorf("the user's file now holds %q", b)
	}
}

// TestBatchTasksKeepTheirData runs two tasks at once on one remote gateway,
// each with its own q1.csv: each reads its own file, and no data is left in
// the gateway's working directory.
func TestBatchTasksKeepTheirData(t *testing.T) {
	js := jupytertest.Start(t)
	dir := t.TempDir()
	for _, task := range []string{"a", "b"} {
		os.MkdirAll(filepath.Join(dir, task), 0o755)
		os.WriteFile(filepath.Join(dir, task, "q1.csv"), []byte("data of task "+task+"\n"), 0o644)
	}
	file := filepath.Join(dir, "tasks.yaml")
	os.WriteFile(file, []byte("- {name: a, task: read a, data: [a/q1.csv], expect: ['data of task a']}\n- {name: b, task: read b, data: [b/q1.csv], expect: ['data of task b']}\n"), 0o644)
	// Each task's agents: plan, read the file, finish.
	llm := llmtest.NewServer(t)
	llm.Respond(func(req llmtest.Request) llmtest.Reply {
		var all strings.Builder
		for _, m := range req.Messages {
			all.WriteString(m.Content + "\n")
		}
		planner := strings.Contains(req.Messages[0].Content, "task planner")
		switch {
		case planner && strings.Contains(all.String(), "[executor]"):
			return llmtest.Reply{Content: "Read.\n\nTERMINATION"}
		case planner:
			return llmtest.Reply{Content: "Sub-task 1: print q1.csv."}
		}
		return llmtest.Reply{Content: fence("print(open('q1.csv').read())")}
	})
	setLLM(t, llm)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, errs := runCLI(t, context.Background(), "batch", file, "-j", "2", "--out", out, "--gateway-url", js.URL, "--gateway-token", js.Token)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, errs)
	}
	for _, task := range []string{"a", "b"} {
		events, err := record.ReadEvents(filepath.Join(out, task, record.EventsFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Type == record.TypeCellFinished && strings.TrimSpace(e.Cell().Text()) != "data of task "+task {
				t.Errorf("task %s read %q", task, e.Cell().Text())
			}
		}
	}
	left, _ := filepath.Glob(filepath.Join(js.Dir, "analyst-runs", "*"))
	if _, err := os.Stat(filepath.Join(js.Dir, "q1.csv")); err == nil || len(left) != 0 {
		t.Errorf("data left in the gateway's directory: q1.csv (%v), run folders %q", err, left)
	}
}
