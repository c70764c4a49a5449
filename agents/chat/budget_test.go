package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/team"
)

// longHistory is a request, the planner's plan, and n steps of planner,
// writer and executor; step 1's cell prints the answer, the others 3,000
// characters of rows.
func longHistory(n int) []team.Message {
	h := []team.Message{
		{Agent: team.UserAgent, Content: "Find the answer."},
		{Agent: "planner", Content: "Plan: look at the data, then compute the answer.\nSub-task 1: compute the answer and print it."},
	}
	for i := 1; i <= n; i++ {
		if i > 1 {
			h = append(h, team.Message{Agent: "planner", Content: fmt.Sprintf("Sub-task %d: print table %d.", i, i)})
		}
		code, out := fmt.Sprintf("import pandas as pd\nt%d = table(%d)\nprint(t%d)", i, i, i), strings.Repeat(fmt.Sprintf("row of table %d\n", i), 200)
		if i == 1 {
			code, out = "answer = 4242.42\nprint('answer:', answer)", "answer: 4242.42"
		}
		h = append(h,
			team.Message{Agent: "writer", Content: fmt.Sprintf("Step %d.\n```python\n%s\n```", i, code)},
			team.Message{Agent: "executor", Content: fmt.Sprintf("[cell %d] ok, execution count %d, 5ms\n%s", i, i, out), Cells: []int{i}, State: fmt.Sprintf("answer: float = 4242.42\nt%d: DataFrame 200x3", i)},
		)
	}
	return h
}

