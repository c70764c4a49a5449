package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

var updateSession = flag.Bool("update-session", false, "re-record examples/superstore-session")

const exampleSession = "../../examples/superstore-session"

// sessionScript is the hand-written conversation of the example session.
func sessionScript() []llmtest.Reply {
	return []llmtest.Reply{
		{Content: "Sub-task 1: Load superstore.csv into a data frame `df` and print its shape, its columns, and the first rows of Order Date, Region, Category and Sales."},
		{Content: fence("import pandas as pd\n\ndf = pd.read_csv(\"superstore.csv\")\nprint(df.shape)\nprint(list(df.columns))\nprint(df[[\"Order Date\", \"Region\", \"Category\", \"Sales\"]].head())")},
		{Content: "Sub-task 2: Using `df`, compute the total Sales for each Region, sorted from largest to smallest, and print each as `Region: total` with two decimals."},
		{Content: fence("region_sales = df.groupby(\"Region\")[\"Sales\"].sum().sort_values(ascending=False)\nfor region, total in region_sales.items():\n    print(f\"{region}: {total:.2f}\")\nprint(f\"All regions: {region_sales.sum():.2f}\")")},
		{Content: "Sub-task 3: Plot `region_sales` as a bar chart titled \"Total sales by region\" and show it."},
		{Content: fence("import matplotlib.pyplot as plt\n\nax = region_sales.plot.bar(title=\"Total sales by region\", ylabel=\"Sales (USD)\", rot=0)\nplt.tight_layout()\nplt.show()")},
	}
}

// TestExampleSession re-records examples/superstore-session with
// -update-session: the hand-written messages above, the outputs of a real
// kernel, and a summary quoting them.
func TestExampleSession(t *testing.T) {
	if !*updateSession {
		t.Skip("run with -update-session to re-record the example session")
	}
	js := jupytertest.Start(t)
	llm := scripted(t, func(req llmtest.Request) llmtest.Reply {
		var printed string
		for _, m := range req.Messages {
			if m := regexp.MustCompile(`(?m)^(West|East|Central|South|All regions): [0-9.]+$`).FindAllString(m.Content, -1); len(m) > 0 {
				printed = strings.Join(m, "\n")
			}
		}
		return llmtest.Reply{Content: "Total sales by region, from the printed totals:\n\n" + printed +
			"\n\nThe bar chart (figure-1.png) shows West and East well ahead of Central and South.\n\nTERMINATION"}
	}, sessionScript()...)
	setLLM(t, llm)
	dir, err := filepath.Abs(exampleSession)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"events.jsonl", "analysis.ipynb", "report.md", "figure-1.png"} {
		os.Remove(filepath.Join(dir, f))
	}
	t.Chdir(dir)
	code, out, errs := runCLI(t, context.Background(), "run", "--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "Read superstore.csv and find the total sales for each region.",
		"--data", "../superstore.csv", "--out", ".", "--model", "hand-written")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}

// TestReplayExampleSession replays the shipped session against a live kernel:
// every cell runs and matches the recording. Without --out, the temporary
// folder of its figures is gone afterwards.
func TestReplayExampleSession(t *testing.T) {
	js := jupytertest.Start(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, out, errs := runCLI(t, context.Background(), "replay", exampleSession, "--data", superstoreCSV,
		"--gateway-url", js.URL, "--gateway-token", js.Token)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "analyst-replay-*")); len(left) > 0 || strings.Contains(errs, "figures:") {
		t.Errorf("replay without --out left %v behind (stderr %q)", left, errs)
	}
	if !regexp.MustCompile(`replayed 3 cells in \S+: 3 matched, 0 differ`).MatchString(out) {
		t.Errorf("no replay summary:\n%s", out)
	}
	for _, want := range []string{"── planner ──", "Sub-task 2:", "West: 733599.48"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay transcript lacks %q", want)
		}
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left", n)
	}
}

// TestReplayReportsDifferences changes a recorded output and expects replay
// to name the cell and fail.
func TestReplayReportsDifferences(t *testing.T) {
	js := jupytertest.Start(t)
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(exampleSession, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(b), "West: 733599.48", "West: 733599.49", 1)
	if forged == string(b) {
		t.Fatal("the example session does not print West's total")
	}
	os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(forged), 0o644)
	code, out, errs := runCLI(t, context.Background(), "replay", dir, "--data", "../../examples/superstore.csv",
		"--gateway-url", js.URL, "--gateway-token", js.Token, "--out", t.TempDir())
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errs)
	}
	want := `analyst: cell 2 (recorded as cell 2) differs: line 1: recorded "West: 733599.49", now "West: 733599.48"`
	if strings.TrimSpace(errs[strings.LastIndex(strings.TrimSpace(errs), "\n")+1:]) != want {
		t.Errorf("stderr ends with\n%s\nwant\n%s", errs, want)
	}
}

func TestReplayBadInput(t *testing.T) {
	code, _, errs := runCLI(t, context.Background(), "replay", filepath.Join(t.TempDir(), "nope"), "--gateway-url", "http://127.0.0.1:1")
	if code != exitUsage || !strings.Contains(errs, "no such file or directory") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
