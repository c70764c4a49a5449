package jupytertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// KernelReport says what is known of a kernel that does not answer, for a
// failed test's message: the server's log lines about it (LogAbout) and
// any port clash the log reports (kernels' tracebacks do not name their
// kernel); the ports of its connection file and which process listens on
// each; and its process's state. The last two read /proc and are left out
// where there is none.
func (s *Server) KernelReport(id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the server's log of kernel %s:\n%s\n", id, s.LogAbout(id))
	if clash := s.LogAbout("Address already in use"); clash != "" {
		fmt.Fprintf(&b, "the server's log on ports in use (a kernel that lost a port at start):\n%s\n", clash)
	}
	cf := filepath.Join(s.runtimeDir, "kernel-"+id+".json")
	raw, err := os.ReadFile(cf)
	if err != nil {
		fmt.Fprintf(&b, "no connection file: %v\n", err)
		return b.String()
	}
	var ports map[string]any
	json.Unmarshal(raw, &ports)
	owners := listeners()
	for _, ch := range []string{"shell", "iopub", "stdin", "control", "hb"} {
		port, _ := ports[ch+"_port"].(float64)
		owner := "no process listens on it"
		if pid, ok := owners[int(port)]; ok {
			owner = "pid " + pid + ": " + cmdline(pid)
		}
		fmt.Fprintf(&b, "%s port %d: %s\n", ch, int(port), owner)
	}
	for _, pid := range pids() {
		if strings.Contains(cmdline(pid), cf) {
			stat, _ := os.ReadFile(filepath.Join("/proc", pid, "stat"))
			_, rest, _ := strings.Cut(string(stat), ") ") // after "pid (comm) "
			state, _, _ := strings.Cut(rest, " ")
			wchan, _ := os.ReadFile(filepath.Join("/proc", pid, "wchan"))
			fmt.Fprintf(&b, "kernel process %s: state %s, waiting in %s\n", pid, state, wchan)
		}
	}
	return b.String()
}

// listeners maps the local TCP ports that are listened on to the pid of a
// process holding the socket.
func listeners() map[int]string {
	inodes := map[string]int{} // socket inode → port
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(fs[1], ":")
			if port, err := strconv.ParseInt(hexPort, 16, 32); err == nil {
				inodes[fs[9]] = int(port)
			}
		}
		fh.Close()
	}
	owners := map[int]string{}
	for _, pid := range pids() {
		fds, _ := os.ReadDir(filepath.Join("/proc", pid, "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", pid, "fd", fd.Name()))
			if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
				if port, ok := inodes[strings.TrimSuffix(inode, "]")]; ok {
					owners[port] = pid
				}
			}
		}
	}
	return owners
}

// pids lists the processes in /proc.
func pids() []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// cmdline is a process's command line, its arguments joined by spaces.
func cmdline(pid string) string {
	b, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}
