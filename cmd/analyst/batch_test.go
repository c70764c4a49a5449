package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/batch"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/internal/testkit/superstore"
)

// byTask is a scripted LLM for a batch: each task's requests, recognised by
// a marker in the task text, are answered from that task's own script, in
// order. Requests of different tasks arrive concurrently.
type byTask struct {
	t       *testing.T
	mu      sync.Mutex
	scripts map[string][]llmtest.Reply
	// hold, when set, is called (without the lock) before a task's request
	// is answered; it may block.
	hold func(marker string)
}

func (b *byTask) respond(req llmtest.Request) llmtest.Reply {
	marker := ""
	b.mu.Lock()
	for m := range b.scripts {
		if slices.ContainsFunc(req.Messages, func(msg llmtest.Message) bool { return strings.Contains(msg.Content, m) }) {
			marker = m
		}
	}
	b.mu.Unlock()
	if marker == "" {
		b.t.Errorf("an LLM request names no task")
		return llmtest.Reply{Status: 500, ErrorMessage: "no task"}
	}
	if b.hold != nil {
		b.hold(marker)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	script := b.scripts[marker]
	if len(script) == 0 {
		b.t.Errorf("task %s asked the LLM more than its script holds", marker)
		return llmtest.Reply{Status: 500, ErrorMessage: "script exhausted"}
	}
	b.scripts[marker] = script[1:]
	return script[0]
}

// regionLines are the lines "Region: total" computed in Go from the CSV.
func regionLines(t *testing.T) []string {
	t.Helper()
	totals, err := superstore.RegionTotals(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for region, total := range totals {
		lines = append(lines, fmt.Sprintf("%s: %.2f", region, total))
	}
	slices.Sort(lines)
	return lines
}

func absCSV(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type junitFile struct {
	XMLName  xml.Name `xml:"testsuite"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Cases    []struct {
		Name      string `xml:"name,attr"`
		Classname string `xml:"classname,attr"`
		Time      string `xml:"time,attr"`
		Failure   *struct {
			Message string `xml:"message,attr"`
		} `xml:"failure"`
		Error *struct {
			Message string `xml:"message,attr"`
		} `xml:"error"`
	} `xml:"testcase"`
}

type summaryFile struct {
	Passed int `json:"passed"`
	Failed int `json:"failed"`
	Tasks  []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Reason string `json:"reason"`
		Turns  int    `json:"turns"`
		Tokens struct {
			Prompt     int `json:"prompt"`
			Completion int `json:"completion"`
		} `json:"tokens"`
		DurationMS int64  `json:"duration_ms"`
		Records    string `json:"records"`
	} `json:"tasks"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestBatch runs three tasks two at a time on one Jupyter Server: one
// passes, one misses an expectation, one hits its turn limit.
func TestBatch(t *testing.T) {
	js := jupytertest.Start(t)
	lines := regionLines(t)
	csv := absCSV(t)
	llm := llmtest.NewServer(t)
	script := &byTask{t: t, scripts: map[string][]llmtest.Reply{
		"[totals]": {
			{Content: "Sub-task 1: print the total Sales per Region."},
			{Content: fence("import pandas as pd\ndf = pd.read_csv('superstore.csv')\nfor r, v in df.groupby('Region')['Sales'].sum().items():\n    print(f'{r}: {v:.2f}')")},
			{Content: "Total sales per region are printed above.\nTERMINATION"},
		},
		"[answer]": {
			{Content: "Sub-task 1: print 6*7."},
			{Content: fence("print(6*7)")},
			{Content: "The result is 42.\nTERMINATION"},
		},
		"[endless]": {
			{Content: "Sub-task 1: print 1."},
			{Content: fence("print(1)")},
		},
	}}
	// With -j 2 the first two tasks run at once: the first LLM request of
	// each waits for the other's (or gives up after a while, failing).
	var (
		firstMu sync.Mutex
		first   = map[string]bool{}
		both    = make(chan struct{})
	)
	script.hold = func(marker string) {
		firstMu.Lock()
		if first[marker] || marker == "[endless]" {
			firstMu.Unlock()
			return
		}
		first[marker] = true
		if len(first) == 2 {
			close(both)
		}
		firstMu.Unlock()
		select {
		case <-both:
		case <-time.After(30 * time.Second):
			t.Errorf("task %s ran alone: with -j 2 the first two tasks run at once", marker)
		}
	}
	llm.Respond(script.respond)
	setLLM(t, llm)

	dir := t.TempDir()
	file := filepath.Join(dir, "nightly.yaml")
	expects := ""
	for _, l := range lines {
		expects += fmt.Sprintf("      - %q\n", l)
	}
	yaml := fmt.Sprintf(`tasks:
  - name: totals
    task: "[totals] Total sales per region."
    data: [%[1]s]
    expect:
%[2]s      - /Total sales per \w+/
  - name: answer
    task: "[answer] What is six times seven?"
    data: [%[1]s]
    expect: ["The answer is 41"]
  - name: endless
    task: "[endless] Keep going."
    data: [%[1]s]
    max_turns: 2
`, csv, expects)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, context.Background(), "batch", file, "-j", "2",
		"--gateway-url", js.URL, "--gateway-token", js.Token, "--out", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left on the server, want 0", n)
	}

	wantReason := map[string]string{
		"totals":  "",
		"answer":  `expect "The answer is 41" not found`,
		"endless": "limit: max-turns",
	}
	wantStatus := map[string]string{"totals": "passed", "answer": "failed", "endless": "failed"}
	wantTurns := map[string]int{"totals": 4, "answer": 4, "endless": 2}

	// One line per task as it ends, in whatever order they end.
	for name, reason := range wantReason {
		line := firstLineWith(stderr, " "+name+"  ")
		switch {
		case reason == "" && (!strings.HasPrefix(line, "✓ ") || !strings.HasSuffix(line, fmt.Sprintf("  %d turns", wantTurns[name]))):
			t.Errorf("stderr line of %s = %q", name, line)
		case reason != "" && (!strings.HasPrefix(line, "✗ ") || !strings.HasSuffix(line, "  "+reason)):
			t.Errorf("stderr line of %s = %q, want it to end with %q", name, line, reason)
		}
	}
	// The table, in the file's order.
	if !strings.HasPrefix(stdout, "NAME     STATUS  TURNS  TOKENS  DURATION  REASON\n") || !strings.HasSuffix(stdout, "1 of 3 passed\n") {
		t.Errorf("table:\n%s", stdout)
	}
	if i, j, k := strings.Index(stdout, "\ntotals "), strings.Index(stdout, "\nanswer "), strings.Index(stdout, "\nendless "); !(i > 0 && i < j && j < k) {
		t.Errorf("table rows out of order:\n%s", stdout)
	}
	if !strings.HasSuffix(strings.TrimSpace(stderr), "analyst: 2 of 3 tasks failed") {
		t.Errorf("stderr does not end with the failure count:\n%s", stderr)
	}

	var ju junitFile
	b, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &ju); err != nil {
		t.Fatalf("junit.xml: %v\n%s", err, b)
	}
	if ju.Name != "analyst batch" || ju.Tests != 3 || ju.Failures != 2 || ju.Errors != 0 || len(ju.Cases) != 3 {
		t.Fatalf("junit suite = %+v", ju)
	}
	for i, name := range []string{"totals", "answer", "endless"} {
		c := ju.Cases[i]
		if c.Name != name || c.Classname != "analyst.batch" || c.Time == "" || c.Error != nil {
			t.Errorf("testcase %d = %+v", i, c)
		}
		switch {
		case wantReason[name] == "" && c.Failure != nil:
			t.Errorf("testcase %s has a failure: %q", name, c.Failure.Message)
		case wantReason[name] != "" && (c.Failure == nil || c.Failure.Message != wantReason[name]):
			t.Errorf("testcase %s failure = %+v, want %q", name, c.Failure, wantReason[name])
		}
	}

	var sum summaryFile
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	if sum.Passed != 1 || sum.Failed != 2 || len(sum.Tasks) != 3 {
		t.Fatalf("summary.json = %+v", sum)
	}
	for i, name := range []string{"totals", "answer", "endless"} {
		s := sum.Tasks[i]
		if s.Name != name || s.Status != wantStatus[name] || s.Reason != wantReason[name] || s.Turns != wantTurns[name] ||
			s.Tokens.Prompt <= 0 || s.Tokens.Completion <= 0 || s.DurationMS <= 0 || s.Records != filepath.Join(out, name) {
			t.Errorf("summary task %d = %+v", i, s)
		}
		for _, f := range []string{"events.jsonl", "analysis.ipynb", "report.md", "transcript.txt"} {
			if _, err := os.Stat(filepath.Join(out, name, f)); err != nil {
				t.Errorf("task %s: %v", name, err)
			}
		}
	}
	// The transcript is the task's console: the totals as printed.
	tr, err := os.ReadFile(filepath.Join(out, "totals", "transcript.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if !strings.Contains(string(tr), l) {
			t.Errorf("totals/transcript.txt lacks %q:\n%s", l, tr)
		}
	}
}

// TestBatchInterrupted cancels the batch, as Ctrl-C does, while the first
// of two tasks waits for the LLM: both are marked interrupted, no kernel is
// left, and the summary files are written.
func TestBatchInterrupted(t *testing.T) {
	js := jupytertest.Start(t)
	csv := absCSV(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	release := make(chan struct{})
	var once sync.Once
	llm := llmtest.NewServer(t)
	t.Cleanup(func() { close(release) }) // runs before the LLM server closes
	script := &byTask{t: t, scripts: map[string][]llmtest.Reply{
		"[first]":  {{Content: "Sub-task 1: print 1."}},
		"[second]": {{Content: "Sub-task 1: print 2."}},
	}, hold: func(string) {
		once.Do(func() { cancel(signalError{syscall.SIGINT}) })
		<-release
	}}
	llm.Respond(script.respond)
	setLLM(t, llm)

	dir := t.TempDir()
	file := filepath.Join(dir, "b.jsonl")
	jsonl := fmt.Sprintf(`{"name": "first", "task": "[first] one", "data": [%[1]q]}
{"name": "second", "task": "[second] two", "data": [%[1]q]}
`, csv)
	if err := os.WriteFile(file, []byte(jsonl), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, ctx, "batch", file, "--gateway-url", js.URL, "--gateway-token", js.Token, "--out", out)
	if code != 130 {
		t.Fatalf("exit %d, want 130\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left on the server, want 0", n)
	}
	if !strings.HasSuffix(stderr, "analyst: interrupted by Ctrl-C (SIGINT)\n") {
		t.Errorf("stderr:\n%s", stderr)
	}
	var sum summaryFile
	readJSON(t, filepath.Join(out, "summary.json"), &sum)
	if sum.Passed != 0 || sum.Failed != 2 || len(sum.Tasks) != 2 {
		t.Fatalf("summary.json = %+v", sum)
	}
	for i, name := range []string{"first", "second"} {
		if s := sum.Tasks[i]; s.Name != name || s.Status != "interrupted" || s.Reason != "interrupted" {
			t.Errorf("summary task %d = %+v", i, s)
		}
	}
	// The first task had started: its records are there. The second never
	// started.
	if sum.Tasks[0].Records != filepath.Join(out, "first") || sum.Tasks[1].Records != "" {
		t.Errorf("records: %q, %q", sum.Tasks[0].Records, sum.Tasks[1].Records)
	}
	if _, err := os.Stat(filepath.Join(out, "first", "events.jsonl")); err != nil {
		t.Error(err)
	}
	var ju junitFile
	b, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &ju); err != nil || ju.Tests != 2 || ju.Errors != 2 || ju.Failures != 0 {
		t.Errorf("junit.xml: %v %+v", err, ju)
	}
}

// TestBatchBadFile: a bad batch file is a usage error naming the task and
// the field, before anything starts.
func TestBatchBadFile(t *testing.T) {
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "q1.csv"), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, text, want string
	}{
		{"unknown field", "b.yaml", "- {name: a, task: x, modle: m}\n",
			`task 1 "a": unknown field "modle" (known: name, task, data, model, mode, max_turns, timeout, max_tokens, cell_timeout, expect)`},
		{"duplicate name", "b.yaml", "- {name: a, task: x}\n- {name: b, task: y}\n- {name: a, task: z}\n",
			`task 3 "a": duplicate name: task 1 has it too`},
		{"bad name", "b.yaml", "- {name: ../etc, task: x}\n",
			`task 1: name "../etc": use only letters, digits, '.', '_' and '-' (it names the task's folder)`},
		{"missing task", "b.yaml", "tasks:\n  - name: a\n    data: [q1.csv]\n",
			`task 1 "a": task is missing: say what to analyse`},
		{"missing data file", "b.yaml", "- {name: a, task: x, data: [q1.csv]}\n- {name: sales, task: y, data: [q1.csv, q3.csv]}\n",
			`task 2 "sales": data file q3.csv: no such file`},
		{"bad duration", "b.yaml", "- {name: a, task: x, timeout: 5 minutes}\n",
			`task 1 "a": timeout "5 minutes": not a duration (e.g. 90s, 5m, 1h30m)`},
		{"jsonl bad duration", "b.jsonl", `{"name": "a", "task": "x", "cell_timeout": "soon"}` + "\n",
			`task 1 "a": cell_timeout "soon": not a duration (e.g. 90s, 5m, 1h30m)`},
		{"jsonl syntax", "b.jsonl", `{"name": "a", "task": "x"}` + "\n" + `{"name": "b",` + "\n",
			`line 2: unexpected EOF`},
		{"bad regex", "b.yaml", "- {name: a, task: x, expect: [/(/]}\n",
			`task 1 "a": expect /(/: bad regular expression: missing closing )`},
		{"bad limit", "b.yaml", "- {name: a, task: x, max_turns: 0}\n",
			`task 1 "a": max_turns must be at least 1, got 0`},
		{"no tasks", "b.yaml", "tasks: []\n", `no tasks`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, tt.file)
			if err := os.WriteFile(file, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, context.Background(), "batch", file)
			want := "analyst: batch " + file + ": " + tt.want + "\n"
			if code != 2 || errs != want || out != "" {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and\n%s", code, errs, want)
			}
		})
	}
	t.Run("jobs", func(t *testing.T) {
		code, _, errs := runCLI(t, context.Background(), "batch", filepath.Join(dir, "b.yaml"), "-j", "0")
		if code != 2 || errs != "analyst: --jobs must be at least 1, got 0\n" {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})
}

