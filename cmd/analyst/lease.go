package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// A lease says which analyst process owns a kernel: a file named after the
// kernel's id in this user's state folder, holding the owner's host:pid. A
// run writes it once its kernel is up and removes it when it deletes the
// kernel; a run killed with kill -9 leaves it, and prune then knows the
// kernel is analyst's without asking it, which a kernel busy in the dead
// run's cell could not answer.

// leaseDir is $XDG_STATE_HOME/analyst/kernels (~/.local/state/... by
// default).
func leaseDir() string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "analyst", "kernels")
}

// writeLease records this process as the owner of the kernel id; it
// returns the function that removes the lease. Failing to write it costs
// only prune's knowledge, so errors are ignored.
func writeLease(id string) func() {
	path := leasePath(id)
	if path == "" || os.MkdirAll(filepath.Dir(path), 0o700) != nil || os.WriteFile(path, []byte(ownerProcess()+"\n"), 0o600) != nil {
		return func() {}
	}
	return func() { os.Remove(path) }
}

// leasePath is the file of the kernel id's lease, "" when there is no state
// folder or the id (a gateway's word) could name a file outside it.
func leasePath(id string) string {
	dir := leaseDir()
	if dir == "" || id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return ""
	}
	return filepath.Join(dir, id)
}

// removeLease removes the kernel id's lease, if it has one.
func removeLease(id string) {
	if path := leasePath(id); path != "" {
		os.Remove(path)
	}
}

// leaseSet holds the leases of a session's kernels (a kernel that died may
// be replaced), to drop them when the session ends.
type leaseSet struct {
	mu    sync.Mutex
	drops []func()
}

// add leases the kernel id.
func (l *leaseSet) add(id string) {
	drop := writeLease(id)
	l.mu.Lock()
	l.drops = append(l.drops, drop)
	l.mu.Unlock()
}

// drop removes every lease of the set.
func (l *leaseSet) drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.drops {
		d()
	}
	l.drops = nil
}

// leaseOwner is the owner recorded for the kernel id, "" without a lease.
func leaseOwner(id string) string {
	path := leasePath(id)
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
