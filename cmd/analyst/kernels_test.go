package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
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

	running := filepath.Join(t.TempDir(), "running")
	llm := scripted(t, nil, plan("Sub-task 1: wait."), code(fmt.Sprintf("import time\nopen(%q, 'w').close()\ntime.sleep(3600)", running)))
	cmd := exec.Command(binary(t), "run", "--gateway-url", js.URL, "--task", "wait", "--out", t.TempDir())
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+llm.URL, "OPENAI_API_KEY=sk-test", "NO_COLOR=1", "JUPYTER_GATEWAY_AUTH_TOKEN="+js.Token)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The cell marks that it runs with a file in the kernel's directory (the
	// server's execution_state is not reliable: Jupyter Server 1.23 may
	// report "starting" throughout).
	go io.Copy(io.Discard, stdout)
	waitFile(t, running)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if n := js.KernelCount(t); n != 2 {
		t.Fatalf("%d kernels after kill -9, want the foreign one and the leftover", n)
	}
	// The leftover is busy in its hour-long cell: prune finds it anyway
	// (nobody is connected), interrupts it and deletes it. A live run's
	// kernel (a session is connected to it, its process lives) and a kernel
	// started on purpose with kernels start stay.
	gw := []string{"--gateway-url", js.URL, "--gateway-token", js.Token}
	g := &gatewayFlags{kernel: "python3"}
	live, err := c.StartKernel(ctx, g.startOptions("run-live"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := c.Connect(ctx, live.ID, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	for k, v := range g.startOptions("run-live").Env {
		ls.SetEnv(ctx, k, v) // Jupyter Server ignores the start's env: mark from inside, as a run does
	}
	code, kept, _ := runCLI(t, ctx, append([]string{"kernels", "start"}, gw...)...)
	if code != 0 {
		t.Fatalf("kernels start: exit %d", code)
	}
	keptID := strings.TrimSpace(kept)
	ks0, _ := c.Connect(ctx, keptID, jupyter.SessionOptions{})
	for k, v := range g.startOptions(keptLabel).Env {
		ks0.SetEnv(ctx, k, v)
	}
	ks0.Close()

	// The killed run worked in a directory of its own on the gateway:
	// prune removes it with the kernel.
	runDirs, err := filepath.Glob(filepath.Join(js.Dir, runsDir, "run-*"))
	if err != nil || len(runDirs) != 1 {
		t.Fatalf("the run's data directories on the gateway: %q (%v), want one", runDirs, err)
	}
	code, out, errs := runCLI(t, ctx, append([]string{"kernels", "prune"}, gw...)...)
	if code != 0 || !strings.Contains(errs, "pruned 1 kernel(s)") || strings.Contains(out, foreign.ID) || strings.Contains(out, live.ID) || strings.Contains(out, keptID) {
		t.Fatalf("prune: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if want := fmt.Sprintf("analyst: removed %s, the data directory of kernel %s\n", runDirs[0], strings.TrimSpace(out)); !strings.Contains(errs, want) {
		t.Errorf("prune's stderr %q lacks %q", errs, want)
	}
	if _, err := os.Stat(runDirs[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s is still there after prune (%v)", runDirs[0], err)
	}
	ks := mustList(t, c)
	if len(ks) != 3 {
		t.Fatalf("after prune: %+v, want the foreign, the live and the kept kernel", ks)
	}
	ls.Close()
	c.DeleteKernel(ctx, live.ID)
	c.DeleteKernel(ctx, keptID)

	code, out, _ = runCLI(t, ctx, append([]string{"kernels", "list"}, gw...)...)
	if code != 0 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, foreign.ID) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, errs = runCLI(t, ctx, append([]string{"kernels", "prune", "--all", "--dry-run"}, gw...)...)
	if code != 0 || strings.TrimSpace(out) != foreign.ID || errs != "would prune 1 kernel(s)\n" || js.KernelCount(t) != 1 {
		t.Errorf("prune --all --dry-run: exit %d, stdout %q, stderr %q, %d kernels left", code, out, errs, js.KernelCount(t))
	}
	code, out, _ = runCLI(t, ctx, append([]string{"kernels", "prune", "--all", "--yes"}, gw...)...)
	if code != 0 || strings.TrimSpace(out) != foreign.ID || js.KernelCount(t) != 0 {
		t.Errorf("prune --all --yes: exit %d, stdout %q, %d kernels left", code, out, js.KernelCount(t))
	}
	code, _, errs = runCLI(t, ctx, append([]string{"kernels", "rm", "0b6f6bbb-0000-4000-8000-000000000000"}, gw...)...)
	if code != exitUsage || errs != "analyst: no kernel \"0b6f6bbb-0000-4000-8000-000000000000\" on the gateway (see: analyst kernels list)\n" {
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

// TestServer runs `analyst server`: it prints the export lines, the gateway
// answers with that token, and cancelling (Ctrl-C) stops it with exit 130.
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
	if code := <-done; code != exitInterrupted {
		t.Errorf("exit %d after Ctrl-C, want 130\n%s", code, errb)
	}
	if _, err := http.Get(url + "/api"); err == nil {
		t.Error("the gateway still answers after Ctrl-C")
	}
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a loaded 2-core machine
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s never appeared", path)
		}
	}
}
