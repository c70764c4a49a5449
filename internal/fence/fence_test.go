package fence

import (
	"fmt"
	"slices"
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

func TestRunnable(t *testing.T) {
	text := "```python\nprint(1)\n```\n```json\n{}\n```\n```\n  \n```\n```sh\nls\n```\n"
	var got []string
	for _, b := range Runnable(text) {
		got = append(got, b.Language+":"+b.Code)
	}
	if want := []string{"python:print(1)", "sh:ls"}; !slices.Equal(got, want) {
		t.Errorf("Runnable = %q, want %q", got, want)
	}
}
