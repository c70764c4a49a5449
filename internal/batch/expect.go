package batch

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/analyst-dev/analyst/internal/record"
)

// Expectation is one thing a task's summary or outputs must contain: a
// substring, or a match of a regular expression.
type Expectation struct {
	// Text is the substring, or the expression's source.
	Text string
	// Re is the compiled expression, in multi-line mode (^ and $ match at
	// line boundaries); nil for a substring.
	Re *regexp.Regexp
}

// String is the expectation as the batch file wrote it: the text, or the
// expression between slashes.
func (e Expectation) String() string {
	if e.Re != nil {
		return "/" + e.Text + "/"
	}
	return e.Text
}

// Match reports whether s contains the expectation.
func (e Expectation) Match(s string) bool {
	if e.Re != nil {
		return e.Re.MatchString(s)
	}
	return strings.Contains(s, e.Text)
}

// expectations reads the expect list (or a single expectation).
func expectations(v any) ([]Expectation, error) {
	var list []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = v
	default:
		list = []any{v}
	}
	out := make([]Expectation, 0, len(list))
	for _, item := range list {
		e, err := expectation(item)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func expectation(v any) (Expectation, error) {
	switch v := v.(type) {
	case string:
		if len(v) >= 2 && strings.HasPrefix(v, "/") && strings.HasSuffix(v, "/") {
			return compile(v[1 : len(v)-1])
		}
		if v == "" {
			return Expectation{}, errors.New("expect: an empty expectation matches anything")
		}
		return Expectation{Text: v}, nil
	case map[string]any:
		if len(v) != 1 {
			return Expectation{}, fmt.Errorf("expect: want {regex: ...} or {text: ...}, got %d fields", len(v))
		}
		for k, x := range v {
			s, ok := x.(string)
			switch {
			case k != "regex" && k != "text":
				return Expectation{}, fmt.Errorf("expect: unknown field %q: want {regex: ...} or {text: ...}", k)
			case !ok || s == "":
				return Expectation{}, fmt.Errorf("expect: %s: want non-empty text, got %s", k, show(x))
			case k == "regex":
				return compile(s)
			default:
				return Expectation{Text: s}, nil
			}
		}
	}
	return Expectation{}, fmt.Errorf("expect: want text, /regex/ or {regex: ...}, got %s", show(v))
}

// compile compiles a regular expression of an expectation in multi-line
// mode: ^ and $ match at the start and end of each line of the text.
func compile(src string) (Expectation, error) {
	re, err := regexp.Compile("(?m)" + src)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return Expectation{}, fmt.Errorf("expect /%s/: bad regular expression: %s", src, se.Code)
		}
		return Expectation{}, fmt.Errorf("expect /%s/: %w", src, err)
	}
	return Expectation{Text: src, Re: re}, nil
}

// Evidence is what a finished task produced, as its records tell it.
type Evidence struct {
	// Summary is the content of the final message.
	Summary string
	// Outputs are the text of each executed cell's outputs, one string a
	// cell: stream text as it came, text/plain results and displays, and
	// errors as "ename: evalue", each on lines of their own.
	Outputs []string
	// Finished is the run_finished event, if the records have one.
	Finished *record.Event
}

// Gather collects the evidence from a run's events.
func Gather(events []record.Event) Evidence {
	var ev Evidence
	for i, e := range events {
		switch e.Type {
		case record.TypeMessage:
			if e.Final {
				ev.Summary = e.Content
			}
		case record.TypeCellFinished:
			if s := cellText(e.Outputs); s != "" {
				ev.Outputs = append(ev.Outputs, s)
			}
		case record.TypeRunFinished:
			ev.Finished = &events[i]
		}
	}
	return ev
}

// cellText is the text of one cell's outputs. Consecutive stream outputs
// join as they came, so that a line split across two messages still matches.
func cellText(outs []record.Output) string {
	var b strings.Builder
	for _, o := range outs {
		s := outputText(o)
		if s == "" {
			continue
		}
		if o.OutputType != "stream" && b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(s)
		if o.OutputType != "stream" {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func outputText(o record.Output) string {
	switch o.OutputType {
	case "stream":
		return o.Text
	case "error":
		return o.Ename + ": " + o.Evalue
	}
	switch t := o.Data["text/plain"].(type) {
	case string:
		return t
	case []any: // nbformat allows a list of lines
		var b strings.Builder
		for _, l := range t {
			if s, ok := l.(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}

// Unmet returns the expectations found neither in the summary nor in any
// output, in the task's order.
func (ev Evidence) Unmet(expect []Expectation) []Expectation {
	var missing []Expectation
	for _, e := range expect {
		if e.Match(ev.Summary) || matchAny(e, ev.Outputs) {
			continue
		}
		missing = append(missing, e)
	}
	return missing
}

func matchAny(e Expectation, outputs []string) bool {
	for _, o := range outputs {
		if e.Match(o) {
			return true
		}
	}
	return false
}
