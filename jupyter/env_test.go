package jupyter_test

import (
	"context"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

func TestSetEnvAndEnv(t *testing.T) {
	js := jupytertest.Start(t)
	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k, err := c.StartKernel(ctx, jupyter.StartOptions{Name: "python3"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.DeleteKernel(ctx, k.ID)
	s, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Env(ctx, "KERNEL_ANALYST_RUN"); err != nil || got != "" {
		t.Fatalf("Env before SetEnv = %q, %v", got, err)
	}
	if err := s.SetEnv(ctx, "KERNEL_ANALYST_RUN", "run-1 'quoted'"); err != nil {
		t.Fatal(err)
	}
	// A second client session sees the mark: it is in the kernel's process.
	s2, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, err := s2.Env(ctx, "KERNEL_ANALYST_RUN"); err != nil || got != "run-1 'quoted'" {
		t.Fatalf("Env = %q, %v", got, err)
	}
	res, err := s.Execute(ctx, "1")
	if err != nil || res.ExecutionCount != 1 {
		t.Errorf("silent cells advanced the execution count: %+v, %v", res, err)
	}
}
