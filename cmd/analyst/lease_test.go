package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A kernel id is the gateway's word: one that names a file outside the
// lease folder is never written, read or removed.
func TestLeasePathRefusesEscapingIDs(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(state, "xdg"))
	victim := filepath.Join(state, "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", ".", "..", "../../../victim", `..\victim`, "a/b"} {
		if p := leasePath(id); p != "" {
			t.Errorf("leasePath(%q) = %q, want \"\"", id, p)
		}
		removeLease(id)
		if got := leaseOwner(id); got != "" {
			t.Errorf("leaseOwner(%q) = %q, want \"\"", id, got)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep\n" {
		t.Fatalf("victim = %q, %v; want it untouched", b, err)
	}

	const id = "0b3c9f6e-5a1d-4e2f-8c7b-1d2e3f4a5b6c"
	drop := writeLease(id)
	if got, want := leaseOwner(id), ownerProcess(); got != want {
		t.Fatalf("leaseOwner after writeLease = %q, want %q", got, want)
	}
	removeLease(id)
	if got := leaseOwner(id); got != "" {
		t.Fatalf("leaseOwner after removeLease = %q, want \"\"", got)
	}
	drop()
}
