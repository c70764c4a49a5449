package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// hangingStarts is a gateway whose kernel starts never get an answer,
// although the kernel is started: a proxy in front of a real Kernel Gateway
// 3 that passes every request on, but keeps the answer to POST /api/kernels
// until the client goes away (Kernel Gateway 2.5.2 loses such answers now
// and then; a real server cannot be made to do it on demand). The kernel is
// real and carries the start's KERNEL_* variables.
type hangingStarts struct {
	js      *jupytertest.Server
	URL     string
	started chan string // the id of each kernel a held start launched
	// lost, when not nil, holds each start request before it is passed
	// on, until the test sends on it; posted tells of its arrival.
	lost   chan struct{}
	posted chan struct{}

	mu      sync.Mutex
	deletes []string // the ids of DELETE /api/kernels/{id}
}

func newHangingStarts(t *testing.T, kind jupytertest.Kind) *hangingStarts {
	js := jupytertest.StartKind(t, kind) // KG passes a start's KERNEL_* variables to the kernel
	g := &hangingStarts{js: js, started: make(chan string, 10), posted: make(chan struct{}, 10)}
	g.URL = js.Proxy(t, func(mux *http.ServeMux, next http.Handler) {
		mux.HandleFunc("POST /api/kernels", g.hold)
		mux.HandleFunc("DELETE /api/kernels/{id}", func(w http.ResponseWriter, r *http.Request) {
			g.mu.Lock()
			g.deletes = append(g.deletes, r.PathValue("id"))
			g.mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	return g
}

// hold passes the start on and keeps its answer.
func (g *hangingStarts) hold(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.posted <- struct{}{}
	if g.lost != nil {
		<-g.lost
	}
	req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), http.MethodPost, g.js.URL+"/api/kernels", bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	var k struct {
		ID string `json:"id"`
	}
	json.NewDecoder(resp.Body).Decode(&k)
	resp.Body.Close()
	g.started <- k.ID
	<-r.Context().Done()
}

func (g *hangingStarts) deleted() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.deletes)
}

// TestCtrlCDuringHangingStart: Ctrl-C while the kernel start gets no answer
// ends the wait at once (the launch timeout is an hour), with a line saying
// what happens, and the kernel the gateway started is found by its mark and
// deleted before analyst exits 130. The same for batch, exec and kernels
// start, and for run on Kernel Gateway 2.5, whose starts get lost.
func TestCtrlCDuringHangingStart(t *testing.T) {
	bin := binary(t)
	gateways := map[jupytertest.Kind]*hangingStarts{}
	llm := llmtest.NewServer(t)
	llm.Respond(func(req llmtest.Request) llmtest.Reply {
		if strings.Contains(req.Messages[0].Content, "task planner") {
			return llmtest.Reply{Content: "Sub-task 1: print 1."}
		}
		return llmtest.Reply{Content: fence("print(1)")}
	})
	dir := t.TempDir()
	batchFile := filepath.Join(dir, "b.yaml")
	if err := os.WriteFile(batchFile, []byte("- {name: one, task: print 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		kind jupytertest.Kind
		args []string
	}{
		{"run", jupytertest.KG3, []string{"run", "--task", "print 1", "--out", filepath.Join(dir, "run")}},
		{"batch", jupytertest.KG3, []string{"batch", batchFile, "--out", filepath.Join(dir, "batch")}},
		{"exec", jupytertest.KG3, []string{"exec", "print(1)"}},
		{"kernels start", jupytertest.KG3, []string{"kernels", "start"}},
		{"run on Kernel Gateway 2.5", jupytertest.KG2, []string{"run", "--task", "print 1", "--out", filepath.Join(dir, "run-kg2")}},
	} {
		g := gateways[tt.kind]
		if g == nil {
			g = newHangingStarts(t, tt.kind)
			gateways[tt.kind] = g
		}
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(tt.args, "--gateway-url", g.URL, "--launch-timeout", "1h")...)
			cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+llm.URL, "OPENAI_API_KEY=sk-test", "NO_COLOR=1",
				"JUPYTER_GATEWAY_AUTH_TOKEN="+g.js.Token, "XDG_STATE_HOME="+t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			cmd.Stdout = io.Discard
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			id := <-g.started
			cmd.Process.Signal(syscall.SIGINT)
			cmd.Wait()
			errs := stderr.String()
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Errorf("exit %d, want 130\nstderr:\n%s", code, errs)
			}
			if d := g.deleted(); !slices.Contains(d, id) {
				t.Errorf("DELETE requests %q, want one of the late kernel %s\nstderr:\n%s", d, id, errs)
			}
			if n := g.js.KernelCount(t); n != 0 {
				t.Errorf("%d kernels left on the gateway, want 0", n)
			}
			for _, want := range []string{
				"the kernel start was cancelled before the gateway answered; waiting up to 10s",
				"deleted kernel " + id[:8] + ", which the gateway started after the start was cancelled",
			} {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
		})
	}
}

// TestCtrlCDuringLostStart: when the gateway has started no kernel for the
// start that Ctrl-C cancelled, analyst gives up after the time it stated and
// says what removes the kernel should it come later; and kernels prune does
// remove a kernel the gateway starts after analyst exited.
func TestCtrlCDuringLostStart(t *testing.T) {
	bin := binary(t)
	g := newHangingStarts(t, jupytertest.KG3)
	g.lost = make(chan struct{})
	llm := llmtest.NewServer(t)
	llm.Respond(func(req llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Content: "Sub-task 1: print 1."}
	})
	state := t.TempDir()
	env := append(os.Environ(), "OPENAI_BASE_URL="+llm.URL, "OPENAI_API_KEY=sk-test", "NO_COLOR=1",
		"JUPYTER_GATEWAY_AUTH_TOKEN="+g.js.Token, "XDG_STATE_HOME="+state)
	cmd := exec.Command(bin, "run", "--task", "print 1", "--out", t.TempDir(), "--gateway-url", g.URL, "--launch-timeout", "1h")
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	<-g.posted
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	errs := stderr.String()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, want 130\nstderr:\n%s", code, errs)
	}
	want := "analyst: kernel start abandoned: no kernel of it within 10s; if the gateway starts it later, `analyst kernels prune` removes it\n"
	if !strings.Contains(errs, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errs)
	}
	if d := g.deleted(); len(d) != 0 {
		t.Errorf("DELETE requests %q, want none", d)
	}

	// The gateway starts the kernel after all: prune finds it by its mark.
	close(g.lost)
	id := <-g.started
	prune := exec.Command(bin, "kernels", "prune", "--gateway-url", g.js.URL)
	prune.Env = env
	out, err := prune.Output()
	if err != nil || strings.TrimSpace(string(out)) != id {
		t.Errorf("kernels prune = %q, %v; want the late kernel %s", out, err, id)
	}
	if n := g.js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left on the gateway, want 0", n)
	}
}
