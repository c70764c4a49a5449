package localgw_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/analyst-dev/analyst/internal/localgw"
)

// TestStopWithStrayHoldingOutput: a process the server started in a session
// of its own (as it starts kernels) that lives on and holds the server's
// output open, as a kernel stuck at start does, neither keeps Stop waiting
// nor outlives it.
func TestStopWithStrayHoldingOutput(t *testing.T) {
	gws := gatewaysDir(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "stray.pid")
	wrapper := filepath.Join(dir, "kg")
	// The stray names the runtime directory, as a kernel's connection file
	// does, and writes its pid where the test finds it.
	script := "#!/bin/sh\n" +
		"setsid /usr/bin/python3 -c 'import time; time.sleep(3600)' \"$JUPYTER_RUNTIME_DIR/kernel-stray.json\" &\n" +
		"echo $! > " + pidFile + "\n" +
		"exec " + filepath.Join(gws, "kg3", "run") + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := localgw.Start(context.Background(), localgw.Options{Workdir: dir, KernelGateway: wrapper})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		g.Stop()
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		g.Stop()
		t.Fatal(err)
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		g.Stop()
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	g.Stop() // before the fix: never returned
	// Stop killed the stray: its pidfd becomes readable when it has ended.
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 60_000); err != nil || n != 1 {
		t.Errorf("the stray process %d outlived Stop by a minute (poll: %d, %v)", pid, n, err)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
