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

// Env reads an environment variable of the kernel's process with a silent
// cell; "" when it is not set.
func (s *Session) Env(ctx context.Context, name string) (string, error) {
	res, err := s.execute(ctx, fmt.Sprintf("print(__import__('os').environ.get(%s, ''), end='')", pyString(name)), true)
	switch {
	case err == nil && res.Status == "aborted":
		return "", fmt.Errorf("read %s: the kernel aborted the request", name)
	case err != nil:
		return "", fmt.Errorf("read %s: %w", name, err)
	case res.Error != nil:
		return "", fmt.Errorf("read %s: %w", name, res.Error)
	case res.TimedOut:
		return "", fmt.Errorf("read %s: the kernel did not answer in time", name)
	}
	return strings.TrimSpace(res.Text()), nil
}
