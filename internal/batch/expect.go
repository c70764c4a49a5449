package batch

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
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

// Evidence is what a finished task produced.
type Evidence struct {
	// Summary is the answer of the final message.
	Summary string
	// Outputs are the text of each executed cell's outputs, one string a
	// cell (see cell.Cell.Text).
	Outputs []string
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
