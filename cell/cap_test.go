package cell

import (
	"fmt"
	"strings"
	"testing"
)

func TestCap(t *testing.T) {
	var lines []string
	for i := 1; i <= 20000; i++ {
		lines = append(lines, fmt.Sprintf("line %05d", i))
	}
	text := strings.Join(lines, "\n") + "\n"
	got := Cap(text, 4000)
	if len(got) > 4000+40 {
		t.Errorf("capped to %d characters, want about 4000", len(got))
	}
	if !strings.HasPrefix(got, "line 00001\n") || !strings.HasSuffix(got, "line 20000\n") {
		t.Errorf("cap lost the head or the tail: %q … %q", got[:20], got[len(got)-20:])
	}
	// 181 lines of 11 bytes fit in each 2000-character half.
	if want := fmt.Sprintf("\n… %d lines omitted …\n", 20000-2*181); !strings.Contains(got, want) {
		t.Errorf("cap does not say %q", want)
	}

	if got := Cap("short", 4000); got != "short" {
		t.Errorf("Cap(short) = %q", got)
	}

	long := strings.Repeat("é", 5000) // one line, 10000 bytes
	got = Cap(long, 1000)
	if !strings.Contains(got, "… 4500 characters omitted …") {
		t.Errorf("one long line: %q", got[400:600])
	}
	if !strings.HasPrefix(got, strings.Repeat("é", 250)) || !strings.HasSuffix(got, strings.Repeat("é", 250)) {
		t.Errorf("one long line was not cut at rune boundaries")
	}
}
