package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	durationRE = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m)\b`)
	kernelRE   = regexp.MustCompile(`kernel [0-9a-f]{8}\b`)
	tokensRE   = regexp.MustCompile(`(?m)^tokens \(prompt\+completion\):.*$`)
	numberRE   = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
)

// normalise removes what differs from run to run: durations, kernel ids,
// token counts and costs, and the kernel-ready notice, whose place depends on
// when the kernel came up.
func normalise(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "ready in") {
			continue
		}
		keep = append(keep, l)
	}
	s = strings.Join(keep, "\n")
	// Token counts follow the prompts, which quote cell durations.
	s = tokensRE.ReplaceAllStringFunc(s, func(l string) string { return numberRE.ReplaceAllString(l, "N") })
	s = kernelRE.ReplaceAllString(s, "kernel ID")
	return durationRE.ReplaceAllString(s, "D")
}

// TestTranscriptGolden pins the plain-text transcript of a short run.
func TestTranscriptGolden(t *testing.T) {
	js := jupytertest.Start(t)
	llm := scripted(t, nil,
		llmtest.Reply{Content: "Sub-task 1: Compute x = 1 + 2 and print it."},
		llmtest.Reply{Content: fence("x = 1 + 2\nprint(x)")},
		llmtest.Reply{Content: "Sub-task 2: Print x squared, reusing x."},
		llmtest.Reply{Content: fence("x ** 2")},
		llmtest.Reply{Content: "x is 3 and x squared is 9.\n\nTERMINATION"},
	)
	setLLM(t, llm)
	code, out, errs := runCLI(t, context.Background(), "run",
		"--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Compute 1 + 2 and its square.", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	got := normalise(out)
	golden := filepath.Join("testdata", "transcript.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("transcript differs from %s (go test -run TranscriptGolden -update):\n%s", golden, got)
	}
	if strings.Contains(out, "\x1b") {
		t.Error("the transcript holds escape codes though stdout is no terminal")
	}
}

// TestLongOutputIsCapped checks that a cell printing 20,000 lines reaches the
// next LLM prompt as at most the cap, head and tail kept.
func TestLongOutputIsCapped(t *testing.T) {
	js := jupytertest.Start(t)
	llm := scripted(t, nil,
		llmtest.Reply{Content: "Sub-task 1: print the numbers."},
		llmtest.Reply{Content: fence("for i in range(20000):\n    print(f'row {i:05d}')")},
		llmtest.Reply{Content: "Done.\nTERMINATION"},
	)
	setLLM(t, llm)
	code, out, errs := runCLI(t, context.Background(), "run",
		"--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Print 20,000 rows.", "--out", t.TempDir(), "--output-cap", "4000")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	reqs := llm.Requests()
	last := reqs[2].Messages[len(reqs[2].Messages)-1].Content
	last, _, _ = strings.Cut(last, chat.StateHeading) // the kernel state card follows the cell
	if len(last) > 4000+200 {
		t.Errorf("the planner's prompt holds %d characters of the cell, want at most the cap (4000) and a status line", len(last))
	}
	for _, want := range []string{"row 00000", "row 19999", "lines omitted"} {
		if !strings.Contains(last, want) {
			t.Errorf("capped output lacks %q", want)
		}
	}
	if strings.Contains(last, "row 10000") {
		t.Error("the middle of the output reached the LLM")
	}
}

// TestJSONStream checks --json: stdout holds exactly the lines of
// events.jsonl, and the transcript goes to stderr.
func TestJSONStream(t *testing.T) {
	js := jupytertest.Start(t)
	llm := scripted(t, nil,
		llmtest.Reply{Content: "Sub-task 1: print 6 * 7."},
		llmtest.Reply{Content: fence("print(6 * 7)")},
		llmtest.Reply{Content: "It is 42.\nTERMINATION"},
	)
	setLLM(t, llm)
	dir := t.TempDir()
	code, out, errs := runCLI(t, context.Background(), "run", "--json", "--temperature", "0.1", "--top-p", "0.85",
		"--planner-model", "qwen-plus", "--model", "qwen3-next-80b-a3b-instruct",
		"--gateway-url", js.URL, "--gateway-token", js.Token, "--task", "6 * 7", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	reqs := llm.Requests()
	if r := reqs[0]; r.Model != "qwen-plus" || r.Temperature == nil || *r.Temperature != 0.1 || r.TopP == nil || *r.TopP != 0.85 {
		t.Errorf("planner request: model %q, temperature %v, top_p %v", r.Model, r.Temperature, r.TopP)
	}
	if r := reqs[1]; r.Model != "qwen3-next-80b-a3b-instruct" {
		t.Errorf("writer request: model %q", r.Model)
	}
	if !strings.Contains(errs, "── planner ──") {
		t.Errorf("the transcript is not on stderr:\n%s", errs)
	}
	file, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(file) {
		t.Errorf("stdout differs from events.jsonl:\n%s\n---\n%s", out, file)
	}
	var types []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Type == "" {
			t.Fatalf("stdout line is not an event: %q", l)
		}
		types = append(types, e.Type)
	}
	if types[0] != "run_started" || types[len(types)-1] != "run_finished" {
		t.Errorf("event types = %v", types)
	}
}
