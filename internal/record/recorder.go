package record

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/fence"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// The files a Recorder writes in its directory.
const (
	EventsFile   = "events.jsonl"
	NotebookFile = "analysis.ipynb"
	ReportFile   = "report.md"
)

// Meta is a run's configuration as recorded in run_started. It never holds
// secrets: there is no field for an API key or a gateway token.
type Meta struct {
	// Task is the user's request.
	Task string `json:"task"`
	// Data are the files uploaded for the run.
	Data []DataFile `json:"data,omitempty"`
	// Models maps each LLM agent's name to its model.
	Models map[string]string `json:"models,omitempty"`
	// Gateway is the gateway's URL for display, without credentials.
	Gateway string `json:"gateway,omitempty"`
	// Kernel is the kernel's name or id.
	Kernel string `json:"kernel,omitempty"`
	// Version is analyst's version.
	Version string `json:"version,omitempty"`
	// Started is when the run started; New uses the current time when it is
	// zero.
	Started time.Time `json:"started"`
	// Limits are the run's limits for display, such as "max-turns": "30".
	Limits map[string]string `json:"limits,omitempty"`
	// Mode is the run's architecture: "team" or "tool".
	Mode string `json:"mode,omitempty"`
	// StepAgent is the agent whose messages are the notebook's steps and
	// whose final message is the summary; the planner when empty.
	StepAgent string `json:"step_agent,omitempty"`
	// PriceIn and PriceOut are the USD prices per million prompt and
	// completion tokens; 0 means unknown, and then the prices of the agents'
	// models are looked up with Price.
	PriceIn  float64 `json:"price_in,omitempty"`
	PriceOut float64 `json:"price_out,omitempty"`
}

