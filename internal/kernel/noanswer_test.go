package kernel

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// TestKernelThatNeverAnswersIsReplaced starts a kernel that never answers,
// as one that lost a port to another process at start does (its process
// runs on, so the server never restarts it): the handle deletes it after
// the client's LaunchTimeout, says so, and works in a new kernel.
func TestKernelThatNeverAnswersIsReplaced(t *testing.T) {
	js := jupytertest.Start(t)
	js.AddPortClashSpec(t, "clash")
	// Long enough for a healthy kernel to answer on a loaded machine.
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token, LaunchTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var notices, kernels []string
	h := Start(ctx, Options{
		Client:   c,
		Start:    jupyter.StartOptions{Name: "clash"},
		OnReady:  func(m string) { notices = append(notices, m) },
		OnKernel: func(id string) { kernels = append(kernels, id) },
	})
	defer h.Close(ctx)
	res, err := h.Execute(ctx, "print(6 * 7)")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Text(); got != "42\n" {
		t.Errorf("the new kernel printed %q, want 42", got)
	}
	if len(notices) != 2 || !regexp.MustCompile(`^kernel [0-9a-f]{8} did not answer; deleted it, starting another$`).MatchString(notices[0]) ||
		!strings.HasPrefix(notices[1], "kernel "+h.ID()[:8]+" (clash) ready in ") {
		t.Errorf("notices = %q", notices)
	}
	if len(kernels) != 1 || kernels[0] != h.ID() || strings.Contains(notices[0], h.ID()[:8]) {
		t.Errorf("OnKernel got %q; the handle's kernel is %s", kernels, h.ID())
	}
	if n := js.KernelCount(t); n != 1 {
		t.Errorf("%d kernels on the server, want 1: the one that did not answer is deleted", n)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels after Close, want 0", n)
	}
}
