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
	dir := leaseDir()
	if dir == "" || id == "" || strings.ContainsAny(id, `/\`) {
		return func() {}
	}
	path := filepath.Join(dir, id)
	if os.MkdirAll(dir, 0o700) != nil || os.WriteFile(path, []byte(ownerProcess()+"\n"), 0o600) != nil {
		return func() {}
	}
	return func() { os.Remove(path) }
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
	dir := leaseDir()
	if dir == "" || strings.ContainsAny(id, `/\`) {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dir, id))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