func TestPromptWithinBudgetIsWhole(t *testing.T) {
	a := &Agent{ID: "planner", System: "You plan."}
	h := longHistory(2)
	got := a.prompt(h, 100000)
	want := []llm.Message{
		{Role: "system", Content: "You plan."},
		{Role: "user", Content: "Find the answer."},
		{Role: "assistant", Content: h[1].Content},
		{Role: "user", Content: "[writer]\n" + h[2].Content + "\n\n[executor]\n" + h[3].Content},
		{Role: "assistant", Content: h[4].Content},
		{Role: "user", Content: "[writer]\n" + h[5].Content + "\n\n[executor]\n" + h[6].Content + "\n\n" + StateHeading + "\nanswer: float = 4242.42\nt2: DataFrame 200x3"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("prompt\n%q\nwant\n%q", got, want)
	}
}

func TestPromptCompactsOldSteps(t *testing.T) {
	a := &Agent{ID: "planner", System: "You plan."}
	h := longHistory(40)
	const budget = 6000
	got := a.prompt(h, budget)
	if n := Tokens(got); n > budget {
		t.Fatalf("prompt of %d tokens, over the budget of %d", n, budget)
	}
	all := fmt.Sprint(got)
	for _, want := range []string{
		"Find the answer.", // the request
		h[1].Content,       // the plan, in full: its first line alone is what a compacted step keeps
		"- ran: answer = 4242.42 | [cell 1] ok printed: answer: 4242.42\n- asked: Sub-task 2: print table 2. | ran: t2 = table(2) | [cell 2] ok printed: row of table 2\n", // old steps, compacted
		"[cell 38] ok, execution count 38", "[cell 39] ok", "[cell 40] ok", // the last steps in full
		StateHeading + "\nanswer: float = 4242.42\nt40: DataFrame 200x3", // the latest state card
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "row of table 30\nrow of table 30") || strings.Contains(all, "t39: DataFrame") {
		t.Errorf("the prompt holds an old step in full or an old state card:\n%s", all)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Role == "user" && got[i-1].Role == "user" {
			t.Errorf("messages %d and %d are both the user's", i-1, i)
		}
	}
}

func TestStepLine(t *testing.T) {
	tests := []struct {
		step Step
		want string
	}{
		{Step{Asked: "Sub-task 3: total the sales per region.", Code: []string{"import pandas as pd\n# totals\ntotals = df.groupby('Region')['Sales'].sum()\nprint(totals)"},
			Results: []string{"[cell 3] ok, execution count 3, 12ms\nRegion\nEast    678781.24\nWest    725457.82\n… 3 lines omitted …\nName: Sales, dtype: float64"}},
			"asked: Sub-task 3: total the sales per region. | ran: totals = df.groupby('Region')['Sales'].sum() | [cell 3] ok printed: East 678781.24; West 725457.82; Name: Sales, dtype: float64"},
		{Step{Code: []string{"print(df['x'])"}, Results: []string{"[cell 4] error, execution count 4, 3ms\nTraceback (most recent call last):\n  line 1\nKeyError: 'x'"}},
			"ran: print(df['x']) | [cell 4] error → KeyError: 'x'"},
		{Step{Results: []string{"[cell 5] not run: cell 4 failed first."}}, "[cell 5] not run: cell 4 failed first."},
	}
	for _, tt := range tests {
		if got := tt.step.Line(); got != tt.want {
			t.Errorf("Line()\n got %q\nwant %q", got, tt.want)
		}
	}
}

func TestFitLeavesOutOldestLines(t *testing.T) {
	head := []llm.Message{{Role: "system", Content: "s"}}
	var steps []Step
	for i := 1; i <= 200; i++ {
		steps = append(steps, Step{
			Msgs:    []llm.Message{{Role: "user", Content: strings.Repeat("x", 400)}},
			Asked:   fmt.Sprintf("Sub-task %d: print the number %d and a long explanation of why it matters here", i, i*7),
			Results: []string{fmt.Sprintf("[cell %d] ok\nvalue %d", i, i*7)},
		})
	}
	got := Fit(head, steps, nil, 1000)
	if n := Tokens(got); n > 1000 {
		t.Fatalf("prompt of %d tokens, over 1000", n)
	}
	all := fmt.Sprint(got)
	if !strings.Contains(all, "- (177 earlier steps left out)\n- asked: Sub-task 178:") || !strings.Contains(all, "[cell 197] ok printed: value 1379") || !strings.Contains(all, strings.Repeat("x", 400)) {
		t.Errorf("prompt:\n%s", all)
	}
}

// client answers from a list of errors, recording the prompts.
type client struct {
	errs    []error
	prompts [][]llm.Message
}

func (c *client) Stream(_ context.Context, req llm.Request, _ func(string)) (llm.Response, error) {
	c.prompts = append(c.prompts, req.Messages)
	if err := c.errs[0]; err != nil {
		c.errs = c.errs[1:]
		return llm.Response{}, err
	}
	return llm.Response{Content: "Sub-task 41: summarise."}, nil
}

func TestAskCompactsFurtherWhenTheServerSaysTooLong(t *testing.T) {
	tooLong := &llm.Error{Kind: llm.ContextLength, Status: 400, Model: "m", Message: "This model's maximum context length is 8192 tokens."}
	tests := []struct {
		name    string
		errs    []error
		wantErr error
	}{
		{"retried", []error{tooLong, nil}, nil},
		{"still too long", []error{tooLong, tooLong}, tooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{errs: tt.errs}
			a := &Agent{ID: "planner", System: "You plan.", Client: c, Model: Model{Name: "m", ContextBudget: 8000}}
			var notices []string
			_, err := a.Act(t.Context(), longHistory(40), func(e team.Event) {
				if n, ok := e.(team.Notice); ok {
					notices = append(notices, n.Text)
				}
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if len(c.prompts) != 2 {
				t.Fatalf("%d requests, want 2", len(c.prompts))
			}
			if first, second := Tokens(c.prompts[0]), Tokens(c.prompts[1]); first > 8000 || second > 4000 {
				t.Errorf("prompts of %d and %d tokens, want at most 8000 and 4000", first, second)
			}
			want := []string{"the planner's prompt is too long for the model; compacting it to 4000 tokens and asking again"}
			if fmt.Sprint(notices) != fmt.Sprint(want) {
				t.Errorf("notices %q, want %q", notices, want)
			}
		})
	}
}
