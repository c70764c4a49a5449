package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// localServer is `analyst server` running as its own process, with tmp as
// its temporary directory.
type localServer struct {
	cmd    *exec.Cmd
	stderr []string // what it said on stderr before its export lines
}

// startLocalServer starts `analyst server` and waits for its export lines.
func startLocalServer(t *testing.T, bin, tmp string) *localServer {
	t.Helper()
	cmd := exec.Command(bin, "server", "--workdir", t.TempDir())
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "NO_COLOR=1", "JUPYTER_GATEWAY_URL=", "JUPYTER_GATEWAY_AUTH_TOKEN=")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	})
	errLines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errLines <- sc.Text()
		}
		close(errLines)
	}()
	sc := bufio.NewScanner(stdout)
	for n := 0; n < 2; n++ {
		if !sc.Scan() {
			t.Fatalf("analyst server ended before its export lines: %q", drain(errLines))
		}
	}
	// The export lines come after everything it says on stderr at start;
	// "Ctrl-C stops it." is the last of that.
	s := &localServer{cmd: cmd}
	for l := range errLines {
		if l == "Ctrl-C stops it." {
			break
		}
		s.stderr = append(s.stderr, l)
	}
	return s
}

func drain(lines <-chan string) []string {
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	return out
}

// runtimeDir is the runtime folder the server's local gateway made in tmp.
func (s *localServer) runtimeDir(t *testing.T, tmp string) string {
	t.Helper()
	host, _ := os.Hostname()
	dirs, _ := filepath.Glob(filepath.Join(tmp, "analyst-jupyter-runtime-"+strconv.Itoa(s.cmd.Process.Pid)+"-"+host+"-*"))
	if len(dirs) != 1 {
		t.Fatalf("runtime folders of pid %d in %s: %q, want one", s.cmd.Process.Pid, tmp, dirs)
	}
	return dirs[0]
}

// TestKilledLocalGatewayRuntimeRemoved: kill -9 of analyst leaves its local
// gateway's runtime folder (cookie secret and all); the next local gateway's
// start removes it and says so, and leaves a running analyst's alone.
func TestKilledLocalGatewayRuntimeRemoved(t *testing.T) {
	jupytertest.Start(t) // skip, or fail under CI, without Jupyter
	bin := binary(t)
	tmp := t.TempDir()

	killed := startLocalServer(t, bin, tmp)
	stale := killed.runtimeDir(t, tmp)
	killed.cmd.Process.Kill()
	killed.cmd.Wait()
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("kill -9 left no runtime folder behind (%v): nothing to test", err)
	}

	live := startLocalServer(t, bin, tmp)
	want := "analyst: removed " + stale + ", left by a local gateway whose analyst was killed"
	if len(live.stderr) != 2 || live.stderr[1] != want {
		t.Errorf("stderr at start %q, want the gateway's line and %q", live.stderr, want)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("%s: %v, want it removed", stale, err)
	}

	// A running analyst's folder is not stale.
	liveDir := live.runtimeDir(t, tmp)
	third := startLocalServer(t, bin, tmp)
	if len(third.stderr) != 1 || !strings.HasPrefix(third.stderr[0], "local Jupyter") {
		t.Errorf("stderr at start %q, want the gateway's line alone", third.stderr)
	}
	if _, err := os.Stat(liveDir); err != nil {
		t.Errorf("the running analyst's runtime folder: %v, want it kept", err)
	}
}
