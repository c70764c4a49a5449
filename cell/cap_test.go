package cell

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
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

// splitCap is Cap as it was written first, splitting the whole text into
// lines: the reference the faster Cap must match.
func splitCap(text string, max int) string {
	if max <= 0 || len(text) <= max {
		return text
	}
	half := max / 2
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	head, used := 0, 0
	for head < len(lines) && used+len(lines[head]) <= half {
		used += len(lines[head])
		head++
	}
	tail, tused := len(lines), 0
	for tail > head && tused+len(lines[tail-1]) <= half {
		tused += len(lines[tail-1])
		tail--
	}
	if head == 0 || tail == len(lines) {
		h, t := safeHead(text, half), safeTail(text, half)
		omitted := utf8.RuneCountInString(text[len(h) : len(text)-len(t)])
		return h + fmt.Sprintf("\n… %d characters omitted …\n", omitted) + t
	}
	var b strings.Builder
	b.WriteString(strings.Join(lines[:head], ""))
	if head > 0 && !strings.HasSuffix(lines[head-1], "\n") {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "… %d lines omitted …\n", tail-head)
	b.WriteString(strings.Join(lines[tail:], ""))
	return b.String()
}

func TestCapMatchesSplitting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "é", "\n", "\n\n", "0123456789", strings.Repeat("x", 300), "☕"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(80) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text, max := b.String(), rng.IntN(400)
		if got, want := Cap(text, max), splitCap(text, max); got != want {
			t.Fatalf("Cap(%q, %d) =\n%q\nwant\n%q", text, max, got, want)
		}
	}
}

func FuzzCap(f *testing.F) {
	f.Add("line 1\nline 2\nline 3\n", 10)
	f.Fuzz(func(t *testing.T, text string, max int) {
		if got, want := Cap(text, max), splitCap(text, max); got != want {
			t.Fatalf("Cap(%q, %d) =\n%q\nwant\n%q", text, max, got, want)
		}
	})
}
