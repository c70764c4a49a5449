package localgw

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// sysProcAttr puts the server in a process group of its own (so Stop reaches
// its kernels) and has Linux send it SIGTERM if analyst dies without stopping
// it (kill -9).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killStrays kills kernels still running from the server's runtime
// directory. Kernels run in sessions of their own, outside the server's
// process group, and name their connection file (in runtimeDir) on their
// command line.
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
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// hideProcess makes this process non-dumpable: its /proc/PID/environ and
// memory become unreadable, and ptrace refused, to other processes of the
// same user. Kernels run as that user, and analyst's environment holds the
// LLM's API key.
func hideProcess() {
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0)
}
