package executor

import (
	"fmt"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Block
	}{
		{"python", "Here:\n```python\nx = 1\nprint(x)\n```\nDone.", []Block{{"python", "x = 1\nprint(x)"}}},
		{"aliases", "```py\na\n```\n```Python3\nb\n```\n```ipython\nc\n```", []Block{{"py", "a"}, {"python3", "b"}, {"ipython", "c"}}},
		{"untagged", "```\nprint(2)\n```", []Block{{"", "print(2)"}}},
		{"crlf", "text\r\n```python\r\nx = 1\r\ny = 2\r\n```\r\n", []Block{{"python", "x = 1\ny = 2"}}},
		{"shell", "```bash\npip install x\n```", []Block{{"bash", "pip install x"}}},
		{"longer fence holds backticks", "````python\ns = '```'\n````", []Block{{"python", "s = '```'"}}},
		{"tilde", "~~~python\nz = 3\n~~~", []Block{{"python", "z = 3"}}},
		{"info string", "```python title=\"a.py\"\nq = 1\n```", []Block{{"python", "q = 1"}}},
		{"indented fence", "  ```python\n  if x:\n      y()\n  ```", []Block{{"python", "if x:\n    y()"}}},
		{"unclosed", "```python\nprint(1)", []Block{{"python", "print(1)"}}},
		{"inline backticks are not fences", "use ```x``` inline", nil},
		{"none", "no code at all", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.in)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Extract(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBlockKind(t *testing.T) {
	for lang, want := range map[string]Kind{
		"": Python, "python": Python, "py": Python, "python3": Python, "ipython": Python,
		"bash": Shell, "sh": Shell, "shell": Shell, "console": Shell,
		"text": Other, "json": Other, "sql": Other,
	} {
		if got := (Block{Language: lang}).Kind(); got != want {
			t.Errorf("Kind(%q) = %d, want %d", lang, got, want)
		}
	}
}

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
