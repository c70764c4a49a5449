package cell

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Cap shortens text to about max characters, keeping its head and tail and
// saying how much was left out between them. Whole lines are kept where lines
// are short; a single line longer than the budget is cut by characters.
func Cap(text string, max int) string {
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
		// A line too long for either half: cut by characters instead.
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

// safeHead and safeTail cut at a UTF-8 boundary.
func safeHead(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func safeTail(s string, n int) string {
	i := len(s) - n
	for i < len(s) && i > 0 && s[i]&0xC0 == 0x80 {
		i++
	}
	return s[i:]
}
