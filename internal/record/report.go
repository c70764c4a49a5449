package record

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/team"
)

// figureName matches the names the executor gives figures; only those are
// embedded in the report.
var figureName = regexp.MustCompile(`^figure-[0-9]+\.(png|jpg|svg|gif)$`)

// reportView is what a report shows, gathered once from the Recorder's
// state: report.md and report.html are two renderings of it.
type reportView struct {
	Incomplete bool
	Task       string
	Data       []DataFile
	Requests   []requestView
	Usage      []usageRow
	Total      usageRow
	Estimated  bool   // some counts were estimated from the text
	Cost       string // "Cost: ..." without the label, "" when unknown
	Run        []string
}

// requestView is one request of the report: its text (empty for the first,
// which is the task), its summary, figures and steps.
type requestView struct {
	Text    string
	Final   bool // the planner wrote a summary
	Summary string
	Figures []string
	Steps   []stepView
}

type stepView struct {
	N                              int
	Title, Cells, Status, Duration string
}

type usageRow struct {
	Agent, Model              string
	Prompt, Completion, Total string
}

// view gathers what the reports show.
func (r *Recorder) view() reportView {
	v := reportView{
		Incomplete: r.cur().finished == nil,
		Task:       strings.TrimSpace(r.meta.Task),
		Data:       r.meta.Data,
	}
	end := r.now()
	for i, req := range r.requests {
		rv := requestView{Final: req.final, Summary: summaryText(req.summary)}
		if i > 0 {
			rv.Text = strings.TrimSpace(req.text)
		}
		for _, f := range req.figures {
			if figureName.MatchString(f) {
				rv.Figures = append(rv.Figures, f)
			}
		}
		for j, s := range req.steps {
			e := s.end
			if e.IsZero() {
				e = end
			}
			rv.Steps = append(rv.Steps, stepView{N: j + 1, Title: title(s.title), Cells: stepCells(s), Status: stepStatus(s), Duration: human.Duration(e.Sub(s.start))})
		}
		v.Requests = append(v.Requests, rv)
	}
	r.usageView(&v)

	last := r.lastFinished()
	wall := r.now().Sub(r.meta.Started)
	if last != nil && len(r.requests) == 1 {
		wall = last.Duration
	}
	v.Run = append(v.Run, "Wall time: "+human.Duration(wall))
	if last != nil && r.cur().finished != nil {
		reason := string(last.Reason)
		if last.Err != nil {
			reason += ": " + last.Err.Error()
		}
		v.Run = append(v.Run, fmt.Sprintf("Stopped: %s after %d turns", reason, r.turns))
	} else {
		v.Run = append(v.Run, fmt.Sprintf("Stopped: incomplete (no run_finished event) after %d turns", r.turns+r.turn))
	}
	if len(r.requests) > 1 {
		v.Run = append(v.Run, fmt.Sprintf("Requests: %d", len(r.requests)))
	}
	v.Run = append(v.Run, "Started: "+r.meta.Started.Format(time.RFC3339))
	if r.meta.Version != "" {
		v.Run = append(v.Run, "analyst "+r.meta.Version)
	}
	return v
}

// usageView fills the usage table: the known agents first, then the others
// by name, leaving out agents that used no tokens (the executor).
func (r *Recorder) usageView(v *reportView) {
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

	var total team.Usage
	for _, a := range agents {
		u := usage[a]
		if u.Total() == 0 {
			continue
		}
		total = total.Add(u)
		v.Usage = append(v.Usage, usageRow{a, r.meta.Models[a], tokens(u.PromptTokens, u), tokens(u.CompletionTokens, u), tokens(u.Total(), u)})
	}
	v.Total = usageRow{"Total", "", tokens(total.PromptTokens, total), tokens(total.CompletionTokens, total), tokens(total.Total(), total)}
	v.Estimated = total.Estimated
	if c, ok := r.Cost(usage); ok {
		cost := dollars(c)
		if r.meta.PriceIn > 0 || r.meta.PriceOut > 0 {
			cost += fmt.Sprintf(" (at %s per million prompt tokens and %s per million completion tokens)", dollars(r.meta.PriceIn), dollars(r.meta.PriceOut))
		} else {
			cost += " (at the models' list prices)"
		}
		if total.Estimated {
			cost += ", estimated"
		}
		v.Cost = cost
	}
}

