package proc

import (
	"os"
	"os/exec"
	"testing"
)

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Error("Alive(this process) = false")
	}
	if !Alive(1) {
		t.Error("Alive(1) = false: init runs, whoever owns it")
	}
	for _, pid := range []int{0, -1} {
		if Alive(pid) {
			t.Errorf("Alive(%d) = true", pid)
		}
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid) { // reaped: the pid is free until reused
		t.Errorf("Alive(%d) = true for a process that ended", cmd.Process.Pid)
	}
}