// TestBatchFormatsAgree: the same tasks as YAML and as JSON Lines load the
// same.
func TestBatchFormatsAgree(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "q1.csv"), []byte("a\n1\n"), 0o644)
	y := filepath.Join(dir, "b.yaml")
	os.WriteFile(y, []byte(`- name: a
  task: first
  data: [q1.csv]
  model: m1
  mode: tool
  max_turns: 4
  timeout: 5m
  max_tokens: 1000
  cell_timeout: 30s
  expect: ["x: 1", /y+/, {regex: "z\\d"}, {text: "/w/"}]
- {name: b, task: second}
`), 0o644)
	j := filepath.Join(dir, "b.jsonl")
	os.WriteFile(j, []byte(`{"name": "a", "task": "first", "data": ["q1.csv"], "model": "m1", "mode": "tool", "max_turns": 4, "timeout": "5m", "max_tokens": 1000, "cell_timeout": "30s", "expect": ["x: 1", "/y+/", {"regex": "z\\d"}, {"text": "/w/"}]}

{"name": "b", "task": "second"}
`), 0o644)
	fromYAML, err := batch.Load(y)
	if err != nil {
		t.Fatal(err)
	}
	fromJSONL, err := batch.Load(j)
	if err != nil {
		t.Fatal(err)
	}
	show := func(ts []batch.Task) string {
		var b strings.Builder
		for _, t := range ts {
			fmt.Fprintf(&b, "%s|%s|%q|%s|%s|%d|%s|%d|%s|", t.Name, t.Task, t.Data, t.Model, t.Mode, t.MaxTurns, t.Timeout, t.MaxTokens, t.CellTimeout)
			for _, e := range t.Expect {
				fmt.Fprintf(&b, "%s (regex %t);", e, e.Re != nil)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	if show(fromYAML) != show(fromJSONL) {
		t.Errorf("YAML:  %s\nJSONL: %s", show(fromYAML), show(fromJSONL))
	}
	a := fromYAML[0]
	if a.Data[0] != filepath.Join(dir, "q1.csv") || a.MaxTurns != 4 || a.Timeout.String() != "5m0s" || len(a.Expect) != 4 {
		t.Errorf("task a = %+v", a)
	}
	var got []string
	for _, e := range a.Expect {
		got = append(got, fmt.Sprintf("%s regex=%t", e, e.Re != nil))
	}
	if want := []string{"x: 1 regex=false", "/y+/ regex=true", `/z\d/ regex=true`, "/w/ regex=false"}; !slices.Equal(got, want) {
		t.Errorf("expectations = %q, want %q", got, want)
	}
}

// TestBatchLocalGateway: with no gateway configured, one local gateway
// serves every task of the batch and is stopped at its end; a batch whose
// tasks all pass exits 0.
func TestBatchLocalGateway(t *testing.T) {
	jupytertest.Start(t) // skips (or fails under CI) when Jupyter is missing
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", "")
	llm := llmtest.NewServer(t)
	script := &byTask{t: t, scripts: map[string][]llmtest.Reply{}}
	var jsonl strings.Builder
	for _, name := range []string{"one", "two", "three"} {
		marker := "[" + name + "]"
		script.scripts[marker] = []llmtest.Reply{
			{Content: "Sub-task 1: print the task's name."},
			{Content: fence("print('hello " + name + "')")},
			{Content: "Printed it.\nTERMINATION"},
		}
		fmt.Fprintf(&jsonl, `{"name": %q, "task": "%s say hello", "expect": ["/hello %s$/"]}`+"\n", name, marker, name)
	}
	llm.Respond(script.respond)
	setLLM(t, llm)
	file := filepath.Join(t.TempDir(), "hello.jsonl")
	if err := os.WriteFile(file, []byte(jsonl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, context.Background(), "batch", file, "-j", "3", "--workdir", t.TempDir(), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	started := regexp.MustCompile(`(?m)^local Jupyter (Server|Kernel Gateway) [0-9.]+ on (127\.0\.0\.1:\d+), stopped on exit$`).FindAllStringSubmatch(stderr, -1)
	if len(started) != 1 {
		t.Fatalf("%d local gateways started, want 1:\n%s", len(started), stderr)
	}
	if _, err := http.Get("http://" + started[0][2] + "/api"); err == nil {
		t.Errorf("the local gateway on %s still answers after the batch", started[0][2])
	}
	if !strings.HasSuffix(stdout, "3 of 3 passed\n") {
		t.Errorf("stdout:\n%s", stdout)
	}
	// Each task's transcript names the one gateway's kernels, not a gateway
	// of its own.
	for _, name := range []string{"one", "two", "three"} {
		tr, err := os.ReadFile(filepath.Join(out, name, "transcript.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(tr), "local Jupyter") || !strings.Contains(string(tr), "hello "+name) {
			t.Errorf("%s/transcript.txt:\n%s", name, tr)
		}
	}
}
