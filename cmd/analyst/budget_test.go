package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

func TestContextBudgetOption(t *testing.T) {
	tests := []struct {
		flag    int
		env     string
		want    int
		wantErr string
	}{
		{0, "", chat.DefaultBudget, ""},
		{0, "6000", 6000, ""},
		{9000, "6000", 9000, ""},
		{0, "lots", 0, `ANALYST_CONTEXT_BUDGET="lots" is not a number of tokens`},
		{0, "100", 0, "--context-budget must be at least 2000 tokens, got 100"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %q", tt.flag, tt.env), func(t *testing.T) {
			t.Setenv(envContextBudget, tt.env)
			o := &runOptions{budget: tt.flag}
			err := o.resolveBudget()
			switch {
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error %v, want %s", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case o.budget != tt.want || o.sampling("m").Budget() != tt.want:
				t.Errorf("budget %d, model's %d; want %d", o.budget, o.sampling("m").Budget(), tt.want)
			}
		})
	}
}

var (
	cellNumber = regexp.MustCompile(`\[cell (\d+)\]`)
	subTask    = regexp.MustCompile(`Sub-task (\d+)`)
)

// TestLongRunRemembersEarlyNumber runs 31 steps on a real Jupyter Server
// within a context budget of 6,000 tokens: the first cell prints the answer,
// the next 30 print 4,500 characters each (about 1,000 tokens once capped). Every prompt stays within the budget, and
// the planner's last prompt, which writes the summary, still holds the
// answer: in the first step's compacted line and in the kernel state card.
func TestLongRunRemembersEarlyNumber(t *testing.T) {
	js := jupytertest.Start(t)
	const steps, budget = 31, 6000
	s := llmtest.NewServer(t)
	s.Respond(func(req llmtest.Request) llmtest.Reply {
		last := req.Messages[len(req.Messages)-1].Content
		if req.Model == "writer" {
			k := 0
			if m := subTask.FindAllStringSubmatch(last, -1); m != nil {
				k, _ = strconv.Atoi(m[len(m)-1][1])
			}
			if k == 1 {
				return llmtest.Reply{Content: fence("answer = 4242.42\nprint('answer:', answer)")}
			}
			return llmtest.Reply{Content: fence(fmt.Sprintf("t%d = list(range(1000))\nprint('\\n'.join('row %%d of table %d' %% i for i in range(250)))", k, k))}
		}
		done := 0
		for _, m := range req.Messages {
			for _, c := range cellNumber.FindAllStringSubmatch(m.Content, -1) {
				n, _ := strconv.Atoi(c[1])
				done = max(done, n)
			}
		}
		if done < steps {
			return llmtest.Reply{Content: fmt.Sprintf("Sub-task %d: print table %d.", done+1, done+1)}
		}
		if strings.Contains(last, "answer: float = 4242.42") {
			return llmtest.Reply{Content: "The answer is 4242.42.\nTERMINATION"}
		}
		return llmtest.Reply{Content: "The answer is lost.\nTERMINATION"}
	})
	setLLM(t, s)
	code, out, errs := runCLI(t, context.Background(), "run",
		"--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Find the answer, then print 30 tables.",
		"--planner-model", "planner", "--writer-model", "writer",
		"--context-budget", strconv.Itoa(budget), "--max-turns", "100", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !strings.Contains(out, "The answer is 4242.42.") {
		t.Errorf("the summary lacks the answer:\n%s", out)
	}
	reqs := s.Requests()
	if n := len(reqs); n != 2*steps+1 { // the planner's and the writer's
		t.Fatalf("%d LLM requests, want %d", n, 2*steps+1)
	}
	for i, r := range reqs {
		msgs := make([]llm.Message, len(r.Messages))
		for j, m := range r.Messages {
			msgs[j] = llm.Message{Role: m.Role, Content: m.Content}
		}
		if n := chat.Tokens(msgs); n > budget {
			t.Errorf("request %d has a prompt of %d tokens, over the budget of %d", i+1, n, budget)
		}
	}
	final := reqs[len(reqs)-1]
	if testing.Verbose() {
		for _, m := range final.Messages[1:] {
			t.Logf("%s: %s", m.Role, m.Content)
		}
	}
	var prompt strings.Builder
	for _, m := range final.Messages {
		prompt.WriteString(m.Content + "\n")
	}
	for _, want := range []string{
		"| [cell 1] ok printed: answer: 4242.42", // step 1's compacted line
		"answer: float = 4242.42",                // the kernel state card
		"t31: list, 1000 items",
		"[cell 31] ok", // the last step in full
		"row 249 of table 31",
	} {
		if !strings.Contains(prompt.String(), want) {
			t.Errorf("the planner's last prompt lacks %q:\n%s", want, prompt.String())
		}
	}
	if strings.Contains(prompt.String(), "row 249 of table 5\n") {
		t.Errorf("the planner's last prompt holds step 5 in full:\n%s", prompt.String())
	}
}
