package kernel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// TestRestartReplacesGoneKernel deletes the kernel behind the handle's back,
// as a server restart or culling does: the next cell fails as a dead kernel,
// and Restart puts a new kernel, with the data files, in its place.
func TestRestartReplacesGoneKernel(t *testing.T) {
	js := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "d.txt")
	os.WriteFile(data, []byte("hello"), 0o644)
	ctx := context.Background()
	var notices []string
	h := Start(ctx, Options{Client: c, Start: jupyter.StartOptions{Name: "python3"}, Files: []string{data},
		OnReady: func(m string) { notices = append(notices, m) }})
	defer h.Close(ctx)
	if _, err := h.Execute(ctx, "x = 1"); err != nil {
		t.Fatal(err)
	}
	old := h.ID()
	if err := c.DeleteKernel(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Execute(ctx, "print(x)"); !errors.Is(err, jupyter.ErrKernelDied) {
		t.Fatalf("cell in a deleted kernel: err = %v, want ErrKernelDied", err)
	}
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if h.ID() == old {
		t.Fatal("the kernel id did not change")
	}
	res, err := h.Execute(ctx, "print('x' in dir(), open('d.txt').read())")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(res.Text()); got != "False hello" {
		t.Errorf("new kernel says %q, want variables gone and the data back", got)
	}
	if n := js.KernelCount(t); n != 1 {
		t.Errorf("%d kernels on the server, want 1", n)
	}
	if last := notices[len(notices)-1]; !strings.Contains(last, "was gone; new kernel") {
		t.Errorf("notices = %q", notices)
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels after Close, want 0", n)
	}
}
