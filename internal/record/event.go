package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// The values of an event's "type" field.
const (
	TypeRunStarted   = "run_started"
	TypeTurnStarted  = "turn_started"
	TypeTextDelta    = "text_delta"
	TypeTextRestart  = "text_restart"
	TypeRetry        = "retry"
	TypeCellStarted  = "cell_started"
	TypeCellFinished = "cell_finished"
	TypeNotice       = "notice"
	TypeMessage      = "message"
	TypeRunFinished  = "run_finished"
)

// Output is one output of a cell in nbformat 4 form: output_type is
// "stream" (name, text), "display_data" (data, metadata),
// "execute_result" (data, metadata, execution_count) or "error" (ename,
// evalue, traceback). DisplayID, when set, is the id under which a
// display_data could be updated; it is not part of nbformat.
type Output struct {
	OutputType     string         `json:"output_type"`
	Name           string         `json:"name,omitempty"`
	Text           string         `json:"text,omitempty"`
	Data           map[string]any `json:"data,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	ExecutionCount *int           `json:"execution_count,omitempty"`
	Ename          string         `json:"ename,omitempty"`
	Evalue         string         `json:"evalue,omitempty"`
	Traceback      []string       `json:"traceback,omitempty"`
	DisplayID      string         `json:"display_id,omitempty"`
}

// Outputs converts a kernel result's outputs to nbformat form, in order.
// An error output takes its name, value and traceback (with ANSI codes) from
// res.Error; if res.Error is set but no output reports it, an error output is
// added at the end. Outputs returns nil for a nil result.
func Outputs(res *jupyter.Result) []Output {
	if res == nil {
		return nil
	}
	var outs []Output
	sawError := false
	for _, o := range res.Outputs {
		switch o.Type {
		case "stream":
			outs = append(outs, Output{OutputType: "stream", Name: o.Name, Text: o.Text})
		case "display_data", "execute_result":
			out := Output{OutputType: o.Type, Data: o.Data, Metadata: o.Metadata, DisplayID: o.DisplayID}
			if o.Type == "execute_result" {
				n := o.ExecutionCount
				out.ExecutionCount = &n
			}
			outs = append(outs, out)
		case "error":
			sawError = true
			outs = append(outs, errorOutput(res.Error, o.Text))
		}
	}
	if res.Error != nil && !sawError {
		outs = append(outs, errorOutput(res.Error, ""))
	}
	return outs
}

func errorOutput(e *jupyter.ExecError, text string) Output {
	if e == nil {
		return Output{OutputType: "error", Ename: "Error", Traceback: strings.Split(strings.TrimRight(text, "\n"), "\n")}
	}
	tb := e.Traceback
	if tb == nil {
		tb = []string{}
	}
	return Output{OutputType: "error", Ename: e.Name, Evalue: e.Value, Traceback: tb}
}

// usageJSON is team.Usage on the wire.
type usageJSON struct {
	PromptTokens     int  `json:"prompt_tokens"`
	CompletionTokens int  `json:"completion_tokens"`
	Estimated        bool `json:"estimated"`
}

func toUsageJSON(u team.Usage) usageJSON {
	return usageJSON{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Estimated: u.Estimated}
}

func (u usageJSON) usage() team.Usage {
	return team.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Estimated: u.Estimated}
}

// errorJSON is a Python exception on the wire.
type errorJSON struct {
	Ename     string   `json:"ename"`
	Evalue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// header starts every line.
type header struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
}

type runStartedJSON struct {
	header
	Task      string            `json:"task"`
	Agents    []string          `json:"agents,omitempty"`
	Data      []DataFile        `json:"data,omitempty"`
	Models    map[string]string `json:"models,omitempty"`
	Gateway   string            `json:"gateway,omitempty"`
	Kernel    string            `json:"kernel,omitempty"`
	Version   string            `json:"version,omitempty"`
	Started   *time.Time        `json:"started,omitempty"`
	Limits    map[string]string `json:"limits,omitempty"`
	Mode      string            `json:"mode,omitempty"`
	StepAgent string            `json:"step_agent,omitempty"`
	PriceIn   float64           `json:"price_in,omitempty"`
	PriceOut  float64           `json:"price_out,omitempty"`
}

type turnStartedJSON struct {
	header
	Turn  int    `json:"turn"`
	Agent string `json:"agent"`
}

type textDeltaJSON struct {
	header
	Agent string `json:"agent"`
	Text  string `json:"text"`
}

type textRestartJSON struct {
	header
	Agent string `json:"agent"`
}

type retryJSON struct {
	header
	Agent   string `json:"agent"`
	Attempt int    `json:"attempt"`
	WaitMS  int64  `json:"wait_ms"`
	Reason  string `json:"reason"`
}

type cellStartedJSON struct {
	header
	Agent    string `json:"agent"`
	Index    int    `json:"index"`
	Language string `json:"language"`
	Code     string `json:"code"`
}

type cellFinishedJSON struct {
	header
	Agent          string     `json:"agent"`
	Index          int        `json:"index"`
	Language       string     `json:"language"`
	Code           string     `json:"code"`
	Status         string     `json:"status"`
	ExecutionCount *int       `json:"execution_count"`
	DurationMS     int64      `json:"duration_ms"`
	Outputs        []Output   `json:"outputs"`
	Error          *errorJSON `json:"error,omitempty"`
	Figures        []string   `json:"figures,omitempty"`
	TimedOut       bool       `json:"timed_out"`
	DroppedBytes   int64      `json:"dropped_bytes"`
	Reconnected    bool       `json:"reconnected,omitempty"`
	Skipped        string     `json:"skipped,omitempty"`
	Failure        string     `json:"failure,omitempty"`
}

type noticeJSON struct {
	header
	Text    string `json:"text"`
	Warning bool   `json:"warning"`
}

type messageJSON struct {
	header
	Turn       int       `json:"turn"`
	Agent      string    `json:"agent"`
	Content    string    `json:"content"`
	Usage      usageJSON `json:"usage"`
	Final      bool      `json:"final"`
	Next       string    `json:"next,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Cells      []int     `json:"cells,omitempty"`
}

