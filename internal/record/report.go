package record

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/team"
)

// figureName matches the names the executor gives figures; only those are
// embedded in the report.
var figureName = regexp.MustCompile(`^figure-[0-9]+\.(png|jpg|svg|gif)$`)

// maxTitle is how many characters of a sub-task the steps table shows.
const maxTitle = 80

// report renders report.md from what was recorded so far: the task, then
// for each request its summary, figures and steps, then the usage and the
// run.
func (r *Recorder) report() string {
	var b strings.Builder
	b.WriteString("# Analysis report\n\n")
	if r.cur().finished == nil {
		b.WriteString("> **Incomplete run:** the recording stopped before the run finished (it crashed or was interrupted). Everything up to that moment is below.\n\n")
	}

	b.WriteString("## Task\n\n")
	b.WriteString(strings.TrimSpace(r.meta.Task))
	b.WriteString("\n\n")
	if len(r.meta.Data) > 0 {
		b.WriteString("Data:\n\n")
		for _, d := range r.meta.Data {
			fmt.Fprintf(&b, "- `%s` (%s bytes, sha256 %s)\n", d.Name, group(int(d.Size)), d.SHA256)
		}
		b.WriteString("\n")
	}
	r.requestReport(&b, r.requests[0], "##")
	for i, req := range r.requests[1:] {
		fmt.Fprintf(&b, "## Request %d\n\n%s\n\n", i+2, strings.TrimSpace(req.text))
		r.requestReport(&b, req, "###")
	}

	r.writeUsage(&b)

	b.WriteString("## Run\n\n")
	last := r.lastFinished()
	wall := r.now().Sub(r.meta.Started)
	if last != nil && len(r.requests) == 1 {
		wall = last.Duration
	}
	fmt.Fprintf(&b, "- Wall time: %s\n", human.Duration(wall))
	if last != nil && r.cur().finished != nil {
		reason := string(last.Reason)
		if last.Err != nil {
			reason += ": " + last.Err.Error()
		}
		fmt.Fprintf(&b, "- Stopped: %s after %d turns\n", reason, r.turns)
	} else {
		fmt.Fprintf(&b, "- Stopped: incomplete (no run_finished event) after %d turns\n", r.turns+r.turn)
	}
	if len(r.requests) > 1 {
		fmt.Fprintf(&b, "- Requests: %d\n", len(r.requests))
	}
	fmt.Fprintf(&b, "- Started: %s\n", r.meta.Started.Format(time.RFC3339))
	if r.meta.Version != "" {
		fmt.Fprintf(&b, "- analyst %s\n", r.meta.Version)
	}
	return b.String()
}

// requestReport writes a request's summary, figures and steps under
// headings of the given level.
func (r *Recorder) requestReport(b *strings.Builder, req *request, level string) {
	fmt.Fprintf(b, "%s Summary\n\n", level)
	if req.final {
		b.WriteString(req.summary)
	} else {
		b.WriteString("*The planner wrote no summary: the run stopped before it was done.*")
	}
	b.WriteString("\n\n")

	var figs []string
	for _, f := range req.figures {
		if figureName.MatchString(f) {
			figs = append(figs, f)
		}
	}
	if len(figs) > 0 {
		fmt.Fprintf(b, "%s Figures\n\n", level)
		for _, f := range figs {
			fmt.Fprintf(b, "![%s](%s)\n\n", f, f)
		}
	}

	if len(req.steps) > 0 {
		fmt.Fprintf(b, "%s Steps\n\n", level)
		b.WriteString("| Step | Sub-task | Cells | Status | Duration |\n")
		b.WriteString("|---:|---|---|---|---:|\n")
		end := r.now()
		for i, s := range req.steps {
			e := s.end
			if e.IsZero() {
				e = end
			}
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s |\n", i+1, title(s.title), stepCells(s), stepStatus(s), human.Duration(e.Sub(s.start)))
		}
		b.WriteString("\n")
	}
}

func (r *Recorder) writeUsage(b *strings.Builder) {
	usage := r.usage
	var agents []string
	for _, a := range r.agents {
		if _, ok := usage[a]; ok {
			agents = append(agents, a)
		}
	}
	var rest []string
	for a := range usage {
		if !slices.Contains(agents, a) {
			rest = append(rest, a)
		}
	}
	slices.Sort(rest)
	agents = append(agents, rest...)

	b.WriteString("## Usage\n\n")
	b.WriteString("| Agent | Model | Prompt tokens | Completion tokens | Total tokens |\n")
	b.WriteString("|---|---|---:|---:|---:|\n")
	var total team.Usage
	for _, a := range agents {
		u := usage[a]
		total = total.Add(u)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", a, r.meta.Models[a], tokens(u.PromptTokens, u), tokens(u.CompletionTokens, u), tokens(u.Total(), u))
	}
	fmt.Fprintf(b, "| **Total** | | %s | %s | %s |\n\n", tokens(total.PromptTokens, total), tokens(total.CompletionTokens, total), tokens(total.Total(), total))
	if total.Estimated {
		b.WriteString("~ marks counts estimated from the text: the server reported no usage.\n\n")
	}
	if c, ok := r.Cost(usage); ok {
		fmt.Fprintf(b, "Cost: %s", dollars(c))
		if r.meta.PriceIn > 0 || r.meta.PriceOut > 0 {
			fmt.Fprintf(b, " (at %s per million prompt tokens and %s per million completion tokens)", dollars(r.meta.PriceIn), dollars(r.meta.PriceOut))
		} else {
			b.WriteString(" (at the models' list prices)")
		}
		if total.Estimated {
			b.WriteString(", estimated")
		}
		b.WriteString("\n\n")
	}
}

// tokens formats a token count, marked with ~ when estimated.
func tokens(n int, u team.Usage) string {
	if u.Estimated {
		return "~" + group(n)
	}
	return group(n)
}

// group writes n with thousands separators: 1,234,567.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// dollars formats an amount with at least two and at most four decimals:
// $0.27, $0.0031, $12.50.
func dollars(x float64) string {
	s := strconv.FormatFloat(x, 'f', 4, 64)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 3 {
		s = strings.TrimSuffix(s, "0")
	}
	return "$" + s
}

// title is the first line of a planner message for the steps table: without
// Markdown heading marks, at most maxTitle characters, pipes escaped.
func title(content string) string {
	line := ""
	for l := range strings.Lines(content) {
		if l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "#")); l != "" {
			line = l
			break
		}
	}
	if line == "" {
		return "—"
	}
	if utf8.RuneCountInString(line) > maxTitle {
		line = string([]rune(line)[:maxTitle-1]) + "…"
	}
	return strings.ReplaceAll(line, "|", `\|`)
}

func stepCells(s *step) string {
	if len(s.cells) == 0 {
		return "—"
	}
	ids := make([]string, len(s.cells))
	for i, c := range s.cells {
		ids[i] = strconv.Itoa(c.index)
	}
	return strings.Join(ids, ", ")
}

// stepStatus is the status of the step's last cell that ran: a step whose
// first attempt failed and whose fix worked is ok.
func stepStatus(s *step) string {
	if len(s.cells) == 0 {
		return "no code"
	}
	for _, c := range slices.Backward(s.cells) {
		if c.status != "skipped" {
			return c.status
		}
	}
	return "skipped"
}
