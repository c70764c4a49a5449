//go:build unix && !linux

package localgw

import "syscall"

// sysProcAttr puts the server in a process group of its own, so Stop reaches
// its kernels.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killStrays does nothing off Linux: kernels exit when their server does.
func killStrays(string) {}

// hideProcess does nothing off Linux.
func hideProcess() {}
