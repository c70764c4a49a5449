package fence

import (
	"strings"
)

// Block is a fenced code block found in a message.
type Block struct {
	// Language is the fence's tag, lower-cased; "" when untagged.
	Language string
	Code     string
}

// Kind says what the executor does with a block.
type Kind int

// The kinds of block.
const (
	Other  Kind = iota // not code for the kernel (text, json, output...): ignored
	Python             // run in the kernel
	Shell              // shell code: never sent to a Python kernel
)

// Kind classifies the block by its tag. Untagged blocks count as Python.
func (b Block) Kind() Kind {
	switch b.Language {
	case "", "python", "py", "python3", "ipython", "ipython3":
		return Python
	case "sh", "bash", "shell", "zsh", "console", "shell-session", "powershell", "ps1", "cmd", "bat", "fish":
		return Shell
	}
	return Other
}

// Extract returns the fenced code blocks of text in order. Fences are three
// or more backticks or tildes; a block ends at a fence of the same character
// at least as long. An unclosed block runs to the end of the text. CRLF line
// ends are accepted.
func Extract(text string) []Block {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	var blocks []Block
	for i := 0; i < len(lines); i++ {
		indent, fence, info, ok := openFence(lines[i])
		if !ok {
			continue
		}
		var body []string
		j := i + 1
		for ; j < len(lines); j++ {
			if closesFence(lines[j], fence) {
				break
			}
			body = append(body, strings.TrimPrefix(lines[j], indent))
		}
		blocks = append(blocks, Block{Language: language(info), Code: strings.Join(body, "\n")})
		i = j
	}
	return blocks
}

// openFence reports whether line opens a fenced block, returning the
// indentation before the fence, the fence itself and its info string.
func openFence(line string) (indent, fence, info string, ok bool) {
	trimmed := strings.TrimLeft(line, " ")
	if len(line)-len(trimmed) > 3 || len(trimmed) < 3 {
		return "", "", "", false
	}
	c := trimmed[0]
	if c != '`' && c != '~' {
		return "", "", "", false
	}
	n := 0
	for n < len(trimmed) && trimmed[n] == c {
		n++
	}
	if n < 3 {
		return "", "", "", false
	}
	info = strings.TrimSpace(trimmed[n:])
	if c == '`' && strings.Contains(info, "`") {
		return "", "", "", false
	}
	return line[:len(line)-len(trimmed)], trimmed[:n], info, true
}

func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	if len(t) < len(fence) || !strings.HasPrefix(t, fence) {
		return false
	}
	return strings.Trim(t, fence[:1]) == ""
}

// language takes the first word of a fence's info string: "python title=x"
// and "{python}" both give "python".
func language(info string) string {
	info = strings.Trim(info, "{}. ")
	if i := strings.IndexAny(info, " \t,{}"); i >= 0 {
		info = info[:i]
	}
	return strings.ToLower(info)
}

// Runnable returns the blocks of text that the executor runs: those of a
// language it runs (or none given), with code that is not blank.
func Runnable(text string) []Block {
	var run []Block
	for _, b := range Extract(text) {
		if b.Kind() != Other && strings.TrimSpace(b.Code) != "" {
			run = append(run, b)
		}
	}
	return run
}

// Unwrap returns the body of a fenced block that is the whole of code,
// which models sometimes send despite being told not to; code itself
// otherwise.
func Unwrap(code string) string {
	t := strings.TrimSpace(code)
	if !strings.HasPrefix(t, "```") && !strings.HasPrefix(t, "~~~") {
		return code
	}
	blocks := Extract(t)
	if len(blocks) != 1 {
		return code
	}
	lines := strings.Split(t, "\n")
	if len(lines) < 2 || !closesFence(lines[len(lines)-1], lines[0][:3]) {
		return code
	}
	return blocks[0].Code + "\n"
}

// For returns a Markdown code fence longer than any run of backticks in
// code.
func For(code string) string {
	f := "```"
	for strings.Contains(code, f) {
		f += "`"
	}
	return f
}
