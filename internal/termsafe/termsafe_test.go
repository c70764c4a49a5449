package termsafe_test

import (
	"fmt"
	"testing"

	"github.com/analyst-dev/analyst/internal/termsafe"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "West: 733599.48\n\tEast", "West: 733599.48\n\tEast"},
		{"unicode", "┌ cell 1 · naïve 日本 😀", "┌ cell 1 · naïve 日本 😀"},
		{"OSC 52 clipboard", "a\x1b]52;c;ZWNobyBwd25lZA==\x07b", `a\x1b]52;c;ZWNobyBwd25lZA==\x07b`},
		{"OSC 0 title", "\x1b]0;pwned\x1b\\", `\x1b]0;pwned\x1b\`},
		{"clear screen", "\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"reset", "\x1bc", `\x1bc`},
		{"charset", "\x1b(0lqqk", `\x1b(0lqqk`},
		{"save cursor", "\x1b7x\x1b8", `\x1b7x\x1b8`},
		{"private CSI", "\x1b[>4;2m\x1b[<u\x1b[38:5:1m", `\x1b[>4;2m\x1b[<u\x1b[38:5:1m`},
		{"C1 CSI and OSC", "\u009b2J\u009d0;t\u009c", `\u009b2J\u009d0;t\u009c`},
		{"NUL BEL BS DEL", "a\x00b\x07c\x08d\x7f", `a\x00b\x07c\x08d\x7f`},
		{"lone CR", "done\rsecret", `done\rsecret`},
		{"CR at end", "x\r", `x\r`},
		{"CRLF kept", "a\r\nb", "a\r\nb"},
		{"bidi", "admin\u202egnp.exe", `admin\u202egnp.exe`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"backslash kept", `C:\x1b`, `C:\x1b`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := termsafe.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"busy", "busy"},
		{"a\nb\tc\r\nd", `a\nb\tc\r\nd`},
		{"\x1b]0;x\x07", `\x1b]0;x\x07`},
	}
	for _, tt := range tests {
		if got := termsafe.Line(tt.in); got != tt.want {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestColored(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"\x1b[0;31mValueError\x1b[0m: \x1b[38;5;241mx\x1b[39m", "\x1b[0;31mValueError\x1b[0m: \x1b[38;5;241mx\x1b[39m"},
		{"\x1b[2J\x1b[>4;2m\x1b[31", `\x1b[2J\x1b[>4;2m\x1b[31`},
		{"\x1b[1m\x1b]52;c;eA==\x07", "\x1b[1m" + `\x1b]52;c;eA==\x07`},
	}
	for _, tt := range tests {
		if got := termsafe.Colored(tt.in); got != tt.want {
			t.Errorf("Colored(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStringUnchangedAllocatesNothing(t *testing.T) {
	s := "plain text, 日本語, tabs\tand\nnewlines\r\n"
	if n := testing.AllocsPerRun(100, func() { _ = termsafe.String(s) }); n != 0 {
		t.Errorf("String of safe text allocated %v times, want 0", n)
	}
}

func ExampleString() {
	fmt.Println(termsafe.String("total: 42\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J"))
	// Output: total: 42\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J
}
