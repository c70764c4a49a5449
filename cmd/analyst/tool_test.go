package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/internal/testkit/superstore"
)

func toolCall(id, code string) llmtest.ToolCall {
	args, _ := json.Marshal(map[string]string{"code": code})
	return llmtest.ToolCall{ID: id, Name: "execute_code", Arguments: string(args)}
}

// TestRunToolMode runs --mode tool end to end: one agent whose answer holds
// two execute_code calls streamed in small pieces, then a summary; the
// records hold the cells and the summary.
func TestRunToolMode(t *testing.T) {
	js := jupytertest.Start(t)
	want, err := superstore.RegionTotals(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	llm := scripted(t, func(req llmtest.Request) llmtest.Reply {
		var last string // the last tool result (the kernel state card comes after it)
		for _, m := range req.Messages {
			if m.Role == "tool" {
				last = m.Content
			}
		}
		return llmtest.Reply{Content: "Totals:\n" + strings.Join(totalLine.FindAllString(last, -1), "\n")}
	},
		llmtest.Reply{Content: "Loading the data, then totals.", ToolCalls: []llmtest.ToolCall{
			toolCall("call_1", "import pandas as pd\ndf = pd.read_csv('superstore.csv')\nprint(df.shape)"),
			toolCall("call_2", "for r, v in df.groupby('Region')['Sales'].sum().items():\n    print(f'{r}: {v:.2f}')"),
		}},
	)
	llm.SetChunkSize(2)
	setLLM(t, llm)
	outDir := t.TempDir()
	code, out, errs := runCLI(t, context.Background(), "run", "--mode", "tool",
		"--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Total sales per region.", "--data", superstoreCSV, "--out", outDir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	reqs := llm.Requests()
	if len(reqs) != 2 || len(reqs[0].Tools) != 1 || reqs[0].Tools[0] != "execute_code" {
		t.Fatalf("requests: %d, tools %v", len(reqs), reqs[0].Tools)
	}
	var toolMsgs []string
	for _, m := range reqs[1].Messages {
		if m.Role == "tool" {
			toolMsgs = append(toolMsgs, m.ToolCallID+": "+m.Content)
		}
	}
	if len(toolMsgs) != 2 || !strings.HasPrefix(toolMsgs[0], "call_1: [cell 1] ok") || !strings.Contains(toolMsgs[0], "(9994, 21)") {
		t.Fatalf("tool messages: %q", toolMsgs)
	}
	report, _ := os.ReadFile(filepath.Join(outDir, "report.md"))
	for region, total := range want {
		line := fmt.Sprintf("%s: %.2f", region, total)
		if !strings.Contains(toolMsgs[1], line) || !strings.Contains(string(report), line) {
			t.Errorf("%q missing from the tool answer or the report's summary", line)
		}
	}
	validNotebook(t, filepath.Join(outDir, "analysis.ipynb"))
	nb, _ := os.ReadFile(filepath.Join(outDir, "analysis.ipynb"))
	step, cell := strings.Index(string(nb), "Loading the data, then totals."), strings.Index(string(nb), "pd.read_csv")
	if step < 0 || cell < 0 || step > cell {
		t.Errorf("the notebook's step (at %d) should come before its cells (at %d)", step, cell)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left", n)
	}
}
