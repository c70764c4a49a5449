package localgw

import "syscall"

// sysProcAttr puts the server in a process group of its own (so Stop reaches
// its kernels) and has Linux send it SIGTERM if analyst dies without stopping
// it (kill -9).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
