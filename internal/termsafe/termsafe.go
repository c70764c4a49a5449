package termsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// String returns s with every byte and rune a terminal could act on, except
// newlines and tabs, rendered visibly: C0 controls (ESC, BEL, NUL,
// backspace, a carriage return not followed by a newline), DEL, C1 controls,
// Unicode's bidirectional controls, and bytes that are not UTF-8. The rest
// of s is kept as it is; s is returned unchanged when it holds none of them.
func String(s string) string { return render(s, false, false) }

// Line is String for text shown as one field of one line (a kernel's id or
// state in a table): newlines and tabs are rendered visibly too.
func Line(s string) string { return render(s, true, false) }

// Colored is String for a stream that shows colour: SGR sequences that only
// set colours and attributes (ESC [ digits and semicolons m, as a kernel's
// coloured traceback has them) are kept; every other escape sequence is
// rendered visibly.
func Colored(s string) string { return render(s, false, true) }

func render(s string, line, keepSGR bool) string {
	i := firstUnsafe(s, line)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		if n := sgrLen(s[i:]); keepSGR && n > 0 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeAt(s, i, r, size, line) {
			writeEscaped(&b, s[i], r, size)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// sgrLen returns the length of the SGR sequence s starts with
// (ESC [ [0-9;]* m), or 0.
func sgrLen(s string) int {
	if !strings.HasPrefix(s, "\x1b[") {
		return 0
	}
	for i := 2; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'm':
			return i + 1
		case c != ';' && (c < '0' || c > '9'):
			return 0
		}
	}
	return 0
}

// firstUnsafe returns the index of the first byte of s to render visibly, or
// -1.
func firstUnsafe(s string, line bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeAt(s, i, r, size, line) {
			return i
		}
		i += size
	}
	return -1
}

// unsafeAt reports whether the rune r, of size bytes at s[i], is to be
// rendered visibly.
func unsafeAt(s string, i int, r rune, size int, line bool) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true // not UTF-8
	case r == '\n' || r == '\t':
		return line
	case r == '\r':
		// CR LF ends a line like LF; a lone CR returns to the start of the
		// line, and what follows overwrites what the user saw.
		return line || i+1 >= len(s) || s[i+1] != '\n'
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	}
	return isBidi(r)
}

// isBidi reports whether r is one of Unicode's bidirectional formatting
// characters, which reorder how the rest of a line is shown.
func isBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// writeEscaped writes the rune r (of size bytes, whose first byte is c) as a
// Go escape: \n, \t or \r, \xNN for another single byte, \uNNNN for a
// longer rune.
func writeEscaped(b *strings.Builder, c byte, r rune, size int) {
	const hex = "0123456789abcdef"
	switch {
	case c == '\n':
		b.WriteString(`\n`)
		return
	case c == '\t':
		b.WriteString(`\t`)
		return
	case c == '\r':
		b.WriteString(`\r`)
		return
	case size == 1:
		b.WriteString(`\x`)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
		return
	}
	q := strconv.QuoteRuneToASCII(r) // '\u009b'
	b.WriteString(q[1 : len(q)-1])
}