// DataFile is a data file given to a run.
type DataFile struct {
	// Name is the file's name in the kernel's working directory.
	Name string `json:"name"`
	// Path is where the file was read from.
	Path string `json:"path"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of the file's content.
	SHA256 string `json:"sha256"`
}

// NewDataFile describes the file at path, known in the kernel as name: its
// size and SHA-256.
func NewDataFile(name, path string) (DataFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return DataFile{}, fmt.Errorf("hash data file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return DataFile{}, fmt.Errorf("hash data file %s: %w", path, err)
	}
	return DataFile{Name: name, Path: path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Recorder writes a run's events, notebook and report in a directory as the
// events arrive. It implements team.Observer. Its methods may be called from
// several goroutines.
type Recorder struct {
	dir  string
	meta Meta
	now  func() time.Time

	mu        sync.Mutex
	f         *os.File
	mirror    io.Writer // also gets every line, when set
	startLine []byte
	err       error // the first write error
	closed    bool
	agents    []string
	cells     []nbCell
	steps     []*step
	figures   []string
	summary   string
	final     bool
	usage     map[string]team.Usage
	turns     int
	finished  *team.RunFinished
}

// step is a sub-task of the planner and the cells run for it.
type step struct {
	title      string
	start, end time.Time
	cells      []stepCell
}

type stepCell struct {
	index  int
	status string
}

// New creates dir if needed and starts recording a run in it: it creates
// events.jsonl (replacing any earlier one) with the run_started event
// holding meta, and an analysis.ipynb holding the task.
func New(dir string, meta Meta) (*Recorder, error) {
	return newRecorder(dir, meta, time.Now)
}

func newRecorder(dir string, meta Meta, now func() time.Time) (*Recorder, error) {
	if meta.Started.IsZero() {
		meta.Started = now()
	}
	if meta.Gateway != "" {
		meta.Gateway = jupyter.DisplayURL(meta.Gateway)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, EventsFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	r := &Recorder{dir: dir, meta: meta, now: now, f: f, usage: map[string]team.Usage{}}
	r.cells = []nbCell{{id: "task", kind: "markdown", source: r.taskMarkdown()}}
	line, err := marshal(runStartedJSON{header: header{TypeRunStarted, meta.Started}, Meta: meta})
	if err == nil {
		r.startLine = line
		err = r.writeLine(line)
	}
	if err == nil {
		err = r.writeNotebook()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record: %w", err)
	}
	return r, nil
}

// Dir returns the directory the Recorder writes in.
func (r *Recorder) Dir() string { return r.dir }

// Observe records e. It never panics; the first error writing a file is
// kept and returned by Close, and recording goes on. Streamed text
// (TextDelta, TextRestart) is not recorded. Events after Close are ignored.
func (r *Recorder) Observe(e team.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			r.keep(fmt.Errorf("record %T: panic: %v", e, p))
		}
	}()
	r.keep(r.observe(e))
}

func (r *Recorder) observe(e team.Event) error {
	switch e := e.(type) {
	case team.RunStarted:
		// New wrote run_started from Meta; the team's event only adds what
		// Meta lacked.
		r.agents = e.Agents
		if r.meta.Task == "" && e.Task != "" {
			r.meta.Task = e.Task
			r.cells[0].source = r.taskMarkdown()
			return r.writeNotebook()
		}
		return nil
	case team.TextDelta, team.TextRestart, team.Quoted:
		return nil
	case team.TurnStarted:
		r.turns = e.Turn
	case cell.Started:
		r.putCell(nbCell{id: cellID(e.Index), kind: "code", source: e.Code})
		return errors.Join(r.writeEvent(e), r.writeNotebook())
	case cell.Finished:
		r.cellFinished(e.Cell)
		return errors.Join(r.writeEvent(e), r.writeNotebook())
	case team.MessageDone:
		r.usage[e.Message.Agent] = r.usage[e.Message.Agent].Add(e.Message.Usage)
		if e.Message.Agent != r.stepAgent() {
			return r.writeEvent(e)
		}
		r.stepMessage(e.Message)
		return errors.Join(r.writeEvent(e), r.writeNotebook())
	case team.RunFinished:
		r.finished = &e
		r.endStep()
		return errors.Join(r.writeEvent(e), r.writeReport())
	}
	return r.writeEvent(e)
}

// Close finishes the recording: if the run never reported RunFinished it
// writes report.md marked as incomplete. It closes events.jsonl and returns
// the first error met while recording. Calling Close again returns the same
// error.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.closed = true
	if r.finished == nil {
		r.keep(r.writeReport())
	}
	if err := r.f.Sync(); err != nil {
		r.keep(fmt.Errorf("record: %w", err))
	}
	if err := r.f.Close(); err != nil {
		r.keep(fmt.Errorf("record: %w", err))
	}
	return r.err
}

func (r *Recorder) keep(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}

func (r *Recorder) encode(e team.Event) ([]byte, error) {
	var cost *float64
	if f, ok := e.(team.RunFinished); ok {
		if c, ok := r.Cost(f.Usage); ok {
			cost = &c
		}
	}
	return encodeEvent(e, r.now(), cost)
}

// writeEvent appends e's line to events.jsonl.
func (r *Recorder) writeEvent(e team.Event) error {
	line, err := r.encode(e)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return r.writeLine(line)
}

// Mirror has every line the Recorder writes to events.jsonl, from the
// run_started line on, written to w too: the --json stream, byte for byte
// the file's lines. Write errors on w are ignored.
func (r *Recorder) Mirror(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mirror = w
	w.Write(append(slices.Clip(r.startLine), '\n'))
}

// writeLine appends line and a newline in one write, so that a line is
// either whole or, if the process dies during the write, last and cut short.
func (r *Recorder) writeLine(line []byte) error {
	line = append(line, '\n')
	if r.mirror != nil {
		r.mirror.Write(line)
	}
	if _, err := r.f.Write(line); err != nil {
		return fmt.Errorf("record: write %s: %w", EventsFile, err)
	}
	return nil
}

func (r *Recorder) writeNotebook() error {
	b, err := renderNotebook(r.cells, r.meta)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return writeAtomic(r.dir, NotebookFile, b)
}

func (r *Recorder) writeReport() error {
	return writeAtomic(r.dir, ReportFile, []byte(r.report()))
}

// Cost returns the cost of the usage at the run's prices (see Meta.Cost).
func (r *Recorder) Cost(usage map[string]team.Usage) (float64, bool) {
	return r.meta.Cost(usage)
}

func (r *Recorder) taskMarkdown() string {
	var b strings.Builder
	b.WriteString("# Task\n\n")
	b.WriteString(strings.TrimSpace(r.meta.Task))
	if len(r.meta.Data) > 0 {
		b.WriteString("\n\n**Data:**\n")
		for _, d := range r.meta.Data {
			fmt.Fprintf(&b, "\n- `%s` (%s bytes)", d.Name, group(int(d.Size)))
		}
	}
	return b.String()
}

func cellID(index int) string { return "cell-" + strconv.Itoa(index) }

// source is the code of the cell with the given index.
func (r *Recorder) source(index int) string {
	for _, c := range r.cells {
		if c.id == cellID(index) {
			return c.source
		}
	}
	return ""
}

// putCell replaces the cell with c's id, or appends c.
func (r *Recorder) putCell(c nbCell) int {
	for i := range r.cells {
		if r.cells[i].id == c.id {
			r.cells[i] = c
			return i
		}
	}
	r.cells = append(r.cells, c)
	return len(r.cells) - 1
}

// addCell appends c, making its id unique.
func (r *Recorder) addCell(c nbCell) {
	base := c.id
	for n := 2; slices.ContainsFunc(r.cells, func(o nbCell) bool { return o.id == c.id }); n++ {
		c.id = base + "-" + strconv.Itoa(n)
	}
	r.cells = append(r.cells, c)
}

func (r *Recorder) cellFinished(c cell.Cell) {
	status := c.Status()
	var nc nbCell
	if status == cell.Skipped {
		lang := c.Language
		f := fence.For(c.Code)
		nc = nbCell{id: cellID(c.Index), kind: "markdown", source: fmt.Sprintf(
			"*Cell %d was skipped (%s).*\n\n%s%s\n%s\n%s", c.Index, skipReason(c), f, lang, strings.TrimRight(c.Code, "\n"), f)}
	} else {
		nc = nbCell{id: cellID(c.Index), kind: "code", source: c.Code, outputs: c.Outputs()}
		if c.Result != nil && c.Result.ExecutionCount > 0 {
			n := c.Result.ExecutionCount
			nc.count = &n
		}
	}
	i := r.putCell(nc)
	if note := cellNote(c); note != "" {
		id := cellID(c.Index) + "-note"
		r.cells = slices.DeleteFunc(r.cells, func(o nbCell) bool { return o.id == id })
		r.cells = slices.Insert(r.cells, i+1, nbCell{id: id, kind: "markdown", source: note})
	}
	r.figures = append(r.figures, c.FigureNames()...)
	if len(r.steps) == 0 {
		r.steps = append(r.steps, &step{start: r.meta.Started})
	}
	s := r.steps[len(r.steps)-1]
	s.cells = append(s.cells, stepCell{index: c.Index, status: string(status)})
}

func skipReason(c cell.Cell) string {
	if c.Skipped != "" {
		return c.Skipped
	}
	return "no result"
}

// cellNote explains a cell that did not finish normally, for the notebook.
func cellNote(c cell.Cell) string {
	switch c.Status() {
	case cell.Timeout:
		return fmt.Sprintf("*Cell %d timed out: the kernel was interrupted; the outputs above are those printed until then.*", c.Index)
	case cell.Interrupted:
		return fmt.Sprintf("*Cell %d was interrupted; the outputs above are those printed until then.*", c.Index)
	case cell.Failed:
		return fmt.Sprintf("*Cell %d failed: %s.*", c.Index, c.Failure())
	}
	if c.Result != nil && c.Result.Reconnected {
		return fmt.Sprintf("*The connection to the kernel dropped during cell %d and was restored: output printed at that moment may be missing above.*", c.Index)
	}
	return ""
}

// stepAgent is the agent whose messages are the steps and whose final
// message is the summary: Meta.StepAgent, else the planner.
func (r *Recorder) stepAgent() string {
	if r.meta.StepAgent != "" {
		return r.meta.StepAgent
	}
	return "planner"
}

// stepMessage starts a step with the step agent's message, or ends the
// analysis with its summary. A message that ran cells itself (the single
// agent of tool mode) reports them before it arrives: its step is put before
// them and takes them over.
func (r *Recorder) stepMessage(m team.Message) {
	r.endStep()
	if m.Final {
		r.final = true
		r.summary = m.Summary
		r.addCell(nbCell{id: "summary", kind: "markdown", source: "## Summary\n\n" + r.summary})
		return
	}
	n := len(r.steps) + 1
	title := strings.TrimSpace(m.Content)
	if title == "" && len(m.Cells) > 0 {
		title = "Run: " + firstLine(r.source(m.Cells[0]))
	}
	st := &step{title: title, start: r.now()}
	md := nbCell{id: "step-" + strconv.Itoa(n), kind: "markdown", source: fmt.Sprintf("## Step %d\n\n%s", n, title)}
	if len(m.Cells) == 0 {
		r.steps = append(r.steps, st)
		r.addCell(md)
		return
	}
	st.start = st.start.Add(-m.Duration) // the step began with the agent's turn
	own := map[int]bool{}
	for _, index := range m.Cells {
		own[index] = true
	}
	for _, prev := range r.steps {
		prev.cells = slices.DeleteFunc(prev.cells, func(c stepCell) bool {
			if own[c.index] {
				st.cells = append(st.cells, c)
				return true
			}
			return false
		})
	}
	r.steps = append(r.steps, st)
	at := slices.IndexFunc(r.cells, func(c nbCell) bool { return c.id == cellID(m.Cells[0]) })
	if at < 0 {
		r.addCell(md)
		return
	}
	r.cells = slices.Insert(r.cells, at, md)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// endStep marks the current step as ended now.
func (r *Recorder) endStep() {
	if len(r.steps) > 0 && r.steps[len(r.steps)-1].end.IsZero() {
		r.steps[len(r.steps)-1].end = r.now()
	}
}
