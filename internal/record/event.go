package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/analyst-dev/analyst/cell"
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
	// A request's start and end: the run's task is the first request; a
	// follow-up on the same kernel, or a continued run's new one, another.
	TypeRequestStarted  = "request_started"
	TypeRequestFinished = "request_finished"
	// TypeRunContinued starts the part of a run that --continue added.
	TypeRunContinued = "run_continued"
)

// header starts every line.
type header struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
}

type runStartedJSON struct {
	header
	Meta
	Agents []string `json:"agents,omitempty"`
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
	cell.Started
}

type cellFinishedJSON struct {
	header
	cell.Record
}

type noticeJSON struct {
	header
	Text    string `json:"text"`
	Warning bool   `json:"warning"`
}

type messageJSON struct {
	header
	Turn       int        `json:"turn"`
	Agent      string     `json:"agent"`
	Content    string     `json:"content"`
	Usage      team.Usage `json:"usage"`
	Final      bool       `json:"final"`
	Next       string     `json:"next,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Cells      []int      `json:"cells,omitempty"`
	Summary    string     `json:"summary,omitempty"`
}

type requestStartedJSON struct {
	header
	Number  int    `json:"number"`
	Request string `json:"request"`
}

// runFinishedJSON is run_finished, and request_finished with Number.
type runFinishedJSON struct {
	header
	Number     int                   `json:"number,omitempty"`
	Reason     string                `json:"reason"`
	Turns      int                   `json:"turns"`
	Usage      map[string]team.Usage `json:"usage"`
	Total      team.Usage            `json:"total"`
	Cost       *float64              `json:"cost,omitempty"`
	DurationMS int64                 `json:"duration_ms"`
	Error      string                `json:"error,omitempty"`
}

// encodeEvent encodes e at time t, during request number request; cost,
// when not nil, goes into request_finished.
func encodeEvent(e team.Event, t time.Time, cost *float64, request int) ([]byte, error) {
	var v any
	switch e := e.(type) {
	case team.RunStarted:
		if !e.Time.IsZero() {
			t = e.Time
		}
		v = runStartedJSON{header: header{TypeRunStarted, t}, Meta: Meta{Task: e.Task}, Agents: e.Agents}
	case team.TurnStarted:
		v = turnStartedJSON{header{TypeTurnStarted, t}, e.Turn, e.Agent}
	case team.TextDelta:
		v = textDeltaJSON{header{TypeTextDelta, t}, e.Agent, e.Text}
	case team.TextRestart:
		v = textRestartJSON{header{TypeTextRestart, t}, e.Agent}
	case team.Retry:
		v = retryJSON{header{TypeRetry, t}, e.Agent, e.Attempt, e.Wait.Milliseconds(), e.Reason}
	case cell.Started:
		v = cellStartedJSON{header{TypeCellStarted, t}, e}
	case cell.Finished:
		// The Recorder writes its own with writeCellFinished, which shares
		// the outputs' encoding with the notebook.
		v = cellFinishedJSON{header{TypeCellFinished, t}, e.Record()}
	case team.Notice:
		v = noticeJSON{header{TypeNotice, t}, e.Text, e.Warning}
	case team.MessageDone:
		m := e.Message
		j := messageJSON{
			header: header{TypeMessage, t}, Turn: e.Turn, Agent: m.Agent, Content: m.Content,
			Usage: m.Usage, Final: m.Final, Next: m.Next, DurationMS: m.Duration.Milliseconds(), Cells: m.Cells, Summary: m.Summary,
		}
		v = j
	case team.RunFinished:
		v = runFinishedJSON{
			header: header{TypeRequestFinished, t}, Number: request, Reason: string(e.Reason), Turns: e.Turns,
			Usage: e.Usage, Total: total(e.Usage), Cost: cost, DurationMS: e.Duration.Milliseconds(), Error: errText(e.Err),
		}
	default:
		return nil, fmt.Errorf("encode event: unknown event type %T", e)
	}
	return marshal(v)
}

// appendCellFinished appends to dst e's line at time t with its outputs
// encoded already (see encodedOutputs): as marshal would write it, without
// encoding them again.
func appendCellFinished(dst []byte, e cell.Finished, t time.Time, outputs []byte) ([]byte, error) {
	rec := e.Record()
	rec.Outputs = []cell.Output{}
	line, err := marshal(cellFinishedJSON{header{TypeCellFinished, t}, rec})
	if err != nil {
		return nil, err
	}
	before, after := aroundOutputs(line)
	dst = slices.Grow(dst, len(line)+len(outputs)+1) // and writeLine's newline
	return append(append(append(dst, before...), outputs...), after...), nil
}

// total is the usage of all agents together; an empty map for none.
func total(usage map[string]team.Usage) team.Usage {
	var t team.Usage
	for _, u := range usage {
		t = t.Add(u)
	}
	return t
}

// errText is err's message, "" for none.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
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

	// turn_started, message.
	Turn int

	// cell_started and cell_finished: the cell as recorded (Cell rebuilds
	// it); its Agent also names the agent of turn_started, message,
	// text_delta, text_restart and retry.
	cell.Record

	// message.
	Content string
	Usage   team.Usage
	Final   bool
	Next    string
	Cells   []int  // the indexes of the cells the message ran
	Summary string // a final message's answer, without the stop word

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

	// request_started, request_finished: the request's number from 1;
	// request_started: its text.
	Number  int
	Request string

	// run_finished, request_finished.
	Turns      int
	AgentUsage map[string]team.Usage
	Total      team.Usage
	Cost       *float64
	Err        string
}

// Cell rebuilds a cell_finished event's cell, as it rendered when it ran.
func (e Event) Cell() cell.Cell { return e.Record.Finished().Cell }

// eventJSON is the union of all lines, for reading. Fields whose shape
// depends on the type are kept raw.
type eventJSON struct {
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	Meta
	cell.Record
	Agents  []string        `json:"agents"`
	Turn    int             `json:"turn"`
	Content string          `json:"content"`
	Usage   json.RawMessage `json:"usage"`
	Final   bool            `json:"final"`
	Next    string          `json:"next"`
	Cells   []int           `json:"cells"`
	Summary string          `json:"summary"`
	Error   json.RawMessage `json:"error"`
	Text    string          `json:"text"`
	Warning bool            `json:"warning"`
	Attempt int             `json:"attempt"`
	WaitMS  int64           `json:"wait_ms"`
	Reason  string          `json:"reason"`
	Turns   int             `json:"turns"`
	Number  int             `json:"number"`
	Request string          `json:"request"`
	Total   team.Usage      `json:"total"`
	Cost    *float64        `json:"cost"`
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
		Type: j.Type, Time: j.Time, Agents: j.Agents, Turn: j.Turn, Record: j.Record,
		Content: j.Content, Final: j.Final, Next: j.Next, Cells: j.Cells, Summary: j.Summary,
		Text: j.Text, Warning: j.Warning, Attempt: j.Attempt, Wait: time.Duration(j.WaitMS) * time.Millisecond,
		Reason: j.Reason, Duration: time.Duration(j.DurationMS) * time.Millisecond,
		Turns: j.Turns, Total: j.Total, Cost: j.Cost, Number: j.Number, Request: j.Request,
	}
	switch j.Type {
	case TypeRunStarted, TypeRunContinued:
		e.Meta = j.Meta
	case TypeMessage:
		if len(j.Usage) > 0 {
			if err := json.Unmarshal(j.Usage, &e.Usage); err != nil {
				return Event{}, fmt.Errorf("usage: %w", err)
			}
		}
	case TypeCellFinished:
		if len(j.Error) > 0 && string(j.Error) != "null" {
			if err := json.Unmarshal(j.Error, &e.Record.Error); err != nil {
				return Event{}, fmt.Errorf("error: %w", err)
			}
		}
	case TypeRunFinished, TypeRequestFinished:
		if len(j.Usage) > 0 {
			if err := json.Unmarshal(j.Usage, &e.AgentUsage); err != nil {
				return Event{}, fmt.Errorf("usage: %w", err)
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
	events, _, err := ReadEventsCut(path)
	return events, err
}

// ReadEventsCut is ReadEvents that also reports where the file ends cut
// short: cut is the number of its last line if that line has no newline (the
// writer was stopped in the middle of it), else 0.
func ReadEventsCut(path string) (events []Event, cut int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return events, 0, fmt.Errorf("read events %s: %w", path, err)
		}
		complete := err == nil
		if len(bytes.TrimSpace(line)) > 0 {
			e, perr := ParseEvent(line)
			switch {
			case perr == nil:
				events = append(events, e)
			case complete:
				return events, 0, fmt.Errorf("read events %s:%d: %w", path, n, perr)
			}
		}
		if !complete {
			if len(line) == 0 {
				n = 0
			}
			return events, n, nil
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
