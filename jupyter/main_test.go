package jupyter_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// servers shares one real Jupyter Server among this package's tests.
var servers jupytertest.Pool

func TestMain(m *testing.M) {
	code := m.Run()
	servers.Close()
	os.Exit(code)
}

// newClient returns a client for the shared server.
func newClient(tb testing.TB) (*jupytertest.Server, *jupyter.Client) {
	tb.Helper()
	srv := servers.Server(tb)
	return srv, clientFor(tb, srv)
}

// clientFor returns a client for srv.
func clientFor(tb testing.TB, srv *jupytertest.Server) *jupyter.Client {
	tb.Helper()
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL, Token: srv.Token})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// newSession starts a kernel on the shared server and connects to it; both
// are gone when the test ends. A kernel that never answers (one that lost a
// port to another process at start, which parallel test runs make likely
// enough) is left for the clean-up and another started, once, as
// internal/kernel does for users.
func newSession(tb testing.TB, opts jupyter.SessionOptions) (*jupyter.Client, *jupyter.Session) {
	tb.Helper()
	srv, c := newClient(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for starts := 1; ; starts++ {
		k := startKernel(ctx, tb, c, jupyter.StartOptions{})
		s, err := c.Connect(ctx, k.ID, opts)
		if errors.Is(err, jupyter.ErrNoAnswer) && starts == 1 {
			tb.Logf("%v; starting another\n%s", err, srv.KernelReport(k.ID))
			continue
		}
		if err != nil {
			tb.Fatalf("%v\n%s", err, srv.KernelReport(k.ID))
		}
		tb.Cleanup(func() { _ = s.Close() })
		return c, s
	}
}

// startKernel starts a kernel that is deleted when the test ends.
func startKernel(ctx context.Context, tb testing.TB, c *jupyter.Client, opts jupyter.StartOptions) jupyter.Kernel {
	tb.Helper()
	k, err := c.StartKernel(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.DeleteKernel(ctx, k.ID); err != nil {
			tb.Errorf("delete kernel: %v", err)
		}
	})
	return k
}

// run executes code and fails the test on a Go error.
func run(tb testing.TB, s *jupyter.Session, code string) *jupyter.Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := s.Execute(ctx, code)
	if err != nil {
		tb.Fatalf("Execute(%q): %v", code, err)
	}
	return res
}
