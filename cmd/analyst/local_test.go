package main

import (
	"context"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/jupyter"
)

// TestRunLocalGateway runs with no gateway configured: analyst starts a local
// one, says so in one line, and stops it on exit.
func TestRunLocalGateway(t *testing.T) {
	jupytertest.Start(t) // skips (or fails under CI) when Jupyter is missing
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	t.Setenv("JUPYTER_GATEWAY_AUTH_TOKEN", "")
	llm := scripted(t, nil,
		llmtest.Reply{Content: "Sub-task 1: print the working directory's name."},
		llmtest.Reply{Content: fence("import os\nprint(os.path.basename(os.getcwd()))")},
		llmtest.Reply{Content: "Done.\nTERMINATION"},
	)
	setLLM(t, llm)
	dir := t.TempDir()
	code, out, errs := runCLI(t, context.Background(), "run", "--task", "where am I?", "--workdir", dir, "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	m := regexp.MustCompile(`local Jupyter (Server|Kernel Gateway) [0-9.]+ on (127\.0\.0\.1:\d+), stopped on exit`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("stderr does not say what was started:\n%s", errs)
	}
	if _, err := http.Get("http://" + m[2] + "/api"); err == nil {
		t.Errorf("the local gateway on %s still answers after the run", m[2])
	}
}

// TestKernelStartsAlongsideFirstLLMCall holds the planner's first answer
// until the kernel exists: were the kernel started only after that answer,
// the kernel would never appear and the test would fail.
func TestKernelStartsAlongsideFirstLLMCall(t *testing.T) {
	js := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	kernelDuringFirstCall := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if ks, err := c.ListKernels(ctx); err == nil && len(ks) > 0 {
				return true
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return false
			}
		}
	}
	var mu sync.Mutex
	replies := []llmtest.Reply{
		{Content: "Sub-task 1: print 1."},
		{Content: fence("print(1)")},
		{Content: "Done.\nTERMINATION"},
	}
	llm := llmtest.NewServer(t)
	llm.Respond(func(llmtest.Request) llmtest.Reply {
		mu.Lock()
		defer mu.Unlock()
		if len(replies) == 3 && !kernelDuringFirstCall() {
			t.Error("no kernel was started while the planner's first answer was pending")
		}
		r := replies[0]
		replies = replies[1:]
		return r
	})
	setLLM(t, llm)
	code, out, errs := runCLI(t, context.Background(), "run", "--gateway-url", js.URL, "--gateway-token", js.Token,
		"--task", "print 1", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}