type runFinishedJSON struct {
	header
	Reason     string               `json:"reason"`
	Turns      int                  `json:"turns"`
	Usage      map[string]usageJSON `json:"usage"`
	Total      usageJSON            `json:"total"`
	Cost       *float64             `json:"cost,omitempty"`
	DurationMS int64                `json:"duration_ms"`
	Error      string               `json:"error,omitempty"`
}

// EventJSON encodes e as one JSON object without a trailing newline: its
// "type", its "time" (now, or the event's own time for RunStarted) and its
// fields. It is the encoding events.jsonl uses, except that a Recorder adds
// the run's cost to run_finished when it knows the prices.
func EventJSON(e team.Event) ([]byte, error) {
	return encodeEvent(e, time.Now(), nil)
}

// encodeEvent encodes e at time t; cost, when not nil, goes into run_finished.
func encodeEvent(e team.Event, t time.Time, cost *float64) ([]byte, error) {
	var v any
	switch e := e.(type) {
	case team.RunStarted:
		if !e.Time.IsZero() {
			t = e.Time
		}
		v = runStartedJSON{header: header{TypeRunStarted, t}, Task: e.Task, Agents: e.Agents}
	case team.TurnStarted:
		v = turnStartedJSON{header{TypeTurnStarted, t}, e.Turn, e.Agent}
	case team.TextDelta:
		v = textDeltaJSON{header{TypeTextDelta, t}, e.Agent, e.Text}
	case team.TextRestart:
		v = textRestartJSON{header{TypeTextRestart, t}, e.Agent}
	case team.Retry:
		v = retryJSON{header{TypeRetry, t}, e.Agent, e.Attempt, e.Wait.Milliseconds(), e.Reason}
	case team.CellStarted:
		v = cellStartedJSON{header{TypeCellStarted, t}, e.Agent, e.Index, e.Language, e.Code}
	case team.CellFinished:
		v = cellFinished(header{TypeCellFinished, t}, e)
	case team.Notice:
		v = noticeJSON{header{TypeNotice, t}, e.Text, e.Warning}
	case team.MessageDone:
		m := e.Message
		j := messageJSON{
			header: header{TypeMessage, t}, Turn: e.Turn, Agent: m.Agent, Content: m.Content,
			Usage: toUsageJSON(m.Usage), Final: m.Final, Next: m.Next, DurationMS: m.Duration.Milliseconds(),
		}
		for _, c := range m.Cells {
			j.Cells = append(j.Cells, c.Index)
		}
		v = j
	case team.RunFinished:
		j := runFinishedJSON{
			header: header{TypeRunFinished, t}, Reason: string(e.Reason), Turns: e.Turns,
			Usage: map[string]usageJSON{}, Cost: cost, DurationMS: e.Duration.Milliseconds(),
		}
		var total team.Usage
		for a, u := range e.Usage {
			j.Usage[a] = toUsageJSON(u)
			total = total.Add(u)
		}
		j.Total = toUsageJSON(total)
		if e.Err != nil {
			j.Error = e.Err.Error()
		}
		v = j
	default:
		return nil, fmt.Errorf("encode event: unknown event type %T", e)
	}
	return marshal(v)
}

