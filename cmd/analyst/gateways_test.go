package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestBatchConcurrentStarts runs six tasks with -j 3 on a freshly started
// gateway, whose first kernel starts arrive at once (Kernel Gateway 2 drops
// some of them): every task passes and no kernel is left.
func TestBatchConcurrentStarts(t *testing.T) {
	js := jupytertest.Start(t)
	const tasks = 6
	script := &byTask{t: t, scripts: map[string][]llmtest.Reply{}}
	var yaml strings.Builder
	yaml.WriteString("tasks:\n")
	for i := range tasks {
		marker := fmt.Sprintf("[t%d]", i)
		script.scripts[marker] = []llmtest.Reply{
			{Content: fmt.Sprintf("Sub-task 1: print %d * 11.", i)},
			{Content: fence(fmt.Sprintf("print(%d * 11)", i))},
			{Content: fmt.Sprintf("The result is %d.\nTERMINATION", i*11)},
		}
		fmt.Fprintf(&yaml, "  - name: t%d\n    task: %q\n    expect: [\"%d\"]\n", i, marker+" Compute.", i*11)
	}
	llm := llmtest.NewServer(t)
	llm.Respond(script.respond)
	setLLM(t, llm)
	file := filepath.Join(t.TempDir(), "tasks.yaml")
	if err := os.WriteFile(file, []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, context.Background(), "batch", file, "-j", "3",
		"--gateway-url", js.URL, "--gateway-token", js.Token, "--out", t.TempDir())
	if code != 0 || !strings.HasSuffix(stdout, fmt.Sprintf("%d of %d passed\n", tasks, tasks)) {
		t.Errorf("exit %d, want 0 and every task passed\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s", code, stdout, stderr, js.Log())
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left on the server, want 0", n)
	}
}
