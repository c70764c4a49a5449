package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// nbconvert returns the command that runs Debian's nbconvert
// (python3-nbconvert), skipping the test without it, or failing under CI.
func nbconvert(t *testing.T) []string {
	t.Helper()
	cmd := []string{"/usr/bin/python3", "-m", "nbconvert"}
	if out, err := exec.Command(cmd[0], "-c", "import nbconvert").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("nbconvert is missing (install python3-nbconvert: scripts/setup): %v %s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return cmd
}

// notebookCell is what a code cell of a notebook showed, comparable across
// executions: text streams, plain-text results, error names and values, and
// the kinds of rich output.
type notebookCell struct {
	Source  string
	Tags    []string
	Outputs []string
}

func readNotebookCells(t *testing.T, path string) []notebookCell {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
			Metadata struct {
				Tags []string `json:"tags"`
			} `json:"metadata"`
			Outputs []struct {
				OutputType string          `json:"output_type"`
				Name       string          `json:"name"`
				Text       json.RawMessage `json:"text"`
				Data       map[string]any  `json:"data"`
				Ename      string          `json:"ename"`
				Evalue     string          `json:"evalue"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var cells []notebookCell
	for _, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		nc := notebookCell{Source: multiline(c.Source), Tags: c.Metadata.Tags}
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "stream":
				// nbformat may split a stream across outputs; join them.
				s := o.Name + ": " + multiline(o.Text)
				if n := len(nc.Outputs); n > 0 && strings.HasPrefix(nc.Outputs[n-1], o.Name+": ") {
					nc.Outputs[n-1] += multiline(o.Text)
					continue
				}
				nc.Outputs = append(nc.Outputs, s)
			case "error":
				nc.Outputs = append(nc.Outputs, "error: "+o.Ename+": "+o.Evalue)
			default:
				var kinds []string
				for mime := range o.Data {
					kinds = append(kinds, mime)
				}
				slices.Sort(kinds)
				s := o.OutputType + " " + strings.Join(kinds, ",")
				if text, ok := o.Data["text/plain"]; ok {
					s += ": " + multilineAny(text)
				}
				nc.Outputs = append(nc.Outputs, s)
			}
		}
		cells = append(cells, nc)
	}
	return cells
}

// multiline reads nbformat's multiline string: a string or a list of them.
func multiline(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []string
	json.Unmarshal(raw, &parts)
	return strings.Join(parts, "")
}

func multilineAny(v any) string {
	b, _ := json.Marshal(v)
	return multiline(b)
}

// TestNotebookRunsTopToBottom records a run whose second cell raises, then
// executes its analysis.ipynb with nbconvert --execute, as "Run All" would:
// the failed cell is tagged raises-exception, so execution goes on past it,
// and every cell shows what it showed in the run.
func TestNotebookRunsTopToBottom(t *testing.T) {
	convert := nbconvert(t)
	js := jupytertest.Start(t)
	llm := scripted(t, nil,
		plan("Sub-task 1: load superstore.csv into df and print its shape."),
		code("import pandas as pd\ndf = pd.read_csv('superstore.csv')\nprint(df.shape)"),
		plan("Sub-task 2: total Sales per region."),
		code("totals = df.groupby('region')['Sales'].sum()"), // KeyError: the column is Region
		plan("The column is Region. Sub-task 3: retry."),
		code("totals = df.groupby('Region')['Sales'].sum().round(2)\nfor region, total in totals.items():\n    print(f'{region}: {total:.2f}')\nlen(totals)"),
		done("Four regions."),
	)
	setLLM(t, llm)
	out := t.TempDir()
	code, stdout, errs := runCLI(t, context.Background(), "run", "--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "total sales per region", "--data", superstoreCSV, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, errs)
	}
	recorded := readNotebookCells(t, filepath.Join(out, record.NotebookFile))
	if len(recorded) != 3 || !slices.Equal(recorded[1].Tags, []string{"raises-exception"}) || recorded[0].Tags != nil || recorded[2].Tags != nil {
		t.Fatalf("recorded cells and tags: %+v", recorded)
	}

	// The notebook's directory holds the data, as the kernel's did.
	data, err := os.ReadFile(superstoreCSV)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "superstore.csv"), data, 0o644)
	cmd := exec.Command(convert[0], append(convert[1:], "--to", "notebook", "--execute", "--output", "executed.ipynb", record.NotebookFile)...)
	cmd.Dir = out
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nbconvert --execute stopped: %v\n%s", err, b)
	}
	executed := readNotebookCells(t, filepath.Join(out, "executed.ipynb"))
	if len(executed) != len(recorded) {
		t.Fatalf("%d cells executed, %d recorded", len(executed), len(recorded))
	}
	for i := range recorded {
		if !slices.Equal(executed[i].Outputs, recorded[i].Outputs) {
			t.Errorf("cell %d:\nrecorded %q\nexecuted %q", i+1, recorded[i].Outputs, executed[i].Outputs)
		}
	}
	if got := strings.Join(executed[2].Outputs, "\n"); !strings.Contains(got, "West: 733599.48") {
		t.Errorf("the last cell did not print the totals: %s", got)
	}
}
