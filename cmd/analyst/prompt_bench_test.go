package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// fourSteps is a scripted 4-step run whose first cell prints 20,000 lines.
func fourSteps() []llmtest.Reply {
	cells := []string{
		"for i in range(20000):\n    print(f'row {i:05d}: value {i * 7 % 1000}')",
		"total = sum(i * 7 % 1000 for i in range(20000))\nprint(total)",
		"mean = total / 20000\nprint(round(mean, 3))",
		"print(max(i * 7 % 1000 for i in range(20000)))",
	}
	var r []llmtest.Reply
	for i, c := range cells {
		r = append(r,
			llmtest.Reply{Content: fmt.Sprintf("Sub-task %d: the next number.", i+1)},
			llmtest.Reply{Content: fence(c)})
	}
	return append(r, llmtest.Reply{Content: "Summary: done.\nTERMINATION"})
}

// promptChars runs the 4-step script and returns the characters of every
// prompt the LLM received.
func promptChars(b *testing.B, js *jupytertest.Server, outputCap string) int {
	llm := scripted(b, nil, fourSteps()...)
	setLLM(b, llm)
	code, out, errs := runCLI(b, context.Background(), "run",
		"--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Four numbers.", "--out", b.TempDir(), "--output-cap", outputCap)
	if code != 0 {
		b.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	n := 0
	for _, r := range llm.Requests() {
		for _, m := range r.Messages {
			n += len(m.Content)
		}
	}
	return n
}

// BenchmarkPromptSize compares the prompt characters of a 4-step run whose
// first cell prints 20,000 lines, capped as analyst sends it, with the same
// run where every agent gets the whole uncapped history (what AutoGen's round
// robin sends). Target: capped ≤ 25 % of uncapped.
func BenchmarkPromptSize(b *testing.B) {
	js := jupytertest.Start(b)
	var capped, uncapped int
	for b.Loop() {
		capped = promptChars(b, js, "4000")
		uncapped = promptChars(b, js, "1000000000")
	}
	b.ReportMetric(float64(capped), "capped-chars")
	b.ReportMetric(float64(uncapped), "uncapped-chars")
	b.ReportMetric(100*float64(capped)/float64(uncapped), "%-of-uncapped")
}
