package jupytertest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// procAttr puts the server in its own process group, and has Linux
// terminate it if the test process dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// signalGroup sends SIGTERM (or SIGKILL) to the server's process group.
func signalGroup(cmd *exec.Cmd, kill bool) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}

// killStrays kills kernels still running from the server's runtime dir.
// Kernels run in sessions of their own, outside the server's group, and
// name their connection file (in runtimeDir) on their command line.
func killStrays(runtimeDir string) {
	entries, err := os.ReadDir("/proc")
	if err != nil || runtimeDir == "" {
		return
	}
	needle := []byte(runtimeDir + string(filepath.Separator))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, needle) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
