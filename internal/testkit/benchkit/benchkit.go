package benchkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
