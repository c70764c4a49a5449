package localgw

import (
	"context"
	"syscall"
	"testing"
)

// TestStartHidesProcess: once a local gateway started, this process is not
// dumpable, which is what keeps other processes of the user (kernels) from
// reading its environment and memory.
func TestStartHidesProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Jupyter server")
	}
	start(t, context.Background(), Options{Workdir: t.TempDir(), ServerOnly: true}).Stop()
	if d, ok := dumpable(); ok && d {
		t.Error("the process is still dumpable")
	}
}

// dumpable reports whether this process is dumpable; ok is false where that
// cannot be known.
func dumpable() (d, ok bool) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_DUMPABLE, 0, 0)
	return r != 0, errno == 0
}
