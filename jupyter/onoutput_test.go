package jupyter_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/analyst-dev/analyst/jupyter"
)

// TestOnOutputWhileRunning checks that OnOutput sees a cell's output while
// the cell runs: the cell waits for a file that the test creates only once
// OnOutput has reported the cell's first line.
func TestOnOutputWhileRunning(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "go-on")
	var (
		mu   sync.Mutex
		seen []jupyter.Output
	)
	first := make(chan struct{})
	var once sync.Once
	_, s := newSession(t, jupyter.SessionOptions{OnOutput: func(o jupyter.Output) {
		mu.Lock()
		seen = append(seen, o)
		mu.Unlock()
		if o.Type == "stream" && o.Text == "first\n" {
			once.Do(func() { close(first) })
		}
	}})
	// The upload's own silent request reports nothing.
	data := filepath.Join(t.TempDir(), "d.txt")
	os.WriteFile(data, []byte("x"), 0o644)
	if err := s.Upload(t.Context(), data, "d.txt"); err != nil {
		t.Fatal(err)
	}
	go func() {
		<-first
		os.WriteFile(gate, nil, 0o644)
	}()
	code := fmt.Sprintf(`import os, time
print('first', flush=True)
for _ in range(600):
    if os.path.exists(%q):
        break
    time.sleep(0.1)
else:
    print('the gate never opened')
print('second')
6 * 7
`, gate)
	res := run(t, s, code)
	mu.Lock()
	defer mu.Unlock()
	want := []jupyter.Output{
		{Type: "stream", Name: "stdout", Text: "first\n"},
		{Type: "stream", Name: "stdout", Text: "second\n"},
		{Type: "execute_result", Data: map[string]any{"text/plain": "42"}, Metadata: map[string]any{}, ExecutionCount: res.ExecutionCount},
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("OnOutput saw %+v,\nwant %+v", seen, want)
	}
	if got := res.Outputs[0].Text; got != "first\nsecond\n" {
		t.Errorf("the result's stream = %q, want both lines merged", got)
	}
}

// TestOnOutputRedacted: with Redact set, what OnOutput sees is redacted
// too, also a secret the kernel sent in two chunks; stream text comes a
// line at a time, and the end of the last line when the cell ends.
func TestOnOutputRedacted(t *testing.T) {
	const secret = "sk-SECRET-0123456789"
	var seen []jupyter.Output
	_, s := newSession(t, jupyter.SessionOptions{
		Redact:   func(s string) string { return strings.ReplaceAll(s, secret, "[redacted]") },
		OnOutput: func(o jupyter.Output) { seen = append(seen, o) },
	})
	res := run(t, s, fmt.Sprintf("print(%q, end='', flush=True)\nprint(%q, flush=True)\nprint('no newline', end='')\n{'key': %q}", secret[:9], secret[9:]+" used", secret))
	want := []jupyter.Output{
		{Type: "stream", Name: "stdout", Text: "[redacted] used\n"},
		{Type: "stream", Name: "stdout", Text: "no newline"},
		{Type: "execute_result", Data: map[string]any{"text/plain": "{'key': '[redacted]'}"}, Metadata: map[string]any{}, ExecutionCount: res.ExecutionCount},
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("OnOutput saw %+v,\nwant %+v", seen, want)
	}
	if got := res.Text(); strings.Contains(got, secret) {
		t.Errorf("the result holds the secret: %q", got)
	}
}
