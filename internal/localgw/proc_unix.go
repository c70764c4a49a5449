//go:build unix

package localgw

import (
	"io"
	"os/exec"
	"syscall"
)

// signalGroup signals the server's whole process group: the server and the
// kernels it launched.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, sig)
	}
}

func multiWriter(a, b io.Writer) io.Writer { return io.MultiWriter(a, b) }
