package localgw

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/analyst-dev/analyst/internal/proc"
)

// The runtime folder of a gateway whose analyst is gone is removed; a live
// analyst's, another system's, one whose name says no owner, and other files
// are kept.
func TestRemoveStale(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	host := proc.Host()
	deadPid := strconv.Itoa(dead.Process.Pid)
	deadDir := filepath.Join(dir, runtimePrefix+deadPid+"-"+host+"-123")
	keep := []string{
		filepath.Join(dir, runtimePrefix+strconv.Itoa(os.Getpid())+"-"+host+"-456"), // alive
		filepath.Join(dir, runtimePrefix+deadPid+"-other-host-789"),                 // another system's
		filepath.Join(dir, runtimePrefix+"789"),                                     // no owner in the name
		filepath.Join(dir, runtimePrefix+"0-"+host+"-1"),                            // no such pid
		filepath.Join(dir, "jupyter-runtime-1-"+host+"-2"),                          // not analyst's
	}
	for _, d := range append(slices.Clone(keep), deadDir) {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(deadDir, "jupyter_cookie_secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	removed := removeStale(dir)
	if !slices.Equal(removed, []string{deadDir}) {
		t.Errorf("removed %q, want %q", removed, deadDir)
	}
	if _, err := os.Stat(deadDir); !os.IsNotExist(err) {
		t.Errorf("%s: %v, want it gone", deadDir, err)
	}
	for _, d := range keep {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: %v, want it kept", d, err)
		}
	}
	for _, tt := range []struct {
		removed []string
		want    string
	}{
		{nil, ""},
		{[]string{"/tmp/a"}, "removed /tmp/a, left by a local gateway whose analyst was killed"},
		{[]string{"/tmp/a", "/tmp/b"}, "removed 2 runtime folders left by local gateways whose analyst was killed: /tmp/a, /tmp/b"},
	} {
		if got := staleNotice(tt.removed); got != tt.want {
			t.Errorf("notice for %q: %q, want %q", tt.removed, got, tt.want)
		}
	}
}

// A runtime folder's name says who owns it, whatever the host's name holds.
func TestRuntimeOwner(t *testing.T) {
	for _, tt := range []struct {
		name string
		pid  int
		host string
		ok   bool
	}{
		{runtimePrefix + "42-box-12345", 42, "box", true},
		{runtimePrefix + "42-my-box.lan-12345", 42, "my-box.lan", true},
		{runtimePrefix + "42--12345", 42, "", true},
		{runtimePrefix + "42-12345", 0, "", false},
		{runtimePrefix + "x-box-1", 0, "", false},
		{"other-42-box-1", 0, "", false},
	} {
		pid, host, ok := runtimeOwner(tt.name)
		if pid != tt.pid || host != tt.host || ok != tt.ok {
			t.Errorf("runtimeOwner(%q) = %d, %q, %v; want %d, %q, %v", tt.name, pid, host, ok, tt.pid, tt.host, tt.ok)
		}
	}
}
