package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// watchWriter collects what is written and calls on once the text holds
// want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	on   func()
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(w.on)
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestExecStreams interrupts a cell as soon as its first lines reach
// stdout: exec prints output as it arrives, and what was printed before the
// interrupt stays.
func TestExecStreams(t *testing.T) {
	js := jupytertest.Start(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stdout := &watchWriter{want: "two\n", on: func() { cancel(signalError{os.Interrupt}) }}
	var stderr bytes.Buffer
	code := run(ctx, []string{"exec", "--gateway-url", js.URL, "--gateway-token", js.Token, "--cell-timeout", "60s",
		"import sys, time\nprint('one', flush=True)\nprint('warn', file=sys.stderr, flush=True)\nprint('two', flush=True)\ntime.sleep(600)\nprint('never')"},
		console.Writers(stdout, &stderr))
	if code != 130 {
		t.Errorf("exit %d, want 130\nstdout:\n%s\nstderr:\n%s", code, stdout, &stderr)
	}
	if got, want := stdout.String(), "one\ntwo\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if !strings.HasPrefix(stderr.String(), "warn\n") || !strings.Contains(stderr.String(), "KeyboardInterrupt") ||
		!strings.HasSuffix(stderr.String(), "analyst: interrupted by Ctrl-C (SIGINT)\n") {
		t.Errorf("stderr = %q, want the stream, the KeyboardInterrupt and the interrupt", &stderr)
	}
	if n := js.KernelCount(t); n != 0 {
		t.Errorf("%d kernels left", n)
	}
}

// TestExecProgress: on a terminal, exec shows a status line while the cell
// runs, takes it away before each line of output and at the end; stdout
// holds the output alone. The cell goes on only once the status was drawn.
func TestExecProgress(t *testing.T) {
	js := jupytertest.Start(t)
	gate := filepath.Join(t.TempDir(), "go-on")
	stderr := &watchWriter{want: "⠋ running the cell", on: func() { os.WriteFile(gate, nil, 0o644) }}
	var stdout bytes.Buffer
	io := console.Writers(&stdout, stderr)
	io.SetErrTTY(true)
	code := fmt.Sprintf("import os, time\nprint('before', flush=True)\nfor _ in range(600):\n    if os.path.exists(%q): break\n    time.sleep(0.1)\nelse:\n    print('the status line never showed')\nprint('done')", gate)
	if got := run(context.Background(), []string{"exec", "--gateway-url", js.URL, "--gateway-token", js.Token, code}, io); got != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%q", got, &stdout, stderr)
	}
	if got, want := stdout.String(), "before\ndone\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	errs := stderr.String()
	// Every status line drawn is cleared: what is left on the screen
	// after the last carriage return is blank.
	if last := errs[strings.LastIndexByte(errs, '\r')+1:]; strings.TrimSpace(last) != "" || !strings.HasSuffix(errs, "\r") {
		t.Errorf("stderr does not end with the status line cleared: %q", errs)
	}
}
