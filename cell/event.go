package cell

import (
	"time"

	"github.com/analyst-dev/analyst/jupyter"
)

// Started says that a cell is about to run. It is an event of the
// conversation, sent by whoever runs the cell.
type Started struct {
	Agent    string `json:"agent"`
	Index    int    `json:"index"`
	Language string `json:"language"`
	Code     string `json:"code"`
}

// Finished reports a cell's end, with the cell.
type Finished struct {
	Agent string
	Cell  Cell
}

// Record is a finished cell as events.jsonl holds it: the cell_finished
// line's fields.
type Record struct {
	Agent          string     `json:"agent"`
	Index          int        `json:"index"`
	Language       string     `json:"language"`
	Code           string     `json:"code"`
	Status         Status     `json:"status"`
	ExecutionCount *int       `json:"execution_count"`
	DurationMS     int64      `json:"duration_ms"`
	Outputs        []Output   `json:"outputs"`
	Error          *ErrorJSON `json:"error,omitempty"`
	Figures        []string   `json:"figures,omitempty"`
	TimedOut       bool       `json:"timed_out"`
	DroppedBytes   int64      `json:"dropped_bytes"`
	Reconnected    bool       `json:"reconnected,omitempty"`
	Skipped        string     `json:"skipped,omitempty"`
	Skip           SkipReason `json:"skip,omitempty"`
	Failure        string     `json:"failure,omitempty"`
	Restart        *Restart   `json:"restart,omitempty"`
	Edited         bool       `json:"edited,omitempty"`
}

// ErrorJSON is a Python exception as events.jsonl holds it.
type ErrorJSON struct {
	Ename     string   `json:"ename"`
	Evalue    string   `json:"evalue"`
	Traceback []string `json:"traceback"`
}

// Record returns the event's cell as events.jsonl holds it.
func (f Finished) Record() Record {
	c := f.Cell
	j := Record{
		Agent: f.Agent, Index: c.Index, Language: c.Language, Code: c.Code,
		Status: c.Status(), Outputs: c.Outputs(), Figures: c.FigureNames(), Skipped: c.Skipped, Skip: c.Skip,
		Failure: c.Failure(), Restart: c.Restart, Edited: c.Edited,
	}
	if j.Outputs == nil {
		j.Outputs = []Output{}
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
			j.Error = &ErrorJSON{Ename: r.Error.Name, Evalue: r.Error.Value, Traceback: r.Error.Traceback}
			if j.Error.Traceback == nil {
				j.Error.Traceback = []string{}
			}
		}
	}
	return j
}

// Finished rebuilds the event from its record: the cell renders as it did
// when it ran. A cell recorded as skipped has no result.
func (j Record) Finished() Finished {
	c := Cell{Index: j.Index, Language: j.Language, Code: j.Code, Skip: j.Skip, Skipped: j.Skipped, Restart: j.Restart, Edited: j.Edited}
	if j.Restart == nil {
		c.Err = RecordedErr(j.Failure)
	}
	if j.Status == Skipped && c.Skip == NotSkipped {
		c.Skip = NotRun
	}
	if j.Status != Skipped {
		res := resultOf(j.Outputs)
		if j.ExecutionCount != nil {
			res.ExecutionCount = *j.ExecutionCount
		}
		if j.Error != nil {
			res.Error = &jupyter.ExecError{Name: j.Error.Ename, Value: j.Error.Evalue, Traceback: j.Error.Traceback}
		}
		res.Duration = time.Duration(j.DurationMS) * time.Millisecond
		res.TimedOut = j.TimedOut
		res.Canceled = j.Status == Interrupted
		res.DroppedBytes = j.DroppedBytes
		res.Reconnected = j.Reconnected
		if res.Error != nil {
			res.Status = "error"
		} else if j.Status == OK {
			res.Status = "ok"
		}
		c.Result = res
		c.Figures = ResolveFigures(res, j.Figures)
	}
	return Finished{Agent: j.Agent, Cell: c}
}
