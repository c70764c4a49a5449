package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// TestBatchProgress: on a terminal, batch shows a live line per task under
// way (its turn, its agent, its cell) above which finished tasks are listed.
func TestBatchProgress(t *testing.T) {
	js := jupytertest.Start(t)
	setLLM(t, scripted(t, nil, plan("Sub-task 1: print 6*7."), code("print(6*7)"), done("The answer is 42.")))
	dir := t.TempDir()
	file := filepath.Join(dir, "b.yaml")
	os.WriteFile(file, []byte("- {name: answer, task: six times seven, expect: [\"42\"]}\n"), 0o644)
	io, stdout, stderr := console.Test()
	io.SetErrTTY(true)
	code := run(context.Background(), []string{"batch", file, "--out", filepath.Join(dir, "out"), "--gateway-url", js.URL, "--gateway-token", js.Token}, io)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%q", code, stdout, stderr)
	}
	errs := stderr.String()
	for _, want := range []string{"▸ answer  starting  0s\n", "▸ answer  turn 1: planner is thinking  ", "▸ answer  turn 3: running cell 1  ", "✓ answer  "} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%q", want, errs)
		}
	}
	if !strings.HasSuffix(stdout.String(), "1 of 1 passed\n") {
		t.Errorf("stdout = %q", stdout)
	}
}
