package main

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/analyst-dev/analyst/internal/testkit/llmtest"
)

// TestRunErrorsToStderr: a run whose gateway cannot be reached prints its
// error line on stderr, not into the transcript on stdout, and leaves no
// records folder behind.
func TestRunErrorsToStderr(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	llm := llmtest.NewServer(t)
	llm.Respond(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Content: "Sub-task 1: wait", StallAfter: 5} })
	setLLM(t, llm)
	out := filepath.Join(t.TempDir(), "runs", "r1")
	code, stdout, stderr := runCLI(t, context.Background(), "run", "-t", "anything", "--gateway-url", dead, "--out", out, "--llm-retries", "0")
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if strings.Contains(stdout, "error:") {
		t.Errorf("the error line is in the transcript on stdout:\n%s", stdout)
	}
	if !strings.HasPrefix(lastLine(stderr), "error: ") || !strings.Contains(stderr, dead) {
		t.Errorf("stderr does not end with the error naming %s:\n%s", dead, stderr)
	}
	if _, err := os.Stat(filepath.Dir(out)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a run that never started left %s behind (stat: %v)", filepath.Dir(out), err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
