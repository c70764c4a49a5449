package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/jupyter/jupytertest"
)

// TestPruneAfterKill9 kills analyst with SIGKILL mid-cell, so it cannot clean
// up, and checks that `kernels prune` deletes the kernel it left behind and
// nobody else's, and that `--all` then deletes every idle kernel.
func TestPruneAfterKill9(t *testing.T) {
	js := jupytertest.Start(t)
	ctx := context.Background()
	c, _ := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	foreign, err := c.StartKernel(ctx, jupyter.StartOptions{Name: "python3"})
	if err != nil {
		t.Fatal(err)
	}

	llm := scripted(t, nil, plan("Sub-task 1: wait."), code("import time\ntime.sleep(60)"))
	cmd := exec.Command(binary(t), "run", "--gateway-url", js.URL, "--task", "wait", "--out", t.TempDir())
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+llm.URL, "OPENAI_API_KEY=sk-test", "NO_COLOR=1", "JUPYTER_GATEWAY_AUTH_TOKEN="+js.Token)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The cell runs once it was started and the kernel is ready.
	sc := bufio.NewScanner(stdout)
	started, ready := false, false
	for (!started || !ready) && sc.Scan() {
		started = started || strings.Contains(sc.Text(), "▶ running cell 1")
		ready = ready || strings.Contains(sc.Text(), "ready in")
	}
	waitBusy(t, c)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if n := js.KernelCount(t); n != 2 {
		t.Fatalf("%d kernels after kill -9, want the foreign one and the leftover", n)
	}
	// The leftover is busy until its cell ends; interrupt it so that it is
	// idle, as it would be once its cell ended.
	for _, k := range mustList(t, c) {
		if k.ID != foreign.ID {
			c.InterruptKernel(ctx, k.ID)
			waitIdle(t, c, k.ID)
		}
	}

	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	code, out, errs := runCLI(t, ctx, append([]string{"kernels", "prune"}, gw...)...)
	if code != 0 || !strings.Contains(errs, "pruned 1 kernel(s)") || strings.Contains(out, foreign.ID) {
		t.Fatalf("prune: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	ks := mustList(t, c)
	if len(ks) != 1 || ks[0].ID != foreign.ID {
		t.Fatalf("after prune: %+v, want only the foreign kernel", ks)
	}

	code, out, _ = runCLI(t, ctx, append([]string{"kernels", "list"}, gw...)...)
	if code != 0 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, foreign.ID) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, ctx, append([]string{"kernels", "prune", "--all"}, gw...)...)
	if code != 0 || strings.TrimSpace(out) != foreign.ID || js.KernelCount(t) != 0 {
		t.Errorf("prune --all: exit %d, stdout %q, %d kernels left", code, out, js.KernelCount(t))
	}
	code, _, errs = runCLI(t, ctx, append([]string{"kernels", "rm", "0b6f6bbb-0000-4000-8000-000000000000"}, gw...)...)
	if code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("rm of an unknown kernel: exit %d, %q", code, errs)
	}
}

func mustList(t *testing.T, c *jupyter.Client) []jupyter.Kernel {
	t.Helper()
	ks, err := c.ListKernels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func waitIdle(t *testing.T, c *jupyter.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if k, err := c.GetKernel(ctx, id); err == nil && k.ExecutionState == "idle" {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("kernel %s never became idle", id)
		}
	}
}

// TestServer runs `analyst server`: it prints the export lines, the gateway
// answers with that token, and cancelling (Ctrl-C) stops it.
func TestServer(t *testing.T) {
	jupytertest.Start(t) // skip, or fail under CI, without Jupyter
	ctx, cancel := context.WithCancelCause(context.Background())
	r, w, _ := os.Pipe()
	io, _, errb := console.Test()
	io.Out = w
	done := make(chan int)
	go func() { done <- run(ctx, []string{"server", "--workdir", t.TempDir()}, io) }()
	sc := bufio.NewScanner(r)
	env := map[string]string{}
	for len(env) < 2 && sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		env[k] = v
	}
	url, token := env["JUPYTER_GATEWAY_URL"], env["JUPYTER_GATEWAY_AUTH_TOKEN"]
	req, _ := http.NewRequest(http.MethodGet, url+"/api/kernels", nil)
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the printed URL and token do not work: %v %v", err, resp)
	}
	resp.Body.Close()
	cancel(signalError{syscall.SIGINT})
	if code := <-done; code != 0 {
		t.Errorf("exit %d after Ctrl-C, want 0\n%s", code, errb)
	}
	if _, err := http.Get(url + "/api"); err == nil {
		t.Error("the gateway still answers after Ctrl-C")
	}
}

// waitBusy waits until some kernel on the server is running a cell.
func waitBusy(t *testing.T, c *jupyter.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ks, _ := c.ListKernels(ctx)
		for _, k := range ks {
			if k.ExecutionState == "busy" {
				return
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("no kernel became busy: %+v", ks)
		}
	}
}
