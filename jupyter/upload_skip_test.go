package jupyter_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

// TestUploadSkipsIdenticalFile uploads a file twice: the second time the
// kernel's copy is the same, so it is not rewritten. After a change the
// kernel's file is different: Upload refuses to replace it, until it is
// removed on purpose.
func TestUploadSkipsIdenticalFile(t *testing.T) {
	_, s := newSession(t, jupyter.SessionOptions{})
	ctx := context.Background()
	local := filepath.Join(t.TempDir(), "same.txt")
	os.WriteFile(local, []byte("one\n"), 0o600)
	stamp := func() string {
		return strings.TrimSpace(run(t, s, "import os; print(os.stat('skip-test.txt').st_ino, os.stat('skip-test.txt').st_mtime_ns)").Text())
	}
	if err := s.Upload(ctx, local, "skip-test.txt"); err != nil {
		t.Fatal(err)
	}
	first := stamp()
	if err := s.Upload(ctx, local, "skip-test.txt"); err != nil {
		t.Fatal(err)
	}
	if again := stamp(); again != first {
		t.Errorf("an identical file was rewritten: %s, then %s", first, again)
	}
	os.WriteFile(local, []byte("two\n"), 0o600)
	var fe *jupyter.FileExistsError
	if err := s.Upload(ctx, local, "skip-test.txt"); !errors.As(err, &fe) || fe.Name != "skip-test.txt" {
		t.Fatalf("upload over a different file: %v, want a FileExistsError", err)
	}
	if got := run(t, s, "print(open('skip-test.txt').read(), end='')").Text(); got != "one\n" {
		t.Errorf("the refused upload changed the kernel's file: %q", got)
	}
	if err := s.Remove(ctx, "skip-test.txt"); err != nil {
		t.Fatal(err)
	}
	if err := s.Upload(ctx, local, "skip-test.txt"); err != nil {
		t.Fatal(err)
	}
	if got := run(t, s, "print(open('skip-test.txt').read(), end='')").Text(); got != "two\n" {
		t.Errorf("after a change the kernel's file holds %q", got)
	}
	run(t, s, "import os; os.remove('skip-test.txt')")
}
