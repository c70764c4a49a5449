package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/internal/testkit/superstore"
)

const superstoreCSV = "../../examples/superstore.csv"

// setLLM points the CLI at the scripted server.
func setLLM(t testing.TB, s *llmtest.Server) {
	t.Setenv("OPENAI_BASE_URL", s.URL)
	t.Setenv("OPENAI_API_KEY", "sk-test")
	t.Setenv("ANALYST_MODEL", "")
	t.Setenv("NO_COLOR", "1")
}

// scripted starts a scripted LLM server that plays replies in order and then
// answers with then.
func scripted(t testing.TB, then func(llmtest.Request) llmtest.Reply, replies ...llmtest.Reply) *llmtest.Server {
	s := llmtest.NewServer(t)
	var mu sync.Mutex
	s.Respond(func(req llmtest.Request) llmtest.Reply {
		mu.Lock()
		defer mu.Unlock()
		if len(replies) > 0 {
			r := replies[0]
			replies = replies[1:]
			return r
		}
		if then == nil {
			t.Errorf("the LLM was asked more than the script holds")
			return llmtest.Reply{Status: 500, ErrorMessage: "script exhausted"}
		}
		return then(req)
	})
	return s
}

func fence(code string) string { return "Here is the code.\n```python\n" + code + "\n```" }

var totalLine = regexp.MustCompile(`(?m)^(Central|East|South|West): ([0-9.]+)$`)

// TestRunSuperstore is the main job end to end: the scripted LLM and a real
// Jupyter Server. A failing cell is fixed on the writer's next turn, state
// carries across cells, the planner's summary quotes the printed totals, and
// those equal the totals computed here from the CSV.
func TestRunSuperstore(t *testing.T) {
	js := jupytertest.Start(t)
	want, err := superstore.RegionTotals(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	llm := scripted(t, func(req llmtest.Request) llmtest.Reply {
		// The planner's summary quotes what the executor printed.
		last := req.Messages[len(req.Messages)-1].Content
		lines := totalLine.FindAllString(last, -1)
		return llmtest.Reply{Content: "Total sales per region:\n" + strings.Join(lines, "\n") + "\n\nTERMINATION"}
	},
		llmtest.Reply{Content: "Sub-task 1: Load superstore.csv into `df` and print its shape."},
		llmtest.Reply{Content: fence("import pandas as pd\ndf = pd.read_csv('superstore.csv')\nprint(df.shape)")},
		llmtest.Reply{Content: "Sub-task 2: Print the total Sales per Region."},
		llmtest.Reply{Content: fence("totals = df.groupby('region')['Sales'].sum()")}, // KeyError: the column is Region
		llmtest.Reply{Content: "The column is named Region. Sub-task 3: retry with Region."},
		llmtest.Reply{Content: fence("totals = df.groupby('Region')['Sales'].sum()\nfor region, total in totals.items():\n    print(f'{region}: {total:.2f}')")},
	)
	setLLM(t, llm)

	outDir := t.TempDir()
	code, out, errs := runCLI(t, context.Background(), "run",
		"--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Read superstore.csv and find the total sales for each region.",
		"--data", superstoreCSV, "--out", outDir)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}

	reqs := llm.Requests()
	if len(reqs) != 7 {
		t.Fatalf("%d LLM requests, want 7", len(reqs))
	}
	// The planner and the writer are told which files the kernel holds.
	for i := range 2 {
		if sys := reqs[i].Messages[0].Content; !strings.Contains(sys, "- superstore.csv (2.3 MB)") {
			t.Errorf("request %d's system prompt does not name the data file:\n%s", i, sys)
		}
	}
	// The writer's fix saw the KeyError.
	if got := reqs[5].Messages[len(reqs[5].Messages)-1].Content; !strings.Contains(got, "KeyError: 'region'") {
		t.Errorf("the writer's 3rd request does not show the KeyError:\n%s", got)
	}
	// The executor's output and the summary hold the totals computed in Go.
	summary := reqs[6].Messages[len(reqs[6].Messages)-1].Content
	for region, total := range want {
		line := fmt.Sprintf("%s: %.2f", region, total)
		if !strings.Contains(summary, line) {
			t.Errorf("executor output lacks %q:\n%s", line, summary)
		}
		if !strings.Contains(out, "Total sales per region:") || !strings.Contains(out, line) {
			t.Errorf("transcript lacks %q", line)
		}
	}
	got := map[string]float64{}
	for _, m := range totalLine.FindAllStringSubmatch(summary, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		got[m[1]] = v
	}
	if len(got) != 4 {
		t.Fatalf("summary has %d region totals, want 4", len(got))
	}
	for region, v := range got {
		if math.Abs(v-want[region]) > 0.005 {
			t.Errorf("%s = %.2f, want %.2f", region, v, want[region])
		}
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left on the server, want 0", n)
	}

	// The records: a valid notebook with the three cells in order, a report
	// with the summary's totals.
	validNotebook(t, filepath.Join(outDir, "analysis.ipynb"))
	report, err := os.ReadFile(filepath.Join(outDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for region, total := range want {
		if line := fmt.Sprintf("%s: %.2f", region, total); !strings.Contains(string(report), line) {
			t.Errorf("report.md lacks %q", line)
		}
	}
	events, err := record.ReadEvents(filepath.Join(outDir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, e := range events {
		if e.Type == record.TypeCellFinished {
			codes = append(codes, e.Code)
		}
	}
	if len(codes) != 3 || !strings.Contains(codes[1], "'region'") || !strings.Contains(codes[2], "'Region'") {
		t.Errorf("recorded cells = %q", codes)
	}
}

// validNotebook checks a notebook with Debian's nbformat.
func validNotebook(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "-c",
		"import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", path).CombinedOutput()
	if err != nil {
		t.Errorf("%s is not a valid notebook: %v\n%s", path, err, out)
	}
}
