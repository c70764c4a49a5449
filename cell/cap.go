package cell

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Cap shortens text to about max characters, keeping its head and tail and
// saying how much was left out between them. Whole lines are kept where lines
// are short; a single line longer than the budget is cut by characters. Its
// cost grows with max, not with the text: the lines left out are counted,
// not split.
func Cap(text string, max int) string {
	if max <= 0 || len(text) <= max {
		return text
	}
	half := max / 2
	// The head: whole lines from the start, up to half.
	headEnd := 0
	for headEnd < len(text) {
		end := len(text)
		if i := strings.IndexByte(text[headEnd:], '\n'); i >= 0 {
			end = headEnd + i + 1
		}
		if end > half {
			break
		}
		headEnd = end
	}
	// The tail: whole lines from the end, up to half, after the head.
	tailStart := len(text)
	for tailStart > headEnd {
		start := strings.LastIndexByte(text[headEnd:tailStart-1], '\n') + 1 + headEnd
		if len(text)-start > half {
			break
		}
		tailStart = start
	}
	if headEnd == 0 || tailStart == len(text) {
		// A line too long for either half: cut by characters instead.
		h, t := safeHead(text, half), safeTail(text, half)
		omitted := utf8.RuneCountInString(text[len(h) : len(text)-len(t)])
		return h + fmt.Sprintf("\n… %d characters omitted …\n", omitted) + t
	}
	// Every line between ends with a newline: one line each.
	omitted := strings.Count(text[headEnd:tailStart], "\n")
	var b strings.Builder
	b.Grow(headEnd + len(text) - tailStart + 40)
	b.WriteString(text[:headEnd])
	fmt.Fprintf(&b, "… %d lines omitted …\n", omitted)
	b.WriteString(text[tailStart:])
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
