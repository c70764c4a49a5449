package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestLongLLMAnswerIsCut runs a planner that answers with 2 MB: the message
// is cut at --max-message, the transcript and the records say so, and the
// writer's prompt stays small.
func TestLongLLMAnswerIsCut(t *testing.T) {
	js := jupytertest.Start(t)
	huge := "Sub-task 1: " + strings.Repeat("print it all ", 160_000)
	llm := scripted(t, nil,
		llmtest.Reply{Content: huge},
		llmtest.Reply{Content: fence("print(1)")},
	)
	setLLM(t, llm)
	out := t.TempDir()
	code, stdout, errs := runCLI(t, context.Background(), "run", "--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "t", "--out", out, "--max-turns", "2", "--max-message", "1000")
	if code != exitLimit {
		t.Fatalf("exit %d, want %d (max turns)\n%s", code, exitLimit, errs)
	}
	const note = "[analyst: this answer was cut at 1000 bytes, the limit of one message (--max-message); the rest was not read]"
	want := huge[:1000] + "\n\n" + note
	if !strings.Contains(stdout, note) {
		t.Errorf("the transcript does not say the answer was cut")
	}
	events, err := record.ReadEvents(filepath.Join(out, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		if e.Type == record.TypeMessage && e.Agent == "planner" {
			found = e.Content == want
		}
	}
	if !found {
		t.Errorf("events.jsonl has no planner message of the cut answer")
	}
	reqs := llm.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d LLM requests, want 2", len(reqs))
	}
	size := 0
	for _, m := range reqs[1].Messages {
		size += len(m.Content)
	}
	if size > 20_000 {
		t.Errorf("the writer's prompt holds %d bytes, want the planner's message cut to 1000", size)
	}
}
