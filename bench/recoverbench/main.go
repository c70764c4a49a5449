package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	n := flag.Int("n", 10, "kernel deaths per server and way on")
	servers := flag.String("servers", "server,kg3,kg2", "the servers to measure (see "+jupytertest.KindEnv+")")
	flag.Parse()
	var kinds []jupytertest.Kind
	for _, f := range strings.Split(*servers, ",") {
		kind, err := jupytertest.ParseKind(strings.TrimSpace(f))
		if err != nil {
			fmt.Fprintln(os.Stderr, "recoverbench: -servers", err)
			os.Exit(2)
		}
		kinds = append(kinds, kind)
	}
	if err := run(ctx, *n, kinds, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "recoverbench:", err)
		os.Exit(1)
	}
}

// cellTimeout bounds the cell after a death: one that gets no answer
// counts as not recovered.
const cellTimeout = 30 * time.Second

// way is how a client goes on after its kernel died.
type way struct {
	name string
	// next runs code after the death on s, or on a new Session; it returns
	// the Session to close.
	next func(ctx context.Context, c *jupyter.Client, s *jupyter.Session, code string) (*jupyter.Session, *jupyter.Result, error)
}

var ways = []way{
	{"same session", func(ctx context.Context, c *jupyter.Client, s *jupyter.Session, code string) (*jupyter.Session, *jupyter.Result, error) {
		res, err := s.Execute(ctx, code)
		return s, res, err
	}},
	{"new session", func(ctx context.Context, c *jupyter.Client, s *jupyter.Session, code string) (*jupyter.Session, *jupyter.Result, error) {
		s.Close()
		s, err := c.Connect(ctx, s.KernelID(), jupyter.SessionOptions{CellTimeout: cellTimeout})
		if err != nil {
			return nil, nil, err
		}
		res, err := s.Execute(ctx, code)
		return s, res, err
	}},
}

func run(ctx context.Context, n int, kinds []jupytertest.Kind, out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "server\tway on\trecovered\tp50\tp90\tmax\t")
	for _, kind := range kinds {
		if kind != jupytertest.JupyterServer {
			if _, err := jupytertest.GatewaysDir(); err != nil {
				fmt.Fprintf(os.Stderr, "recoverbench: %s skipped: %v\n", kind, err)
				continue
			}
		}
		for _, wy := range ways {
			times, err := measure(ctx, kind, wy, n)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", kind, wy.name, err)
			}
			fmt.Fprintf(w, "%s\t%s\t%d/%d\t%s\n", kind, wy.name, len(times), n, quantiles(times))
		}
	}
	return w.Flush()
}

// quantiles formats the p50, p90 and max of times as table cells.
func quantiles(times []time.Duration) string {
	if len(times) == 0 {
		return "-\t-\t-\t"
	}
	slices.Sort(times)
	q := func(p float64) string {
		return fmt.Sprintf("%.2f s", times[int(p*float64(len(times)-1)+0.5)].Seconds())
	}
	return q(0.5) + "\t" + q(0.9) + "\t" + q(1) + "\t"
}

// measure kills n kernels on a new server of the given kind and returns how
// long each took to run a cell again the given way, for those that did.
func measure(ctx context.Context, kind jupytertest.Kind, wy way, n int) ([]time.Duration, error) {
	dir, err := os.MkdirTemp("", "recoverbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := jupytertest.LaunchKind(dir, kind)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	c, err := jupyter.NewClient(jupyter.Config{URL: srv.URL, Token: srv.Token})
	if err != nil {
		return nil, err
	}
	var times []time.Duration
	for range n {
		d, err := recoverOnce(ctx, c, wy)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "recoverbench: %s, %s: %v\n", kind, wy.name, err)
			continue
		}
		times = append(times, d)
	}
	return times, nil
}

// recoverOnce starts a kernel, kills it with a cell and returns how long
// the next cell took to run, from the death being reported.
func recoverOnce(ctx context.Context, c *jupyter.Client, wy way) (time.Duration, error) {
	k, err := c.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		return 0, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		_ = c.DeleteKernel(dctx, k.ID)
	}()
	s, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{CellTimeout: cellTimeout})
	if err != nil {
		return 0, err
	}
	defer func() { s.Close() }()
	// A kernel in use: the server has seen its status, as it has for any
	// kernel that ran a while (notebook 6.4 then keeps the dead kernel's
	// "busy" through the restart).
	for range 100 {
		if _, err := s.Execute(ctx, "pass"); err != nil {
			return 0, err
		}
		if m, err := c.GetKernel(ctx, k.ID); err == nil && m.ExecutionState == "idle" {
			break
		}
	}
	if _, err := s.Execute(ctx, "import os; os._exit(1)"); !errors.Is(err, jupyter.ErrKernelDied) {
		return 0, fmt.Errorf("os._exit(1): %v, want ErrKernelDied", err)
	}
	start := time.Now()
	s2, res, err := wy.next(ctx, c, s, "print(6 * 7)")
	d := time.Since(start)
	if s2 != nil && s2 != s {
		defer s2.Close()
	}
	switch {
	case err != nil:
		return 0, err
	case res.TimedOut:
		return 0, fmt.Errorf("no answer within %s", cellTimeout)
	case res.Text() != "42\n":
		return 0, fmt.Errorf("printed %q, want \"42\\n\"", res.Text())
	}
	return d, nil
}
