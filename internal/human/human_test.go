package human

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		420*time.Millisecond + 300*time.Microsecond: "420ms",
		1234 * time.Millisecond:                     "1.2s",
		3 * time.Second:                             "3s",
		192*time.Second + 400*time.Millisecond:      "3m12s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPlural(t *testing.T) {
	if got := Plural(1, "turn") + ", " + Plural(0, "cell") + ", " + Plural(3, "line"); got != "1 turn, 0 cells, 3 lines" {
		t.Errorf("Plural: %q", got)
	}
}

func TestPathProblem(t *testing.T) {
	_, err := os.Open("/nonexistent/file")
	if got := PathProblem(fmt.Errorf("read: %w", err)); got != "no such file" {
		t.Errorf("PathProblem = %q", got)
	}
	if got := PathProblem(os.ErrPermission); got != "permission denied" {
		t.Errorf("PathProblem = %q", got)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0:             "0 B",
		999:           "999 B",
		1000:          "1.0 kB",
		1500:          "1.5 kB",
		99_960:        "100 kB",
		999_600:       "1.0 MB",
		120_000_000:   "120 MB",
		2_345_000_000: "2.3 GB",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
