package benchkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/analyst-dev/analyst/internal/testkit/jupytertest"
)

// Counts parses a comma-separated list of positive integers, such as
// "10,20,40".
func Counts(list string) ([]int, error) {
	var counts []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n %q: want positive integers", list)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// Build builds ./cmd/analyst into dir and returns the binary's path. It runs
// in the module's root, as "go run ./bench/..." does.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "analyst")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/analyst")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build analyst: %w", err)
	}
	return bin, nil
}

// LastLines returns the last n lines of s joined with " | ", for a one-line
// account of a failed run.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// Run returns the command of an "analyst run" of bin on srv, whose planner
// and writer are the models "planner" and "writer" of the scripted LLM
// server at llmURL; args follow.
func Run(ctx context.Context, bin string, srv *jupytertest.Server, llmURL string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, append([]string{"run",
		"--gateway-url", srv.URL, "--gateway-token", srv.Token,
		"--planner-model", "planner", "--writer-model", "writer"}, args...)...)
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+llmURL, "OPENAI_API_KEY=sk-bench", "NO_COLOR=1", "ANALYST_MODEL=")
	return cmd
}

// Usage is what a finished process used.
type Usage struct {
	User, Sys time.Duration // CPU time
	PeakRSS   int64         // bytes
}

// CPU returns the user and system CPU time together.
func (u Usage) CPU() time.Duration { return u.User + u.Sys }

// UsageOf returns what the process of ps used: nothing when ps is nil (the
// process did not start).
func UsageOf(ps *os.ProcessState) Usage {
	if ps == nil {
		return Usage{}
	}
	u := Usage{User: ps.UserTime(), Sys: ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.PeakRSS = ru.Maxrss << 10 // KiB on Linux
	}
	return u
}
