package jupyter

import (
	"context"
	"fmt"
	"strings"
)

// SetEnv sets an environment variable in the kernel's process with a silent
// cell (no history, no execution count). Kernel Gateway and Enterprise
// Gateway pass KERNEL_* variables at start; Jupyter Server ignores them, so
// a client that marks its kernels sets the mark this way too.
func (s *Session) SetEnv(ctx context.Context, name, value string) error {
	return s.uploadCell(ctx, fmt.Sprintf("__import__('os').environ[%s] = %s", pyString(name), pyString(value)))
}

// envAttempts bounds the retries of an aborted probe: a kernel aborts the
// requests that reach it just after a cell failed (ipykernel's
// stop_on_error_timeout), such as one sent right after an interrupt.
const envAttempts = 3

// Env reads an environment variable of the kernel's process with a silent
// cell; "" when it is not set.
func (s *Session) Env(ctx context.Context, name string) (string, error) {
	code := fmt.Sprintf("print(__import__('os').environ.get(%s, ''), end='')", pyString(name))
	res, err := s.execute(ctx, code, true)
	for i := 1; i < envAttempts && err == nil && res.Status == "aborted"; i++ {
		res, err = s.execute(ctx, code, true)
	}
	switch {
	case err == nil && res.Status == "aborted":
		return "", fmt.Errorf("read %s: the kernel aborted the request %d times", name, envAttempts)
	case err != nil:
		return "", fmt.Errorf("read %s: %w", name, err)
	case res.Error != nil:
		return "", fmt.Errorf("read %s: %w", name, res.Error)
	case res.TimedOut:
		return "", fmt.Errorf("read %s: the kernel did not answer in time", name)
	}
	return strings.TrimSpace(res.Text()), nil
}
