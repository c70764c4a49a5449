package main

import (
	"bytes"
	"context"
	"os"
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
