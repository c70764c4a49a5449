package jupyter_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
	"github.com/analyst-dev/analyst/jupyter"
)

// The tests of this file face what differs between servers (see
// jupytertest.KindEnv; `make test-gateways` runs them on each Kernel
// Gateway): concurrent starts on a freshly started gateway, deletes under
// load, a socket dropped mid-cell.

// freshClient starts a server of the selected kind for the test alone (a
// fresh gateway is where Kernel Gateway 2 drops concurrent starts).
func freshClient(t *testing.T) (*jupytertest.Server, *jupyter.Client) {
	t.Helper()
	srv := jupytertest.Start(t)
	return srv, clientFor(t, srv)
}

// startRunDelete starts a kernel, runs print(n) in it and deletes it; it
// returns what the cell printed.
func startRunDelete(ctx context.Context, c *jupyter.Client, n int) (string, error) {
	k, err := c.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		return "", err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := c.DeleteKernel(dctx, k.ID); derr != nil && err == nil {
			err = derr
		}
	}()
	s, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err != nil {
		return "", err
	}
	defer s.Close()
	res, err := s.Execute(ctx, fmt.Sprintf("print(%d)", n))
	if err != nil {
		return "", err
	}
	return res.Text(), nil
}

// concurrentStarts is how many kernels start at once.
const concurrentStarts = 4

func TestConcurrentStartsOneProcess(t *testing.T) {
	srv, c := freshClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := make([]string, concurrentStarts)
	errs := make([]error, concurrentStarts)
	var wg sync.WaitGroup
	for i := range concurrentStarts {
		wg.Go(func() { out[i], errs[i] = startRunDelete(ctx, c, i) })
	}
	wg.Wait()
	for i := range concurrentStarts {
		if errs[i] != nil || out[i] != fmt.Sprintf("%d\n", i) {
			t.Errorf("kernel %d: printed %q, error %v", i, out[i], errs[i])
		}
	}
	if n := srv.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left behind", n)
	}
	logDrops(t, srv)
}

// logDrops says how often the server dropped a request it could not run
// (Kernel Gateway 2's "Cannot enter into task"), and shows its log when the
// test failed.
func logDrops(t *testing.T, srv *jupytertest.Server) {
	t.Helper()
	log := srv.Log()
	t.Logf("%s: %d requests dropped by the server", srv.Kind, strings.Count(log, "Cannot enter into task"))
	if t.Failed() {
		t.Logf("server log:\n%s", log)
	}
}

// helperEnv names the gateway a helper process starts its kernel on.
const helperEnv = "JUPYTER_TEST_HELPER_GATEWAY"

func TestConcurrentStartsSeveralProcesses(t *testing.T) {
	srv, _ := freshClient(t)
	type outcome struct {
		out []byte
		err error
	}
	results := make([]outcome, concurrentStarts)
	var wg sync.WaitGroup
	for i := range concurrentStarts {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStartKernel$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+srv.URL+" "+srv.Token+" "+strconv.Itoa(i))
			out, err := cmd.CombinedOutput()
			results[i] = outcome{out, err}
		})
	}
	wg.Wait()
	for i, r := range results {
		if want := fmt.Sprintf("printed %d\n", i); r.err != nil || !strings.Contains(string(r.out), want) {
			t.Errorf("process %d: %v, want output with %q:\n%s", i, r.err, want, r.out)
		}
	}
	if n := srv.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left behind", n)
	}
	logDrops(t, srv)
}

// TestHelperStartKernel is the body of one process of
// TestConcurrentStartsSeveralProcesses; it does nothing on its own.
func TestHelperStartKernel(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("a helper process of TestConcurrentStartsSeveralProcesses")
	}
	f := strings.Fields(spec)
	n, _ := strconv.Atoi(f[2])
	c, err := jupyter.NewClient(jupyter.Config{URL: f[0], Token: f[1]})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := startRunDelete(ctx, c, n)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("printed %s", out)
}

func TestDeleteUnderLoad(t *testing.T) {
	srv, c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var ids []string
	for i := range 3 {
		k, err := c.StartKernel(ctx, jupyter.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
		s, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{CellTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// Each kernel burns CPU until it is deleted; the cell marks that it
		// runs first (with a file: Jupyter Server 1.23's execution_state is
		// not reliable), so that the delete meets a busy kernel.
		mark := fmt.Sprintf("busy-%s", k.ID)
		go s.Execute(ctx, fmt.Sprintf("import itertools\nopen(%q, 'w').close()\nfor _ in itertools.count(): pass", mark))
		waitFor(t, ctx, "kernel "+strconv.Itoa(i)+" to run its cell", func() bool { return fileExists(srv.Dir + "/" + mark) })
	}
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = c.DeleteKernel(ctx, id) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("delete %s: %v", ids[i], err)
		}
	}
	ks, err := c.ListKernels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if slices.Contains(ids, k.ID) {
			t.Errorf("kernel %s still listed after its delete", k.ID)
		}
	}
	if t.Failed() {
		t.Logf("server log:\n%s", srv.Log())
	}
}

// deathRounds is how many kernels TestConnectRightAfterDeath kills: before
// Connect waited for IOPub, about one round in three failed on Kernel
// Gateway 2.
const deathRounds = 6