// reportMarkdown renders report.md from the view of what was recorded so
// far: the task, then for each request its summary, figures and steps, then
// the usage and the run.
func reportMarkdown(v reportView) string {
	var b strings.Builder
	b.WriteString("# Analysis report\n\n")
	if v.Incomplete {
		b.WriteString("> **Incomplete run:** the recording stopped before the run finished (it crashed or was interrupted). Everything up to that moment is below.\n\n")
	}

	b.WriteString("## Task\n\n")
	b.WriteString(v.Task)
	b.WriteString("\n\n")
	if len(v.Data) > 0 {
		b.WriteString("Data:\n\n")
		for _, d := range v.Data {
			fmt.Fprintf(&b, "- `%s` (%s bytes, sha256 %s)\n", d.Name, group(int(d.Size)), d.SHA256)
		}
		b.WriteString("\n")
	}
	for i, req := range v.Requests {
		level := "##"
		if i > 0 {
			fmt.Fprintf(&b, "## Request %d\n\n%s\n\n", i+1, req.Text)
			level = "###"
		}
		requestMarkdown(&b, req, level)
	}

	b.WriteString("## Usage\n\n")
	b.WriteString("| Agent | Model | Prompt tokens | Completion tokens | Total tokens |\n")
	b.WriteString("|---|---|---:|---:|---:|\n")
	for _, u := range v.Usage {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", u.Agent, u.Model, u.Prompt, u.Completion, u.Total)
	}
	fmt.Fprintf(&b, "| **Total** | | %s | %s | %s |\n\n", v.Total.Prompt, v.Total.Completion, v.Total.Total)
	if v.Estimated {
		b.WriteString("~ marks counts estimated from the text: the server reported no usage.\n\n")
	}
	if v.Cost != "" {
		fmt.Fprintf(&b, "Cost: %s\n\n", v.Cost)
	}

	b.WriteString("## Run\n\n")
	for _, l := range v.Run {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	// Text from the LLM and the kernel must not act on a terminal that shows
	// the report (cat report.md).
	return termsafe.String(b.String())
}

// requestMarkdown writes a request's summary, figures and steps under
// headings of the given level.
func requestMarkdown(b *strings.Builder, req requestView, level string) {
	fmt.Fprintf(b, "%s Summary\n\n", level)
	if req.Final {
		b.WriteString(req.Summary)
	} else {
		b.WriteString("*The planner wrote no summary: the run stopped before it was done.*")
	}
	b.WriteString("\n\n")
	if len(req.Figures) > 0 {
		fmt.Fprintf(b, "%s Figures\n\n", level)
		for _, f := range req.Figures {
			fmt.Fprintf(b, "![%s](%s)\n\n", f, f)
		}
	}
	if len(req.Steps) > 0 {
		fmt.Fprintf(b, "%s Steps\n\n", level)
		b.WriteString("| Step | Sub-task | Cells | Status | Duration |\n")
		b.WriteString("|---:|---|---|---|---:|\n")
		for _, s := range req.Steps {
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s |\n", s.N, strings.ReplaceAll(s.Title, "|", `\|`), s.Cells, s.Status, s.Duration)
		}
		b.WriteString("\n")
	}
}

// summaryLabel matches a label the planner put before its summary, which
// the report's heading already says: "Summary:", "**Summary:**",
// "## Summary".
var summaryLabel = regexp.MustCompile(`(?i)^\s*(?:#+[ \t]*(?:final\s+)?summary[ \t]*:?[ \t]*(?:\n|$)|(?:\*\*|__)?(?:final\s+)?summary\s*:\s*(?:\*\*|__)?|(?:\*\*|__)(?:final\s+)?summary(?:\*\*|__)\s*:)[ \t]*\n?`)

// summaryText is the planner's summary without a leading label.
func summaryText(s string) string {
	s = strings.TrimSpace(s)
	if loc := summaryLabel.FindStringIndex(s); loc != nil {
		if t := strings.TrimSpace(s[loc[1]:]); t != "" {
			return t
		}
	}
	return s
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

// title is the first line of a planner message for the steps table, whole
// and without Markdown heading marks.
func title(content string) string {
	for l := range strings.Lines(content) {
		if l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "#")); l != "" {
			return l
		}
	}
	return "—"
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
