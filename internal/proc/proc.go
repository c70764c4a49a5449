// Package proc tells whether a process of this host still runs: what the
// lock of a run's records, the leases of kernels and the runtime folders
// of local gateways ask about the process that made them.
package proc

import (
	"errors"
	"os"
	"syscall"
)

// Alive reports whether a process with the pid runs on this host, as any
// user.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Host is this host's name, "" when unknown: what tells a process of this
// host from one of another (a container sharing a folder, a machine sharing
// a gateway), whose pid means nothing here.
func Host() string {
	h, _ := os.Hostname()
	return h
}