func cellFinished(h header, e team.CellFinished) cellFinishedJSON {
	c := e.Cell
	j := cellFinishedJSON{
		header: h, Agent: e.Agent, Index: c.Index, Language: c.Language, Code: c.Code,
		Status: c.Status(), Outputs: Outputs(c.Result), Figures: c.Figures, Skipped: c.Skipped,
	}
	if j.Outputs == nil {
		j.Outputs = []Output{}
	}
	if c.Err != nil {
		j.Failure = c.Err.Error()
	}
	if r := c.Result; r != nil {
		if r.ExecutionCount > 0 {
			n := r.ExecutionCount
			j.ExecutionCount = &n
		}
		j.DurationMS = r.Duration.Milliseconds()
		j.TimedOut = r.TimedOut
		j.DroppedBytes = r.DroppedBytes
		j.Reconnected = r.Reconnected
		if r.Error != nil {
			j.Error = &errorJSON{Ename: r.Error.Name, Evalue: r.Error.Value, Traceback: r.Error.Traceback}
			if j.Error.Traceback == nil {
				j.Error.Traceback = []string{}
			}
		}
	}
	return j
}

// marshal encodes v without escaping <, > and & (notebooks hold HTML) and
// without a trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Event is one line of events.jsonl, parsed. Which fields are set depends on
// Type; the comments name the types that set them.
type Event struct {
	Type string
	Time time.Time

	// run_started: the run's Meta and, when the team reported them, its
	// agents.
	Meta   Meta
	Agents []string

	// turn_started, message, text_delta, text_restart, retry, cell_started,
	// cell_finished.
	Turn  int
	Agent string

	// message.
	Content string
	Usage   team.Usage
	Final   bool
	Next    string
	Cells   []int // the indexes of the cells the message ran

	// cell_started, cell_finished.
	Index    int
	Language string
	Code     string

	// cell_finished.
	Status         string
	ExecutionCount int // 0 when the cell did not run
	Outputs        []Output
	Error          *jupyter.ExecError
	Figures        []string
	TimedOut       bool
	DroppedBytes   int64
	Skipped        string
	Failure        string

	// notice, text_delta.
	Text    string
	Warning bool

	// retry.
	Attempt int
	Wait    time.Duration

	// retry, run_finished.
	Reason string

	// message, cell_finished, run_finished.
	Duration time.Duration

	// run_finished.
	Turns      int
	AgentUsage map[string]team.Usage
	Total      team.Usage
	Cost       *float64
	Err        string
}

// eventJSON is the union of all lines, for reading. Fields whose shape
// depends on the type are kept raw.
type eventJSON struct {
	Type           string            `json:"type"`
	Time           time.Time         `json:"time"`
	Task           string            `json:"task"`
	Agents         []string          `json:"agents"`
	Data           []DataFile        `json:"data"`
	Models         map[string]string `json:"models"`
	Gateway        string            `json:"gateway"`
	Kernel         string            `json:"kernel"`
	Version        string            `json:"version"`
	Started        time.Time         `json:"started"`
	Limits         map[string]string `json:"limits"`
	Mode           string            `json:"mode"`
	StepAgent      string            `json:"step_agent"`
	PriceIn        float64           `json:"price_in"`
	PriceOut       float64           `json:"price_out"`
	Turn           int               `json:"turn"`
	Agent          string            `json:"agent"`
	Content        string            `json:"content"`
	Usage          json.RawMessage   `json:"usage"`
	Final          bool              `json:"final"`
	Next           string            `json:"next"`
	Cells          []int             `json:"cells"`
	Index          int               `json:"index"`
	Language       string            `json:"language"`
	Code           string            `json:"code"`
	Status         string            `json:"status"`
	ExecutionCount *int              `json:"execution_count"`
	Outputs        []Output          `json:"outputs"`
	Error          json.RawMessage   `json:"error"`
	Figures        []string          `json:"figures"`
	TimedOut       bool              `json:"timed_out"`
	DroppedBytes   int64             `json:"dropped_bytes"`
	Skipped        string            `json:"skipped"`
	Failure        string            `json:"failure"`
	Text           string            `json:"text"`
	Warning        bool              `json:"warning"`
	Attempt        int               `json:"attempt"`
	WaitMS         int64             `json:"wait_ms"`
	Reason         string            `json:"reason"`
	DurationMS     int64             `json:"duration_ms"`
	Turns          int               `json:"turns"`
	Total          usageJSON         `json:"total"`
	Cost           *float64          `json:"cost"`
}

