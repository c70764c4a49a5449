package jupyter_test

import (
	"context"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// TestTLS talks to a real Jupyter Server over https and wss: the certificate
// of a private CA is refused until --ca-cert's file is given.
func TestTLS(t *testing.T) {
	js := jupytertest.StartTLS(t)
	if !strings.HasPrefix(js.URL, "https://") {
		t.Fatalf("URL = %s", js.URL)
	}
	ctx := context.Background()

	plain, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Version(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA: err = %v, want a certificate error", err)
	}

	c, err := jupyter.NewClient(jupyter.Config{URL: js.URL, Token: js.Token, CACertFile: js.CACert})
	if err != nil {
		t.Fatal(err)
	}
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
	res, err := s.Execute(ctx, "print(6 * 7)")
	if err != nil || strings.TrimSpace(res.Text()) != "42" {
		t.Fatalf("execute over wss: %+v, %v", res, err)
	}
	if _, err := jupyter.NewClient(jupyter.Config{URL: js.URL, CACertFile: "/nonexistent/ca.pem"}); err == nil {
		t.Error("a missing CA file was accepted")
	}
}