// TestConnectRightAfterDeath: a cell kills the kernel and a new Session
// connects at once, while the server restarts the kernel (as one `analyst
// exec --kernel-id` after another does), and its first cell runs. On Kernel
// Gateway 2 such a connection's IOPub may be subscribed only after the
// restarted kernel answered on control (see Session.answering); a cell sent
// then got its reply but never its status idle, and timed out.
func TestConnectRightAfterDeath(t *testing.T) {
	srv, c := newClient(t)
	for round := range deathRounds {
		if !connectAfterDeath(t, c, round) {
			t.Logf("server log:\n%s", srv.Log())
			return
		}
	}
}

// connectAfterDeath is one round of TestConnectRightAfterDeath: it reports
// whether it passed.
func connectAfterDeath(t *testing.T, c *jupyter.Client, round int) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k, err := c.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.DeleteKernel(context.WithoutCancel(ctx), k.ID)
	s, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Once the server has seen the kernel's status, it keeps "busy", the
	// state of the cell that kills the kernel, until the restarted kernel
	// reports: the state in which notebook 6.4 skips its own check of a new
	// connection.
	waitFor(t, ctx, "the server to see the kernel's status", func() bool {
		run(t, s, "pass")
		m, err := c.GetKernel(ctx, k.ID)
		return err == nil && m.ExecutionState == "idle"
	})
	if _, err := s.Execute(ctx, "import os; os._exit(1)"); !errors.Is(err, jupyter.ErrKernelDied) {
		t.Fatalf("round %d: os._exit(1): %v, want ErrKernelDied", round, err)
	}
	// Kernel Gateway 2 loses a request that arrives as it restarts the
	// kernel (see TestGetKernelResentWhenUnanswered).
	if _, err := c.GetKernel(ctx, k.ID); err != nil {
		t.Errorf("round %d: get the kernel right after its death: %v", round, err)
		return false
	}
	s.Close()
	s, err = c.Connect(ctx, k.ID, jupyter.SessionOptions{CellTimeout: time.Minute})
	if err != nil {
		t.Errorf("round %d: connect right after the death: %v", round, err)
		return false
	}
	defer s.Close()
	res, err := s.Execute(ctx, "print(6 * 7)")
	if err != nil {
		t.Errorf("round %d: first cell after the death: %v", round, err)
		return false
	}
	if res.Text() != "42\n" || res.TimedOut {
		t.Errorf("round %d: first cell after the death: text %q, timed out %v; want \"42\\n\"", round, res.Text(), res.TimedOut)
		return false
	}
	return true
}

// cutter is a TCP proxy to the server that can cut every connection open
// through it.
type cutter struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	conns    []net.Conn
	accepted int // connections accepted so far
}

func newCutter(t *testing.T, target string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutter{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *cutter) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.accepted++
		p.mu.Unlock()
		go func() { io.Copy(out, in); out.Close() }()
		go func() { io.Copy(in, out); in.Close() }()
	}
}

// cut closes every connection open through the proxy and returns how many
// it had accepted.
func (p *cutter) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	return p.accepted
}

// acceptedSince reports whether a connection came after the n-th.
func (p *cutter) acceptedSince(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted > n
}

func TestSocketDropMidCell(t *testing.T) {
	srv, direct := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k, err := direct.StartKernel(ctx, jupyter.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.DeleteKernel(context.WithoutCancel(ctx), k.ID)
	p := newCutter(t, strings.TrimPrefix(srv.URL, "http://"))
	c, err := jupyter.NewClient(jupyter.Config{URL: "http://" + p.ln.Addr().String(), Token: srv.Token})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run(t, s, "kept = 5")
	// The cell waits for a file that the test writes once it has cut the
	// connection and the session has connected again (a message the kernel
	// sends meanwhile may be lost with the broken connection), so that the
	// cut falls mid-cell whatever the timing.
	go func() {
		waitFor(t, ctx, "the cell to start", func() bool { return fileExists(srv.Dir + "/started") })
		n := p.cut()
		waitFor(t, ctx, "the session to connect again", func() bool {
			if !p.acceptedSince(n) {
				return false
			}
			k, err := direct.GetKernel(ctx, s.KernelID())
			return err == nil && k.Connections == 1
		})
		os.WriteFile(srv.Dir+"/go", nil, 0o600)
	}()
	res, err := s.Execute(ctx, `import os, time
open("started", "w").close()
while not os.path.exists("go"):
    time.sleep(0.02)
print("after the cut", kept)`)
	if err != nil {
		t.Fatalf("execute across the cut: %v\nserver log:\n%s", err, srv.Log())
	}
	if !res.Reconnected || !strings.Contains(res.Text(), "after the cut 5") {
		t.Errorf("Reconnected %v, text %q; want the output sent after the cut", res.Reconnected, res.Text())
	}
	if got := run(t, s, "kept * 2").Outputs[0].Data["text/plain"]; got != "10" {
		t.Errorf("kept * 2 = %v after the cut, want 10", got)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	for !cond() {
		select {
		case <-ctx.Done():
			t.Errorf("gave up waiting for %s", what)
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
