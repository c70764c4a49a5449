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
	return s.printed(ctx, name, envCode(name))
}

// Cwd returns the kernel's working directory, read with a silent cell.
func (s *Session) Cwd(ctx context.Context) (string, error) {
	return s.printed(ctx, "the working directory", "print(__import__('os').getcwd(), end='')")
}

// printed runs code, which prints what, with a silent cell and returns what
// it printed.
func (s *Session) printed(ctx context.Context, what, code string) (string, error) {
	res, err := s.execute(ctx, code, true)
	switch {
	case err == nil && res.Status == "aborted":
		return "", fmt.Errorf("read %s: the kernel aborted the request", what)
	case err != nil:
		return "", fmt.Errorf("read %s: %w", what, err)
	case res.Error != nil:
		return "", fmt.Errorf("read %s: %w", what, res.Error)
	case res.TimedOut:
		return "", fmt.Errorf("read %s: the kernel did not answer in time", what)
	}
	return strings.TrimSpace(res.Text()), nil
}

// Chdir makes dir, relative to the kernel's working directory or
// absolute, the kernel's working directory, creating it (mode 0700) if
// needed, and returns its absolute path. Files uploaded later go there.
func (s *Session) Chdir(ctx context.Context, dir string) (string, error) {
	res, err := s.execute(ctx, fmt.Sprintf(`def _analyst_chdir(d):
    import os
    os.makedirs(d, mode=0o700, exist_ok=True)
    os.chdir(d)
    print(os.getcwd(), end='')
try:
    _analyst_chdir(%s)
finally:
    del _analyst_chdir`, pyString(dir)), true)
	switch {
	case err != nil:
		return "", fmt.Errorf("change to %s: %w", dir, err)
	case res.Error != nil:
		return "", fmt.Errorf("change to %s: %w", dir, res.Error)
	case res.Status != "ok":
		return "", fmt.Errorf("change to %s: cell status %q", dir, res.Status)
	}
	return strings.TrimSpace(res.Text()), nil
}

// RemoveAll removes the directory at the absolute path dir and everything
// in it from the kernel's machine, and makes its parent the working
// directory if it was in it.
func (s *Session) RemoveAll(ctx context.Context, dir string) error {
	return s.uploadCell(ctx, fmt.Sprintf(`def _analyst_rm(d):
    import os, shutil
    if os.getcwd() == d or os.getcwd().startswith(d + os.sep):
        os.chdir(os.path.dirname(d))
    shutil.rmtree(d, ignore_errors=True)
try:
    _analyst_rm(%s)
finally:
    del _analyst_rm`, pyString(dir)))
}

// envCode is the cell that prints an environment variable of the kernel.
func envCode(name string) string {
	return fmt.Sprintf("print(__import__('os').environ.get(%s, ''), end='')", pyString(name))
}
