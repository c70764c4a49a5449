//go:build !linux

package jupytertest

import (
	"os"
	"os/exec"
	"syscall"
)

// procAttr returns no special attributes off Linux.
func procAttr() *syscall.SysProcAttr { return nil }

// signalGroup stops the server process itself.
func signalGroup(cmd *exec.Cmd, kill bool) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	if kill {
		_ = cmd.Process.Kill()
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
}

// killStrays does nothing off Linux; kernels exit when their server does.
func killStrays(string) {}
