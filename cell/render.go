package cell

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// Kind says how a part of a cell's rendering is meant to be shown.
type Kind int

// The kinds of part.
const (
	Plain Kind = iota // printed output
	Dim               // analyst's own description: an image, a note
	Fault             // an exception or a failure
)

// Part is one piece of a cell's output as text: a stream's joined chunks,
// an image's description, a rich output's text, an exception's traceback.
type Part struct {
	Kind Kind
	// Stream is "stdout" or "stderr" for a stream's text, "" otherwise.
	Stream string
	// Text is the part's text without a final newline.
	Text string
	// line is Text and the newline that followed it in the output, when
	// one did: the part's line of Text without a copy.
	line string
}

// Parts renders the cell's outputs as text, in order: consecutive chunks of
// one stream joined, ANSI codes removed and carriage-return redraws
// collapsed as a terminal shows them, images described by their figure,
// rich outputs by their text/plain form (or their MIME types), and the
// exception's traceback with its summary line.
func (c Cell) Parts() []Part { return c.parts(false) }

// parts renders the outputs; bare describes images by their type alone and
// exceptions by name and value alone, as Fingerprint compares them.
func (c Cell) parts(bare bool) []Part {
	r := c.Result
	if r == nil {
		return nil
	}
	var parts []Part
	// A stream's chunks are joined in stream; the first stays in first
	// until another comes, so that one chunk, the usual case, is not
	// copied.
	var stream strings.Builder
	first, chunks := "", 0
	streamName := ""
	flush := func() {
		text := first
		if chunks > 1 {
			text = stream.String()
		}
		if text != "" {
			clean := collapseCR(jupyter.StripANSI(text))
			p := Part{Kind: Plain, Stream: streamName, Text: strings.TrimSuffix(clean, "\n")}
			if len(p.Text) < len(clean) {
				p.line = clean
			}
			parts = append(parts, p)
		}
		stream.Reset()
		first, chunks = "", 0
		streamName = ""
	}
	for i, o := range r.Outputs {
		if o.Type == "stream" {
			if o.Name != streamName {
				flush()
				streamName = o.Name
			}
			switch chunks++; chunks {
			case 1:
				first = o.Text
			case 2:
				stream.WriteString(first)
				fallthrough
			default:
				stream.WriteString(o.Text)
			}
			continue
		}
		flush()
		switch o.Type {
		case "error":
			if r.Error == nil && o.Text != "" {
				parts = append(parts, Part{Kind: Fault, Text: strings.TrimRight(jupyter.StripANSI(o.Text), "\n")})
			}
		default:
			if f, ok := c.Figure(i); ok {
				if bare {
					parts = append(parts, Part{Kind: Dim, Text: "[" + f.MIME + "]"})
				} else {
					parts = append(parts, Part{Kind: Dim, Text: "[" + f.Describe() + "]"})
				}
				continue
			}
			if im, ok := ImageOf(o); ok { // a cell whose figures were not resolved
				f := figureOf(i, im, "")
				if bare {
					f = Figure{MIME: im.MIME}
				}
				parts = append(parts, Part{Kind: Dim, Text: "[" + f.Describe() + "]"})
				continue
			}
			if s, ok := o.Data["text/plain"]; ok {
				parts = append(parts, Part{Kind: Plain, Text: strings.TrimRight(jupyter.StripANSI(mimeText(s)), "\n")})
				continue
			}
			if len(o.Data) > 0 {
				parts = append(parts, Part{Kind: Dim, Text: "[" + strings.Join(slices.Sorted(maps.Keys(o.Data)), ", ") + "]"})
			}
		}
	}
	flush()
	if e := r.Error; e != nil {
		summary := e.Name + ": " + e.Value
		if bare {
			parts = append(parts, Part{Kind: Fault, Text: summary})
			return parts
		}
		tb := strings.TrimRight(e.PlainTraceback(), "\n")
		if last := lastLine(tb); strings.TrimSpace(last) != strings.TrimSpace(summary) {
			if tb != "" {
				tb += "\n"
			}
			tb += summary
		}
		parts = append(parts, Part{Kind: Fault, Text: tb})
	}
	return parts
}

// Text is the cell's output as plain text, each part on lines of its own,
// ending with a newline ("" when there is no output).
func (c Cell) Text() string { return joinParts(c.Parts()) }

// trimmedText is joinParts(parts) without its final newlines, without
// copying the text of a single part.
func trimmedText(parts []Part) string {
	if len(parts) == 1 {
		return strings.TrimRight(parts[0].Text, "\n")
	}
	return strings.TrimRight(joinParts(parts), "\n")
}

