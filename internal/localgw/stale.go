package localgw

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/analyst-dev/analyst/internal/proc"
)

// runtimePrefix begins the name of a runtime directory a Gateway makes for
// itself: runtimePrefix, the owning process's pid, "-", its host's name,
// "-", random digits. The host tells a process of this system from one of
// a container sharing the temporary directory, whose pids mean nothing
// here. The directory holds the server's cookie secret and its kernels'
// connection files; Stop removes it, but kill -9 of its analyst leaves it.
const runtimePrefix = "analyst-jupyter-runtime-"

// newRuntimeDir makes a runtime directory in the temporary directory whose
// name records this process as its owner.
func newRuntimeDir() (string, error) {
	return os.MkdirTemp("", runtimePrefix+strconv.Itoa(os.Getpid())+"-"+proc.Host()+"-")
}

// removeStale removes the runtime directories in dir that this user's
// Gateways on this host made and whose owning process is gone (killed
// before Stop ran),
// and returns their paths. A server or kernel still running from one (the
// server outlives a killed analyst where the system does not stop it) is
// killed first: its owner is gone. A directory whose owner still runs, or whose name
// does not say who owns it, or that belongs to another user, is left alone.
func removeStale(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	me := proc.Host()
	for _, e := range entries {
		pid, host, ok := runtimeOwner(e.Name())
		if !ok || host != me || !e.IsDir() || proc.Alive(pid) || !ownedByMe(filepath.Join(dir, e.Name())) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		killStrays(path)
		if os.RemoveAll(path) == nil {
			removed = append(removed, path)
		}
	}
	return removed
}

// runtimeOwner is the pid and host a runtime directory's name records.
func runtimeOwner(name string) (pid int, host string, ok bool) {
	rest, ok := strings.CutPrefix(name, runtimePrefix)
	if !ok {
		return 0, "", false
	}
	digits, rest, ok := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(digits)
	i := strings.LastIndexByte(rest, '-')
	if !ok || err != nil || pid <= 0 || i < 0 {
		return 0, "", false
	}
	return pid, rest[:i], true
}

// ownedByMe reports whether this user owns the file at path.
func ownedByMe(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// staleNotice is the line that tells the user which runtime directories
// were removed, "" when none was.
func staleNotice(removed []string) string {
	switch len(removed) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("removed %s, left by a local gateway whose analyst was killed", removed[0])
	}
	return fmt.Sprintf("removed %d runtime folders left by local gateways whose analyst was killed: %s", len(removed), strings.Join(removed, ", "))
}
