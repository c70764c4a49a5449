package llmtest

import (
	"fmt"
	"sync"
	"testing"
)

// Standalone is the least of a testing.TB that NewServer needs outside a
// test, for the benchmark programs: cleanups run by Close, errors are kept
// for Err. Any other method of testing.TB panics.
type Standalone struct {
	testing.TB // nil
	mu         sync.Mutex
	cleanups   []func()
	errs       []string
}

// Helper does nothing.
func (t *Standalone) Helper() {}

// Cleanup registers f to run on Close.
func (t *Standalone) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// Errorf keeps the error for Err.
func (t *Standalone) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs = append(t.errs, fmt.Sprintf(format, args...))
}

// Err returns the first error reported, if any.
func (t *Standalone) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) == 0 {
		return nil
	}
	return fmt.Errorf("the scripted LLM server: %s", t.errs[0])
}

// Close runs the cleanups, last registered first.
func (t *Standalone) Close() {
	t.mu.Lock()
	cleanups := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
}
