package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestHostileInputIsUsageError gives bad input that used to hang, grow
// without bound, fail halfway or show a secret: each is one line and exit 2
// before anything starts, and nothing is left behind.
func TestHostileInputIsUsageError(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "orders.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Should the FIFO be opened after all, a writer lets each open return
	// (and read nothing) instead of hanging the test; it is released at the
	// end.
	stop := make(chan struct{})
	go func() {
		for {
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	backslash := filepath.Join(dir, `q1\sales.csv`)
	os.WriteFile(backslash, []byte("a\n1\n"), 0o644)
	// Should a check be missing, the command fails fast instead of waiting
	// on servers that are not there.
	t.Setenv("OPENAI_API_KEY", "sk-test")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("JUPYTER_GATEWAY_URL", "")
	gw := []string{"--gateway-url", "http://127.0.0.1:1"}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"data on a FIFO", []string{"run", "-t", "x", "--data", fifo}, "analyst: --data " + fifo + ": a named pipe, not a regular file: copy its content to a file first"},
		{"data on /dev/null", []string{"run", "-t", "x", "--data", "/dev/null"}, "analyst: --data /dev/null: a device, not a regular file: copy its content to a file first"},
		{"data in /proc", []string{"run", "-t", "x", "--data", "/proc/self/status"}, "analyst: --data /proc/self/status: its size says 0 bytes but it holds "},
		{"data name with a backslash", []string{"run", "-t", "x", "--data", backslash}, `analyst: --data ` + backslash + `: the name "q1\\sales.csv" holds a backslash, which the kernel's side takes for a folder: rename the file`},
		{"replay data on a FIFO", []string{"replay", exampleSession, "--data", fifo}, "analyst: --data " + fifo + ": a named pipe, not a regular file: copy its content to a file first"},
		{"exec /dev/zero", []string{"exec", "-f", "/dev/zero"}, "analyst: -f /dev/zero holds more than 4 MiB: a cell's code is at most that"},
		{"price NaN", []string{"run", "-t", "x", "--price-in", "NaN"}, "analyst: --price-in and --price-out must be numbers of USD, 0 or more, got NaN and 0"},
		{"price Inf", []string{"run", "-t", "x", "--price-out", "+Inf"}, "analyst: --price-in and --price-out must be numbers of USD, 0 or more, got 0 and +Inf"},
		{"llm timeout", []string{"run", "-t", "x", "--llm-timeout", "-1s"}, "analyst: --llm-timeout must not be negative, got -1s"},
		{"max message", []string{"run", "-t", "x", "--max-message", "-1"}, "analyst: --max-message must not be negative, got -1"},
		{"password in a bad URL", []string{"run", "-t", "x", "--gateway-url", "http://user:SECRET@[bad?token=SECRET"}, `analyst: invalid gateway URL "http://***@[bad?..."`},
		{"port out of range", []string{"run", "-t", "x", "--gateway-url", "http://user:SECRET@host:99999"}, `analyst: invalid gateway URL "http://***@host:99999": port 99999 is not 1-65535`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir()) // where a run would leave ./runs
			args := tt.args
			if !slices.Contains(args, "--gateway-url") {
				args = append(args, gw...)
			}
			code, out, errs := runCLI(t, context.Background(), args...)
			if code != exitUsage || out != "" {
				t.Errorf("exit %d, stdout %q; want exit 2 and nothing (stderr %q)", code, out, errs)
			}
			if !strings.HasPrefix(errs, tt.want) || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "SECRET") {
				t.Errorf("stderr = %q\nwant one line starting %q", errs, tt.want)
			}
			if left, _ := os.ReadDir("."); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