func joinParts(parts []Part) string {
	if len(parts) == 1 && parts[0].line != "" {
		return parts[0].line
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Fingerprint is the text replay compares: what a reader sees, without what
// legitimately changes between runs (image bytes and sizes, figure names,
// traceback paths), blank lines and trailing blanks dropped.
func (c Cell) Fingerprint() string {
	var lines []string
	for _, l := range strings.Split(joinParts(c.parts(true)), "\n") {
		if l = strings.TrimRight(l, " \t\r"); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// Line is one line of a cell as the console shows it.
type Line struct {
	Kind Kind
	Text string
}

// Lines is the cell's body for a person, line by line: why it was skipped or
// failed, its output, and how many bytes of output were dropped.
func (c Cell) Lines() []Line {
	lines, _, _ := c.HeadTail(0)
	return lines
}

// HeadTail is Lines capped to max lines (none when max is 0): when there
// are more, head is the first max/2 of them, tail the last max-max/2, and
// omitted says how many are between. The lines between are counted, not
// split, so its cost grows with max, not with the output.
func (c Cell) HeadTail(max int) (head, tail []Line, omitted int) {
	var texts []Part
	add := func(kind Kind, text string) {
		if text != "" {
			texts = append(texts, Part{Kind: kind, Text: text})
		}
	}
	add(Dim, c.Skipped)
	add(Fault, c.Failure())
	for _, p := range c.Parts() {
		add(p.Kind, p.Text)
	}
	if r := c.Result; r != nil && r.DroppedBytes > 0 {
		add(Dim, fmt.Sprintf("… %d bytes dropped", r.DroppedBytes))
	}
	total := 0
	for _, t := range texts {
		total += strings.Count(t.Text, "\n") + 1
	}
	if max <= 0 || total <= max {
		head = make([]Line, 0, total)
		for _, t := range texts {
			for l := range strings.SplitSeq(t.Text, "\n") {
				head = append(head, Line{t.Kind, l})
			}
		}
		return head, nil, 0
	}
	h, n := max/2, max-max/2
	for _, t := range texts {
		for rest := t.Text; len(head) < h; {
			l, after, found := strings.Cut(rest, "\n")
			head = append(head, Line{t.Kind, l})
			if !found {
				break
			}
			rest = after
		}
	}
	for _, t := range slices.Backward(texts) {
		for rest := t.Text; len(tail) < n; {
			i := strings.LastIndexByte(rest, '\n')
			tail = append(tail, Line{t.Kind, rest[i+1:]})
			if i < 0 {
				break
			}
			rest = rest[:i]
		}
	}
	slices.Reverse(tail)
	return head, tail, total - h - n
}

// Header is the cell's one-line summary for a person: its index, execution
// count, status and duration.
func (c Cell) Header() (index string, count int, status Status, took time.Duration) {
	if c.Result != nil {
		count, took = c.Result.ExecutionCount, c.Result.Duration
	}
	return fmt.Sprintf("cell %d", c.Index), count, c.Status(), took
}

// DefaultCap is how many characters of a cell's output the LLM sees.
const DefaultCap = 4000

// ForLLM renders the cell for the LLM: a status line, notes on anything
// unusual, then its output capped to about max characters (see Cap).
func (c Cell) ForLLM(max int) string {
	if max <= 0 {
		max = DefaultCap
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[cell %d] ", c.Index)
	switch {
	case c.Status() == Skipped:
		fmt.Fprintf(&b, "not run: %s.", c.Skipped)
		if c.Skip == NotPython {
			b.WriteString(" Use Python (the subprocess module) for anything a shell would do.")
		}
		return b.String()
	case c.Restart != nil && c.Restart.Rebuilt:
		b.WriteString(c.Restart.String() + ". The variables of those cells are back; this cell's own work is lost: run it again.")
	case c.Restart != nil:
		b.WriteString(c.Restart.String() + ". Every variable, import and loaded file of earlier cells is gone: load and recompute what the next steps need.")
	case c.Err != nil:
		fmt.Fprintf(&b, "failed: %v", c.Err)
	}
	res := c.Result
	if res == nil {
		return b.String()
	}
	if c.Err == nil && c.Restart == nil {
		fmt.Fprintf(&b, "%s", c.Status())
		if res.ExecutionCount > 0 {
			fmt.Fprintf(&b, ", execution count %d", res.ExecutionCount)
		}
		fmt.Fprintf(&b, ", %s", res.Duration.Round(time.Millisecond))
	}
	switch {
	case res.TimedOut:
		fmt.Fprintf(&b, "\nThe cell timed out after %s and was interrupted. The kernel and its variables are kept; make the computation smaller or faster.", res.Duration.Round(time.Second))
	case res.Canceled:
		b.WriteString("\nThe cell was interrupted.")
	}
	if res.Reconnected {
		b.WriteString("\nThe connection to the kernel dropped during the cell and was restored; output printed at that moment may be missing.")
	}
	out := trimmedText(c.Parts())
	if res.Error != nil && res.Error.Name == "StdinNotImplementedError" {
		out += "\ninput() is not available here: the code must not ask for input."
	}
	if res.DroppedBytes > 0 {
		out += fmt.Sprintf("\n… %d more bytes of output were dropped …", res.DroppedBytes)
	}
	if strings.TrimSpace(out) == "" {
		if c.Status() == OK {
			b.WriteString("\n(no output: print what should be seen)")
		}
		return b.String()
	}
	b.WriteString("\n")
	b.WriteString(Cap(out, max))
	return b.String()
}

// mimeText returns a MIME bundle value as text: Jupyter sends strings, and
// notebooks may store lists of lines.
func mimeText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []string:
		return strings.Join(v, "")
	case []any:
		var b strings.Builder
		for _, s := range v {
			if s, ok := s.(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return fmt.Sprint(v)
}

// collapseCR keeps, on each line, only the text after the last carriage
// return, as a terminal shows a progress bar that redraws itself.
func collapseCR(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, "\r")
		lines[i] = l
		if j := strings.LastIndex(l, "\r"); j >= 0 {
			lines[i] = l[j+1:]
		}
	}
	return strings.Join(lines, "\n")
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
