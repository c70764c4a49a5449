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
	// An earlier test's gateway may have hidden the process already: make
	// it dumpable again, so that only this Start can hide it.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_DUMPABLE, 1): %v", errno)
	}
	if d, ok := dumpable(); !ok || !d {
		t.Fatalf("dumpable before Start = %v (known: %v), want true", d, ok)
	}
	start(t, context.Background(), Options{Workdir: t.TempDir(), ServerOnly: true}).Stop()
	if d, ok := dumpable(); !ok || d {
		t.Errorf("dumpable after Start = %v (known: %v), want false", d, ok)
	}
}

// dumpable reports whether this process is dumpable; ok is false where that
// cannot be known.
func dumpable() (d, ok bool) {
	r, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_GET_DUMPABLE, 0, 0)
	return r != 0, errno == 0
}