// ParseEvent parses one line of events.jsonl.
func ParseEvent(line []byte) (Event, error) {
	var j eventJSON
	if err := json.Unmarshal(line, &j); err != nil {
		return Event{}, err
	}
	if j.Type == "" {
		return Event{}, errors.New(`no "type"`)
	}
	e := Event{
		Type: j.Type, Time: j.Time, Agents: j.Agents,
		Turn: j.Turn, Agent: j.Agent, Content: j.Content, Final: j.Final, Next: j.Next, Cells: j.Cells,
		Index: j.Index, Language: j.Language, Code: j.Code,
		Status: j.Status, Outputs: j.Outputs, Figures: j.Figures, TimedOut: j.TimedOut,
		DroppedBytes: j.DroppedBytes, Skipped: j.Skipped, Failure: j.Failure,
		Text: j.Text, Warning: j.Warning, Attempt: j.Attempt, Wait: time.Duration(j.WaitMS) * time.Millisecond,
		Reason: j.Reason, Duration: time.Duration(j.DurationMS) * time.Millisecond,
		Turns: j.Turns, Total: j.Total.usage(), Cost: j.Cost,
	}
	if j.ExecutionCount != nil {
		e.ExecutionCount = *j.ExecutionCount
	}
	switch j.Type {
	case TypeRunStarted:
		e.Meta = Meta{
			Task: j.Task, Data: j.Data, Models: j.Models, Gateway: j.Gateway, Kernel: j.Kernel,
			Version: j.Version, Started: j.Started, Limits: j.Limits, PriceIn: j.PriceIn, PriceOut: j.PriceOut,
			Mode: j.Mode, StepAgent: j.StepAgent,
		}
	case TypeMessage:
		if len(j.Usage) > 0 {
			var u usageJSON
			if err := json.Unmarshal(j.Usage, &u); err != nil {
				return Event{}, fmt.Errorf("usage: %w", err)
			}
			e.Usage = u.usage()
		}
	case TypeCellFinished:
		if len(j.Error) > 0 && string(j.Error) != "null" {
			var x errorJSON
			if err := json.Unmarshal(j.Error, &x); err != nil {
				return Event{}, fmt.Errorf("error: %w", err)
			}
			e.Error = &jupyter.ExecError{Name: x.Ename, Value: x.Evalue, Traceback: x.Traceback}
		}
	case TypeRunFinished:
		if len(j.Usage) > 0 {
			var us map[string]usageJSON
			if err := json.Unmarshal(j.Usage, &us); err != nil {
				return Event{}, fmt.Errorf("usage: %w", err)
			}
			e.AgentUsage = make(map[string]team.Usage, len(us))
			for a, u := range us {
				e.AgentUsage[a] = u.usage()
			}
		}
		if len(j.Error) > 0 {
			if err := json.Unmarshal(j.Error, &e.Err); err != nil {
				return Event{}, fmt.Errorf("error: %w", err)
			}
		}
	}
	return e, nil
}

// ReadEvents parses the events.jsonl file at path. A last line that is cut
// short (the process died while writing it) is ignored; any other line that
// does not parse is an error.
func ReadEvents(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	var events []Event
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return events, fmt.Errorf("read events %s: %w", path, err)
		}
		complete := err == nil
		if len(bytes.TrimSpace(line)) > 0 {
			e, perr := ParseEvent(line)
			switch {
			case perr == nil:
				events = append(events, e)
			case complete:
				return events, fmt.Errorf("read events %s:%d: %w", path, n, perr)
			}
		}
		if !complete {
			return events, nil
		}
	}
}

// marshalIndent encodes v indented by one space, as Jupyter writes
// notebooks, with a trailing newline.
func marshalIndent(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
