package toolagent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/agents/executor"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/kernel"
	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/internal/testkit/superstore"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/prompts"
	"github.com/analyst-dev/analyst/team"
)

const superstoreCSV = "../../examples/superstore.csv"

func newClient(t *testing.T, url string) *llm.Client {
	t.Helper()
	c, err := llm.New(llm.Config{BaseURL: url, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startKernel starts a kernel on a Jupyter Server of the test's own, with the
// files uploaded; it is deleted when the test ends.
func startKernel(t *testing.T, files ...string) *kernel.Handle {
	t.Helper()
	js := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	h := kernel.Start(context.Background(), kernel.Options{
		Client: c,
		Start:  jupyter.StartOptions{Name: "python3"},
		Files:  files,
	})
	t.Cleanup(func() {
		if err := h.Close(context.Background()); err != nil {
			t.Errorf("delete kernel: %v", err)
		}
	})
	return h
}

// events records a run's events.
type events []team.Event

func (e *events) Observe(ev team.Event) { *e = append(*e, ev) }

func TestRunSuperstoreRegionTotals(t *testing.T) {
	totals, err := superstore.RegionTotals(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range slices.Sorted(maps.Keys(totals)) {
		lines = append(lines, fmt.Sprintf("%s: %.2f", r, totals[r]))
	}
	summary := "Total sales by region:\n" + strings.Join(lines, "\n")

	load := "import pandas as pd\ndf = pd.read_csv('superstore.csv')\nprint(df.shape)"
	group := "for r, v in df.groupby('Region')['Sales'].sum().items():\n    print(f'{r}: {v:.2f}')"
	args := func(code string) string {
		return fmt.Sprintf(`{"code": %q}`, code)
	}
	srv := llmtest.NewServer(t,
		llmtest.Reply{
			Content: "I'll load the data, then total the sales by region.",
			ToolCalls: []llmtest.ToolCall{
				{ID: "call_load", Name: ToolName, Arguments: args(load)},
				{ID: "call_group", Name: ToolName, Arguments: args(group)},
			},
			Usage: &llmtest.Usage{PromptTokens: 100, CompletionTokens: 40},
		},
		llmtest.Reply{
			ToolCalls: []llmtest.ToolCall{
				{ID: "call_bad", Name: ToolName, Arguments: `{"code": print(df.head())}`},
				{ID: "call_nocode", Name: ToolName, Arguments: `{"source": "print(1)"}`},
			},
			Usage: &llmtest.Usage{PromptTokens: 300, CompletionTokens: 20},
		},
		llmtest.Reply{Content: summary, Usage: &llmtest.Usage{PromptTokens: 400, CompletionTokens: 30}},
	)
	srv.SetChunkSize(2)

	h := startKernel(t, superstoreCSV)
	exec := executor.New(h, executor.Options{Figures: &cell.FigureDir{Dir: t.TempDir()}})
	agent := New(newClient(t, srv.URL), chat.Model{Name: "test-model"}, "SYSTEM", exec)

	var evs events
	out := team.Run(context.Background(), "Total sales per region of superstore.csv", []team.Agent{agent}, &evs, team.Options{MaxTurns: 10})
	if out.Reason != team.StopTerminated || out.Err != nil {
		t.Fatalf("run ended %s (%v), want terminated", out.Reason, out.Err)
	}
	if out.Turns != 3 {
		t.Errorf("turns = %d, want 3 (one per LLM answer)", out.Turns)
	}
	final, ok := out.Final()
	if !ok || final.Content != summary {
		t.Errorf("final message = %q, want the summary %q", final.Content, summary)
	}
	if got, want := out.Usage[Name], (team.Usage{PromptTokens: 800, CompletionTokens: 90}); got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d LLM requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if !slices.Equal(r.Tools, []string{ToolName}) {
			t.Errorf("request %d offers tools %q, want [%s]", i+1, r.Tools, ToolName)
		}
	}

	// The second request carries the first answer, its tool calls assembled
	// from 2-character deltas, and a tool message answering each.
	m := reqs[1].Messages
	if len(m) != 6 {
		t.Fatalf("second request has %d messages, want system, user, assistant, tool, tool, state card: %+v", len(m), m)
	}
	if m[0].Role != "system" || m[0].Content != "SYSTEM" || m[1].Role != "user" || m[1].Content != "Total sales per region of superstore.csv" {
		t.Errorf("request starts with %+v, %+v", m[0], m[1])
	}
	wantCalls := []llmtest.ToolCall{
		{ID: "call_load", Name: ToolName, Arguments: args(load)},
		{ID: "call_group", Name: ToolName, Arguments: args(group)},
	}
	if m[2].Role != "assistant" || !slices.Equal(m[2].ToolCalls, wantCalls) {
		t.Errorf("assistant message = %+v, want tool calls %+v", m[2], wantCalls)
	}
	if m[3].Role != "tool" || m[3].ToolCallID != "call_load" || !strings.Contains(m[3].Content, "(9994, 21)") {
		t.Errorf("first tool message = %+v, want call_load's output (9994, 21)", m[3])
	}
	if m[4].Role != "tool" || m[4].ToolCallID != "call_group" {
		t.Errorf("second tool message = %+v, want call_group's", m[4])
	}
	for _, l := range lines {
		if !strings.Contains(m[4].Content, l+"\n") && !strings.HasSuffix(m[4].Content, l) {
			t.Errorf("tool message lacks the total %q:\n%s", l, m[4].Content)
		}
	}

	// The kernel state card, from the kernel, ends the prompt.
	wantState := chat.StateHeading + "\ndf: DataFrame 9994x21 columns Row ID, Order ID,"
	if m[5].Role != "user" || !strings.HasPrefix(m[5].Content, wantState) {
		t.Errorf("last message = %+v, want the state card beginning %q", m[5], wantState)
	}

	// The third request answers the malformed calls with explanations, and
	// still ends with the state card.
	m = reqs[2].Messages
	if len(m) != 9 {
		t.Fatalf("third request has %d messages, want 9", len(m))
	}
	if !strings.HasPrefix(m[8].Content, wantState) {
		t.Errorf("last message = %+v, want the state card", m[8])
	}
	for i, want := range []struct{ id, text string }{
		{"call_bad", "not a JSON object"},
		{"call_nocode", `no "code" field`},
	} {
		tm := m[6+i]
		if tm.Role != "tool" || tm.ToolCallID != want.id || !strings.Contains(tm.Content, want.text) || !strings.Contains(tm.Content, "nothing was run") {
			t.Errorf("tool message %d = %+v, want an explanation for %s containing %q", i+1, tm, want.id, want.text)
		}
	}

	// Each cell is visible as events, under the agent's name.
	var started, finished []int
	for _, ev := range evs {
		switch e := ev.(type) {
		case cell.Started:
			if e.Agent != Name {
				t.Errorf("CellStarted from %q, want %q", e.Agent, Name)
			}
			started = append(started, e.Index)
		case cell.Finished:
			if s := e.Cell.Status(); s != "ok" {
				t.Errorf("cell %d: %s", e.Cell.Index, s)
			}
			finished = append(finished, e.Cell.Index)
		}
	}
	if !slices.Equal(started, []int{1, 2}) || !slices.Equal(finished, []int{1, 2}) {
		t.Errorf("cells started %v, finished %v; want [1 2] each", started, finished)
	}
	msgs := out.Messages
	if len(msgs) != 3 || len(msgs[0].Cells) != 2 || msgs[0].Next != Name || len(msgs[1].Cells) != 0 || !msgs[2].Final {
		t.Errorf("messages: %+v", msgs)
	}
	if want := "I'll load the data, then total the sales by region."; msgs[0].Content != want {
		t.Errorf("first message = %q, want the model's text %q", msgs[0].Content, want)
	}
	var warnings []string
	for _, ev := range evs {
		if n, ok := ev.(team.Notice); ok && n.Warning {
			warnings = append(warnings, n.Text)
		}
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "not a JSON object") || !strings.Contains(warnings[1], `no "code" field`) {
		t.Errorf("warnings = %q, want one per malformed call", warnings)
	}
}

func TestToolsUnsupported(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.Reply{Status: 400, ErrorMessage: "tools is not supported by this model"})
	agent := New(newClient(t, srv.URL), chat.Model{Name: "tiny"}, "SYSTEM", noRunner{t})
	out := team.Run(context.Background(), "task", []team.Agent{agent}, nil, team.Options{})
	var le *llm.Error
	if out.Reason != team.StopError || !errors.As(out.Err, &le) || le.Kind != llm.ToolsUnsupported {
		t.Fatalf("run ended %s with %v, want a tools-unsupported error (for which the command suggests --mode team)", out.Reason, out.Err)
	}
	if !strings.Contains(out.Err.Error(), "does not support tool calling") {
		t.Errorf("error %q does not say why", out.Err)
	}
}

// noRunner fails the test if code is run.
type noRunner struct{ t *testing.T }

func (r noRunner) RunCode(context.Context, string, string, func(team.Event)) (cell.Cell, error) {
	r.t.Error("code ran")
	return cell.Cell{}, nil
}

func (noRunner) Cap() int { return cell.DefaultCap }

func (r noRunner) State(context.Context) string {
	r.t.Error("State called without a cell")
	return ""
}

func TestParseArguments(t *testing.T) {
	for _, tc := range []struct {
		args, code, problem string
	}{
		{`{"code": "print(1)"}`, "print(1)", ""},
		{`{"code": "` + "```python\\nprint(1)\\n```" + `"}`, "print(1)\n", ""},
		{`{"code": "x = '''` + "```" + `'''"}`, "x = '''```'''", ""},
		{``, "", "the arguments are empty"},
		{`print(1)`, "", "the arguments are not a JSON object"},
		{`{"code": 3}`, "", `the "code" field is not a string`},
		{`{"code": "  "}`, "", `the "code" field is empty`},
		{`{}`, "", `the arguments have no "code" field`},
	} {
		t.Run(tc.args, func(t *testing.T) {
			code, problem := parseArguments(tc.args)
			if code != tc.code || !strings.HasPrefix(problem, tc.problem) || (tc.problem == "") != (problem == "") {
				t.Errorf("parseArguments(%s) = %q, %q; want %q, %q", tc.args, code, problem, tc.code, tc.problem)
			}
		})
	}
}

func TestPrompt(t *testing.T) {
	set, err := prompts.Load("")
	if err != nil {
		t.Fatal(err)
	}
	got, err := set.Render(prompts.Tool, prompts.Data{Files: []prompts.File{{Name: "superstore.csv", Size: 2_345_678}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"`execute_code`", "stateful Jupyter kernel", "Never reload a file", "plt.show()", "input() is not available", "- superstore.csv (2.3 MB)", "without calling the tool"} {
		if !strings.Contains(got, want) {
			t.Errorf("tool prompt lacks %q:\n%s", want, got)
		}
	}
}

// printRunner runs no code: each cell prints its number and 3,000
// characters of rows.
type printRunner struct{ cells int }

func (r *printRunner) RunCode(_ context.Context, _, code string, _ func(team.Event)) (cell.Cell, error) {
	r.cells++
	c := cell.New(r.cells, "python", code)
	text := fmt.Sprintf("value %d\n%s", r.cells*7, strings.Repeat("row\n", 750))
	c.Result = &jupyter.Result{Status: "ok", ExecutionCount: r.cells, Outputs: []jupyter.Output{{Type: "stream", Name: "stdout", Text: text}}}
	return c, nil
}

func (*printRunner) Cap() int { return cell.DefaultCap }

func (r *printRunner) State(context.Context) string { return fmt.Sprintf("last: int = %d", r.cells*7) }

// TestTranscriptWithinBudget runs 30 tool calls within a budget of 4,000
// tokens: every prompt fits, every tool result follows the call it answers,
// and the last prompt holds the request, the first cell's number in its
// compacted line and the last cells in full.
func TestTranscriptWithinBudget(t *testing.T) {
	const calls, budget = 30, 4000
	srv := llmtest.NewServer(t)
	n := 0
	srv.Respond(func(llmtest.Request) llmtest.Reply {
		if n++; n > calls {
			return llmtest.Reply{Content: "Done: value 7."}
		}
		return llmtest.Reply{Content: fmt.Sprintf("Step %d.", n), ToolCalls: []llmtest.ToolCall{{ID: fmt.Sprintf("call-%d", n), Name: ToolName, Arguments: fmt.Sprintf(`{"code": "print(step(%d))"}`, n)}}}
	})
	a := New(newClient(t, srv.URL), chat.Model{Name: "m", ContextBudget: budget}, "You analyse.", &printRunner{})
	out := team.Run(t.Context(), "Find the values.", []team.Agent{a}, nil, team.Options{MaxTurns: calls + 5})
	if out.Reason != team.StopTerminated {
		t.Fatalf("run ended %s: %v", out.Reason, out.Err)
	}
	reqs := srv.Requests()
	if len(reqs) != calls+1 {
		t.Fatalf("%d requests, want %d", len(reqs), calls+1)
	}
	for i, r := range reqs {
		msgs := make([]llm.Message, len(r.Messages))
		called := map[string]bool{}
		for j, m := range r.Messages {
			msgs[j] = llm.Message{Role: m.Role, Content: m.Content}
			for _, tc := range m.ToolCalls {
				called[tc.ID] = true
				msgs[j].ToolCalls = append(msgs[j].ToolCalls, llm.ToolCall{Name: tc.Name, Arguments: tc.Arguments})
			}
			if m.Role == "tool" && !called[m.ToolCallID] {
				t.Errorf("request %d: the result of %s comes without its call", i+1, m.ToolCallID)
			}
		}
		if got := chat.Tokens(msgs); got > budget {
			t.Errorf("request %d has a prompt of %d tokens, over %d", i+1, got, budget)
		}
	}
	var last strings.Builder
	for _, m := range reqs[calls].Messages {
		last.WriteString(m.Content + "\n")
	}
	for _, want := range []string{"Find the values.", "- asked: Step 1. | ran: print(step(1)) | [cell 1] ok printed: value 7", "[cell 30] ok, execution count 30", chat.StateHeading + "\nlast: int = 210"} {
		if !strings.Contains(last.String(), want) {
			t.Errorf("the last prompt lacks %q:\n%s", want, last.String())
		}
	}
}
