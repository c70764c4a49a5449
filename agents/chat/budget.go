package chat

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/analyst-dev/analyst/internal/fence"
	"github.com/analyst-dev/analyst/internal/llm"
)

// DefaultBudget is the context budget, in estimated tokens, when none is
// given. Tokens are estimated at four characters each (llm.EstimateTokens),
// which undercounts code and numbers by up to a third: 16,000 estimated
// tokens stay within a 32k-token context window with room for the answer,
// and within the 128k of hosted models with plenty to spare. A model with
// an 8k window needs a budget of about 5,000.
const DefaultBudget = 16000

// MinBudget is the smallest budget accepted: the system prompt, the request
// and one cell must fit.
const MinBudget = 2000

// keepFull is how many of the latest steps a prompt keeps in full.
const keepFull = 3

// Step is one exchange of a conversation, the unit a prompt keeps in full or
// compacts to one line: what was asked, the code that ran and what its cells
// printed.
type Step struct {
	// Msgs are the step's messages in full.
	Msgs []llm.Message
	// Pinned steps are kept in full whatever their age: the user's requests
	// and the planner's first plan for each.
	Pinned bool
	// Asked is what the step was for: a planner's sub-task, the model's
	// words before its tool calls, a final answer.
	Asked string
	// Code is the code that ran.
	Code []string
	// Results are the cells' texts as the LLM saw them (cell.Cell.ForLLM):
	// each a "[cell N] status" line and the capped output.
	Results []string
}

// Line is the step compacted to one line: what was asked, the code's first
// statement, each cell's status and the first lines of its output that hold
// numbers (or, for a cell that failed, its last line: the exception).
func (s Step) Line() string {
	var parts []string
	if a := firstLine(s.Asked); a != "" {
		parts = append(parts, "asked: "+clip(a, 160))
	}
	for _, code := range s.Code {
		if l := firstStatement(code); l != "" {
			parts = append(parts, "ran: "+clip(l, 100))
			break
		}
	}
	for _, r := range s.Results {
		parts = append(parts, resultLine(r))
	}
	if len(parts) == 0 {
		return "(empty step)"
	}
	return strings.Join(parts, " | ")
}

// resultLine summarises cell results: each cell's status, then its key
// numbers or its error.
func resultLine(text string) string {
	var out []string
	var nums []string
	size := 0
	status, last := "", ""
	flush := func() {
		if status == "" {
			return
		}
		s := status
		switch {
		case !strings.HasSuffix(status, " ok") && last != "":
			s += " → " + clip(last, 160)
		case len(nums) > 0:
			s += " printed: " + strings.Join(nums, "; ")
		}
		out = append(out, s)
		status, last, nums, size = "", "", nil, 0
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[cell ") {
			flush()
			status, _, _ = strings.Cut(line, ",")
			continue
		}
		if line == "" || strings.HasPrefix(line, "…") {
			continue
		}
		last = line
		if size < maxNumbers && strings.IndexFunc(line, unicode.IsDigit) >= 0 {
			l := clip(strings.Join(strings.Fields(line), " "), 80)
			if !slices.Contains(nums, l) {
				nums = append(nums, l)
				size += len(l)
			}
		}
	}
	flush()
	return strings.Join(out, " | ")
}

// maxNumbers is about how many characters of number-bearing output lines a
// compacted step keeps per cell.
const maxNumbers = 160

// Fit returns the prompt: head (the system prompt), the steps and tail (the
// kernel state card), within about budget tokens. When the whole
// conversation fits it is returned as it is. Otherwise the oldest steps are
// compacted to one line each, keeping pinned steps and the last few in
// full; then, if that is not enough, the oldest compacted lines are left
// out, saying how many; then the last few but one are compacted too. Consecutive compacted
// steps make one user message. What cannot be shortened (the head, the
// pinned steps, the last step) may still exceed a budget too small for it.
func Fit(head []llm.Message, steps []Step, tail []llm.Message, budget int) []llm.Message {
	if budget <= 0 {
		budget = DefaultBudget
	}
	lines := make([]string, len(steps)) // a compacted step's line; "" when in full
	dropped := 0                        // how many of the oldest compacted lines are left out
	// Tokens adds up per message: each step's are counted once, and build
	// counts what it puts together (n), so that trying one more
	// compaction does not count the whole prompt again.
	full := make([]int, len(steps))
	for i, s := range steps {
		full[i] = Tokens(s.Msgs)
	}
	fixed, n := Tokens(head)+Tokens(tail), 0
	build := func() []llm.Message {
		msgs := append([]llm.Message(nil), head...)
		n = fixed
		var block []string
		flush := func() {
			if len(block) > 0 {
				m := llm.Message{Role: "user", Content: compactedHeading + "\n" + strings.Join(block, "\n")}
				msgs = append(msgs, m)
				n += Tokens([]llm.Message{m})
				block = nil
			}
		}
		seen := 0
		for i, s := range steps {
			switch {
			case lines[i] == "":
				flush()
				msgs = append(msgs, s.Msgs...)
				n += full[i]
				continue
			case seen == 0 && dropped > 0:
				block = append(block, fmt.Sprintf("- (%d earlier steps left out)", dropped))
			}
			if seen++; seen > dropped {
				block = append(block, lines[i])
			}
		}
		flush()
		return append(msgs, tail...)
	}
	msgs := build()
	fits := func() bool { msgs = build(); return n <= budget }
	if n <= budget {
		return msgs
	}
	compacted := 0
	// compact compacts the steps from..to-1, oldest first, until the prompt
	// fits.
	compact := func(from, to int) bool {
		for i := from; i < to; i++ {
			if steps[i].Pinned || lines[i] != "" {
				continue
			}
			lines[i] = "- " + steps[i].Line()
			compacted++
			if fits() {
				return true
			}
		}
		return false
	}
	// drop leaves out the oldest compacted lines until the prompt fits.
	drop := func() bool {
		for dropped < compacted {
			dropped++
			if fits() {
				return true
			}
		}
		return false
	}
	recent := max(len(steps)-keepFull, 0)
	if compact(0, recent) || drop() || compact(recent, len(steps)-1) {
		return msgs
	}
	drop()
	return msgs
}

// compactedHeading opens a block of compacted steps.
const compactedHeading = "[earlier steps, one line each; the kernel still holds the variables they made]"

// perMessage is the estimated overhead of a message in tokens: its role and
// the chat template's separators.
const perMessage = 4

// Tokens estimates the tokens msgs take in a prompt.
func Tokens(msgs []llm.Message) int {
	n := 0
	for _, m := range msgs {
		n += perMessage + llm.EstimateTokens(m.Content)
		for _, tc := range m.ToolCalls {
			n += llm.EstimateTokens(tc.Name + tc.Arguments)
		}
	}
	return n
}

// firstLine is the first non-blank line of s, trimmed.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// firstStatement is the first line of code that is not blank, a comment or
// an import: usually what the code is for.
func firstStatement(code string) string {
	first := ""
	for _, l := range strings.Split(code, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if first == "" {
			first = l
		}
		if !strings.HasPrefix(l, "import ") && !strings.HasPrefix(l, "from ") {
			return l
		}
	}
	return first
}

// codeOf returns the code of the fenced blocks of a message.
func codeOf(content string) []string {
	var code []string
	for _, b := range fence.Runnable(content) {
		code = append(code, b.Code)
	}
	return code
}

// clip shortens s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
