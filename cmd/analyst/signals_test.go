package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
	"github.com/analyst-dev/analyst/jupyter"
)

// buildBinary builds analyst once per test binary.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "analyst-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "analyst")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func binary(t *testing.T) string {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// signalTrials sends SIGINT or SIGTERM to analyst at random moments — while
// the LLM answers, while a cell runs, while data uploads — n times (the last
// two with a second signal right after the first) and checks every time that
// the kernel is deleted, the records are valid and the exit code is 130/143
// (or 0 when the run had finished first). It returns how many trials failed.
// The fault matrix runs it as row 14.
func signalTrials(t *testing.T, bin string, js *jupytertest.Server, n int) (failed int) {
	baseline := js.KernelCount(t)
	big := filepath.Join(t.TempDir(), "big.bin")
	b := make([]byte, 24<<20)
	rand.Read(b)
	if err := os.WriteFile(big, b, 0o644); err != nil {
		t.Fatal(err)
	}

	// The LLM answers the planner with a sub-task and the writer with a slow
	// cell; it tells the test when a request arrives, and a request in
	// phase "llm" hangs until the client goes away.
	arrived := make(chan struct{}, 100)
	var mu sync.Mutex
	hang := false
	llm := llmtest.NewServer(t)
	llm.Respond(func(req llmtest.Request) llmtest.Reply {
		arrived <- struct{}{}
		mu.Lock()
		h := hang
		mu.Unlock()
		if h {
			return llmtest.Reply{StallAfter: 1, Content: "Sub-task 1: wait for a long time"}
		}
		if strings.Contains(req.Messages[0].Content, "task planner") {
			return llmtest.Reply{Content: "Sub-task 1: count slowly."}
		}
		return llmtest.Reply{Content: fence("import time\nfor i in range(300):\n    time.sleep(0.1)\nprint('done')")}
	})

	phases := []string{"llm", "cell", "upload"}
	for trial := range n {
		phase := phases[trial%3]
		double := trial >= n-2 // a second signal right after the first: exit at once, kernel still deleted
		sig := syscall.SIGINT
		if trial%2 == 1 {
			sig = syscall.SIGTERM
		}
		name := fmt.Sprintf("%02d-%s-%v", trial, phase, sig)
		if double {
			name += "-twice"
		}
		ok := t.Run(name, func(t *testing.T) {
			mu.Lock()
			hang = phase == "llm"
			mu.Unlock()
			for len(arrived) > 0 {
				<-arrived
			}
			outDir := t.TempDir()
			args := []string{"run", "--gateway-url", js.URL, "--task", "count", "--out", outDir, "--max-turns", "4"}
			if phase == "upload" {
				args = append(args, "--data", big)
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(),
				"OPENAI_BASE_URL="+llm.URL, "OPENAI_API_KEY=sk-test", "NO_COLOR=1",
				"JUPYTER_GATEWAY_AUTH_TOKEN="+js.Token)
			stdout, _ := cmd.StdoutPipe()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			lines := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				io.Copy(io.Discard, stdout)
			}()

			// Wait for the phase, then a random moment within it.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			switch phase {
			case "llm":
				select {
				case <-arrived:
				case <-ctx.Done():
					t.Fatal("the LLM was never asked")
				}
			case "cell":
				// The cell runs once it was started and the kernel is ready,
				// in either order.
				waitLines(ctx, t, lines, "▶ running cell", "ready in")
			case "upload":
				waitKernels(ctx, t, js, baseline+1)
			}
			jitter := time.Duration(mrand.IntN(300)) * time.Millisecond
			timer := time.NewTimer(jitter)
			<-timer.C
			cmd.Process.Signal(sig)
			if double {
				cmd.Process.Signal(sig)
			}

			go func() {
				for range lines {
				}
			}()
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			want := 128 + int(sig)
			if code != want && code != 0 {
				t.Errorf("exit code %d (%v), want %d\nstderr:\n%s", code, err, want, stderr.String())
			}
			// Whatever happened, the records so far are valid.
			validNotebook(t, filepath.Join(outDir, "analysis.ipynb"))
			if _, err := record.ReadEvents(filepath.Join(outDir, "events.jsonl")); err != nil {
				t.Errorf("events.jsonl: %v", err)
			}
			if n := js.KernelCount(t); n != baseline {
				t.Errorf("%d kernels on the server after the run, want %d\nstderr:\n%s", n, baseline, stderr.String())
			}
		})
		if !ok {
			failed++
		}
	}
	return failed
}

// waitLines reads lines until each of the substrings has appeared.
func waitLines(ctx context.Context, t *testing.T, lines <-chan string, subs ...string) {
	t.Helper()
	left := map[string]bool{}
	for _, s := range subs {
		left[s] = true
	}
	for len(left) > 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("analyst ended before printing %q", subs)
			}
			for s := range left {
				if strings.Contains(l, s) {
					delete(left, s)
				}
			}
		case <-ctx.Done():
			t.Fatalf("no lines %q within the time limit", subs)
		}
	}
}

// waitKernels waits until the server runs n kernels, polling its REST API.
// Jupyter Server answers 500 to a listing that races a kernel's start or
// deletion; such answers are polled past.
func waitKernels(ctx context.Context, t *testing.T, js *jupytertest.Server, n int) {
	t.Helper()
	waitKernelList(ctx, t, js, "the kernel never started", func(ks []jupyter.Kernel) bool { return len(ks) >= n })
}

// waitKernelList polls the server's kernels until done says they are as
// wanted, failing with failure when ctx ends first.
func waitKernelList(ctx context.Context, t *testing.T, js *jupytertest.Server, failure string, done func([]jupyter.Kernel) bool) {
	t.Helper()
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if ks, err := c.ListKernels(ctx); err == nil && done(ks) {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal(failure)
		}
	}
}
