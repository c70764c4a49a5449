package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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

// ours matches the names of the files a Recorder writes.
var ours = regexp.MustCompile(`^(` + regexp.QuoteMeta(EventsFile) + `|` + regexp.QuoteMeta(NotebookFile) + `|` + regexp.QuoteMeta(ReportFile) + `|` + regexp.QuoteMeta(ReportHTMLFile) +
	`|\.analysis\.ipynb\.(twin|swap)|figure-[0-9]+\.(png|jpg|gif|svg|bin))$`)

// Ours reports whether a file of a records directory is one a Recorder
// writes (events, notebook, report, figures).
func Ours(name string) bool { return ours.MatchString(name) }

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
//
// Its cost per event does not grow with the run: events.jsonl is appended
// to, the notebook's finished cells are written once (see nbFile) and their
// outputs are not kept in memory, and report.md, which holds no outputs, is
// rewritten when a request ends. Every file is whole after a kill -9 at any
// moment, but events.jsonl's last line, which may be cut short.
type Recorder struct {
	dir  string
	meta Meta
	now  func() time.Time

	mu         sync.Mutex
	f          *os.File // events.jsonl
	nb         *nbFile
	unlock     func()
	mirror     io.Writer // also gets every line, when set
	startLine  []byte
	err        error // the first write error
	closed     bool
	rebuilding bool // Continue replays the recorded events: nothing is written
	agents     []string
	cells      []nbCell
	requests   []*request
	steps      int // steps so far, for the notebook's numbering
	usage      map[string]team.Usage
	turns      int // turns of the requests that finished
	turn       int // the current request's turn
	// outs and line are buffers reused from one cell to the next: a
	// cell's outputs encoded, its cell_finished line.
	outs encodedOutputs
	line []byte
}

// request is one request of the run and what became of it.
type request struct {
	text     string
	started  time.Time
	begun    bool
	steps    []*step
	figures  []string
	summary  string
	final    bool
	finished *team.RunFinished
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
// holding meta, and an analysis.ipynb holding the task. It holds the
// directory's lock until Close: a second Recorder in the same directory
// fails with an *ErrLocked.
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
	r, err := open(dir, meta, now, os.O_TRUNC)
	if err != nil {
		return nil, err
	}
	r.cells = []nbCell{{id: "task", kind: "markdown", source: r.taskMarkdown()}}
	r.requests = []*request{{text: meta.Task, started: meta.Started}}
	line, err := marshal(runStartedJSON{header: header{TypeRunStarted, meta.Started}, Meta: meta})
	if err == nil {
		r.startLine = line
		err = r.writeLine(line)
	}
	if err == nil {
		r.nb, err = newNBFile(dir, meta, r.cells)
	}
	if err != nil {
		r.release()
		return nil, fmt.Errorf("record: %w", err)
	}
	return r, nil
}

// open locks dir, creating it if needed, and opens its events.jsonl for
// appending, with flag (os.O_TRUNC to start afresh). It never follows a
// symbolic link there.
func open(dir string, meta Meta, now func() time.Time, flag int) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	unlock, err := lock(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, EventsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND|noFollow|flag, 0o644)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("record: %w", err)
	}
	return &Recorder{dir: dir, meta: meta, now: now, f: f, unlock: unlock, usage: map[string]team.Usage{}}, nil
}

// release closes the files of a Recorder that failed to start.
func (r *Recorder) release() {
	r.f.Close()
	if r.nb != nil {
		r.nb.live.Close()
		r.nb.twin.Close()
	}
	r.unlock()
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
		return r.requestStarted(e)
	case team.TextDelta, team.TextRestart, team.Quoted:
		return nil
	case team.TurnStarted:
		r.turn = e.Turn
	case cell.Started:
		r.putCell(nbCell{id: cellID(e.Index), kind: "code", source: e.Code})
		return errors.Join(r.writeEvent(e), r.writeNotebook(false))
	case cell.Finished:
		// The outputs are encoded once, for both files.
		if err := r.outs.encode(e.Cell.Outputs()); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		// A cell of the step agent's own (tool mode) gets its step put
		// before it when the agent's message arrives, so it is written
		// again then; any other is final, written once and forgotten.
		final := e.Agent != r.stepAgent()
		i := r.cellFinished(e.Cell, r.outs.notebook)
		err := errors.Join(r.writeCellFinished(e, r.outs.events), r.writeNotebook(final))
		if i >= r.frozenCells() || r.rebuilding {
			// Not written for good: the next cell's outputs go in the
			// buffer.
			r.cells[i].outputs = bytes.Clone(r.cells[i].outputs)
		}
		return err
	case team.MessageDone:
		r.usage[e.Message.Agent] = r.usage[e.Message.Agent].Add(e.Message.Usage)
		if e.Message.Agent != r.stepAgent() {
			return r.writeEvent(e)
		}
		r.stepMessage(e.Message)
		return errors.Join(r.writeEvent(e), r.writeNotebook(true))
	case team.RunFinished:
		req := r.cur()
		req.finished = &e
		r.turns += e.Turns
		r.turn = 0
		r.endStep()
		return errors.Join(r.writeEvent(e), r.writeReport())
	}
	return r.writeEvent(e)
}

// requestStarted begins a request: the run's task, or a follow-up, which
// gets a heading of its own in the notebook.
func (r *Recorder) requestStarted(e team.RunStarted) error {
	r.agents = e.Agents
	req := r.cur()
	switch {
	case req.begun:
		req = &request{text: e.Task, started: e.Time}
		if req.started.IsZero() {
			req.started = r.now()
		}
		r.requests = append(r.requests, req)
		n := len(r.requests)
		r.addCell(nbCell{id: "request-" + strconv.Itoa(n), kind: "markdown", source: fmt.Sprintf("# Request %d\n\n%s", n, strings.TrimSpace(e.Task))})
	case r.meta.Task == "" && e.Task != "":
		r.meta.Task, req.text = e.Task, e.Task
		r.cells[0].source = r.taskMarkdown()
	}
	req.begun = true
	j := requestStartedJSON{header: header{TypeRequestStarted, e.Time}, Number: len(r.requests), Request: req.text}
	if e.Time.IsZero() {
		j.Time = r.now()
	}
	line, err := marshal(j)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return errors.Join(r.writeLine(line), r.writeNotebook(true))
}

// cur is the request under way, or the last one.
func (r *Recorder) cur() *request { return r.requests[len(r.requests)-1] }

// Close finishes the recording: it writes run_finished, with the totals of
// every request, when one finished (else report.md says the run is
// incomplete), closes the files and releases the directory. It returns the
// first error met while recording. Calling Close again returns the same
// error.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	if last := r.lastFinished(); last != nil {
		r.keep(r.runFinished(last))
	}
	r.keep(r.writeReport())
	r.closed = true
	if err := r.f.Sync(); err != nil {
		r.keep(fmt.Errorf("record: %w", err))
	}
	if err := r.f.Close(); err != nil {
		r.keep(fmt.Errorf("record: %w", err))
	}
	if r.nb != nil {
		r.keep(r.nb.close())
	}
	r.unlock()
	return r.err
}

// lastFinished is the end of the last request that finished.
func (r *Recorder) lastFinished() *team.RunFinished {
	for _, req := range slices.Backward(r.requests) {
		if req.finished != nil {
			return req.finished
		}
	}
	return nil
}

// runFinished writes the run_finished line: the last request's reason and
// error, the turns and usage of all, the wall time since the run started.
func (r *Recorder) runFinished(last *team.RunFinished) error {
	e := team.RunFinished{Reason: last.Reason, Err: last.Err, Turns: r.turns, Usage: r.usage, Duration: r.now().Sub(r.meta.Started)}
	var cost *float64
	if c, ok := r.Cost(e.Usage); ok {
		cost = &c
	}
	line, err := marshal(runFinishedJSON{
		header: header{TypeRunFinished, r.now()}, Reason: string(e.Reason), Turns: e.Turns,
		Usage: e.Usage, Total: total(e.Usage), Cost: cost, DurationMS: e.Duration.Milliseconds(), Error: errText(e.Err),
	})
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return r.writeLine(line)
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
	return encodeEvent(e, r.now(), cost, len(r.requests))
}

// writeEvent appends e's line to events.jsonl.
func (r *Recorder) writeEvent(e team.Event) error {
	line, err := r.encode(e)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return r.writeLine(line)
}

// writeCellFinished appends e's line to events.jsonl, with its outputs
// encoded already.
func (r *Recorder) writeCellFinished(e cell.Finished, outputs []byte) error {
	if r.rebuilding {
		return nil
	}
	line, err := appendCellFinished(r.line[:0], e, r.now(), outputs)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	r.line = line
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
	if r.rebuilding {
		return nil
	}
	line = append(line, '\n')
	if r.mirror != nil {
		r.mirror.Write(line)
	}
	if _, err := r.f.Write(line); err != nil {
		return fmt.Errorf("record: write %s: %w", EventsFile, err)
	}
	return nil
}

// writeNotebook writes the notebook's new cells; with final, they are
// frozen after: written for good, their outputs no longer kept.
func (r *Recorder) writeNotebook(final bool) error {
	if r.rebuilding || r.nb == nil {
		return nil
	}
	if err := r.nb.write(r.cells); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if final {
		r.nb.freeze(len(r.cells))
		for i := range r.nb.frozen {
			r.cells[i].outputs, r.cells[i].source = nil, ""
		}
	}
	return nil
}

func (r *Recorder) writeReport() error {
	if r.rebuilding {
		return nil
	}
	// One view for both files: they show the same moment.
	v := r.view()
	page, err := r.reportHTML(v)
	if err != nil {
		return err
	}
	return errors.Join(writeAtomic(r.dir, ReportFile, []byte(reportMarkdown(v))), writeAtomic(r.dir, ReportHTMLFile, page))
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

func (r *Recorder) cellFinished(c cell.Cell, outputs []byte) int {
	status := c.Status()
	var nc nbCell
	if status == cell.Skipped {
		lang := c.Language
		f := fence.For(c.Code)
		nc = nbCell{id: cellID(c.Index), kind: "markdown", source: fmt.Sprintf(
			"*Cell %d was skipped (%s).*\n\n%s%s\n%s\n%s", c.Index, skipReason(c), f, lang, strings.TrimRight(c.Code, "\n"), f)}
	} else {
		nc = nbCell{id: cellID(c.Index), kind: "code", source: c.Code, outputs: outputs}
		if c.Result != nil && c.Result.ExecutionCount > 0 {
			n := c.Result.ExecutionCount
			nc.count = &n
		}
		if status == cell.Error {
			// Run All and nbconvert go on past a cell that raised, as the
			// analysis did.
			nc.tags = []string{"raises-exception"}
		}
	}
	i := r.putCell(nc)
	if note := cellNote(c); note != "" {
		id := cellID(c.Index) + "-note"
		r.cells = slices.DeleteFunc(r.cells, func(o nbCell) bool { return o.id == id })
		r.cells = slices.Insert(r.cells, i+1, nbCell{id: id, kind: "markdown", source: note})
	}
	req := r.cur()
	req.figures = append(req.figures, c.FigureNames()...)
	if len(req.steps) == 0 {
		req.steps = append(req.steps, &step{start: req.started})
	}
	s := req.steps[len(req.steps)-1]
	s.cells = append(s.cells, stepCell{index: c.Index, status: string(status)})
	return i
}

func skipReason(c cell.Cell) string {
	if c.Skipped != "" {
		return c.Skipped
	}
	return "no result"
}

// cellNote explains a cell that did not finish normally, or that a person
// edited, for the notebook.
func cellNote(c cell.Cell) string {
	note := cellEnd(c)
	if c.Edited {
		edited := fmt.Sprintf("*Cell %d was edited by a person before it ran.*", c.Index)
		if note == "" {
			return edited
		}
		return edited + "\n\n" + note
	}
	return note
}

// cellEnd explains how a cell that did not finish normally ended.
func cellEnd(c cell.Cell) string {
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
	req := r.cur()
	if m.Final {
		req.final = true
		req.summary = m.Summary
		r.addCell(nbCell{id: "summary", kind: "markdown", source: "## Summary\n\n" + summaryText(req.summary)})
		return
	}
	r.steps++
	n := r.steps
	title := strings.TrimSpace(m.Content)
	if title == "" && len(m.Cells) > 0 {
		title = "Run: " + firstLine(r.source(m.Cells[0]))
	}
	st := &step{title: title, start: r.now()}
	md := nbCell{id: "step-" + strconv.Itoa(n), kind: "markdown", source: fmt.Sprintf("## Step %d\n\n%s", n, title)}
	if len(m.Cells) == 0 {
		req.steps = append(req.steps, st)
		r.addCell(md)
		return
	}
	st.start = st.start.Add(-m.Duration) // the step began with the agent's turn
	own := map[int]bool{}
	for _, index := range m.Cells {
		own[index] = true
	}
	for _, prev := range req.steps {
		prev.cells = slices.DeleteFunc(prev.cells, func(c stepCell) bool {
			if own[c.index] {
				st.cells = append(st.cells, c)
				return true
			}
			return false
		})
	}
	req.steps = append(req.steps, st)
	at := slices.IndexFunc(r.cells, func(c nbCell) bool { return c.id == cellID(m.Cells[0]) })
	if at < r.frozenCells() {
		r.addCell(md)
		return
	}
	r.cells = slices.Insert(r.cells, at, md)
}

// frozenCells is how many of the notebook's first cells are written for
// good: no cell goes before them.
func (r *Recorder) frozenCells() int {
	if r.nb == nil {
		return 0
	}
	return r.nb.frozen
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
	steps := r.cur().steps
	if len(steps) > 0 && steps[len(steps)-1].end.IsZero() {
		steps[len(steps)-1].end = r.now()
	}
}

// Continue opens the records of an earlier run in dir, whose events were
// read with ReadEvents, to add to them: the notebook and report are
// rebuilt from the events, events.jsonl gets a run_continued line holding
// meta (this run's configuration) and the new events after it. A last line
// that the earlier process left cut short (it was killed while writing) is
// dropped first. The run's task, data and start stay the earlier run's.
func Continue(dir string, events []Event, meta Meta) (*Recorder, error) {
	return continueRecorder(dir, events, meta, time.Now)
}

func continueRecorder(dir string, events []Event, meta Meta, now func() time.Time) (*Recorder, error) {
	if len(events) == 0 || events[0].Type != TypeRunStarted {
		return nil, errors.New("record: the events do not start with run_started")
	}
	first := events[0].Meta
	meta.Task, meta.Data, meta.Started = first.Task, first.Data, first.Started
	if meta.Gateway != "" {
		meta.Gateway = jupyter.DisplayURL(meta.Gateway)
	}
	r, err := open(dir, meta, now, 0)
	if err != nil {
		return nil, err
	}
	if err := dropTornLine(filepath.Join(dir, EventsFile)); err != nil {
		r.release()
		return nil, fmt.Errorf("record: %w", err)
	}
	r.cells = []nbCell{{id: "task", kind: "markdown", source: r.taskMarkdown()}}
	r.requests = []*request{{text: meta.Task, started: meta.Started}}
	r.rebuilding = true
	// Recordings made before requests were recorded end their one request
	// with run_finished.
	requests := slices.ContainsFunc(events, func(e Event) bool { return e.Type == TypeRequestStarted })
	for _, e := range events[1:] {
		if e.Type == TypeRunFinished && !requests {
			e.Type = TypeRequestFinished
		}
		if te, ok := e.teamEvent(); ok {
			r.keep(r.observe(te))
		}
	}
	r.rebuilding = false
	if r.err != nil {
		r.release()
		return nil, r.err
	}
	// The last request is over, however it ended: the new one starts
	// afresh.
	r.cur().begun = true
	line, err := marshal(struct {
		header
		Meta
	}{header{TypeRunContinued, now()}, meta})
	if err == nil {
		r.startLine = line
		err = r.writeLine(line)
	}
	if err == nil {
		r.nb, err = newNBFile(dir, meta, r.cells)
	}
	if err == nil {
		r.nb.freeze(len(r.cells))
		for i := range r.cells {
			r.cells[i].outputs, r.cells[i].source = nil, ""
		}
	}
	if err != nil {
		r.release()
		return nil, fmt.Errorf("record: %w", err)
	}
	return r, nil
}

// dropTornLine cuts a last line without a newline off the file: what a
// process killed while writing it left.
func dropTornLine(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(b) == 0 || b[len(b)-1] == '\n' {
		return nil
	}
	return os.Truncate(path, int64(bytes.LastIndexByte(b, '\n')+1))
}

// teamEvent turns a recorded event back into the event it recorded, for
// rebuilding a Recorder's state.
func (e Event) teamEvent() (team.Event, bool) {
	switch e.Type {
	case TypeRequestStarted:
		return team.RunStarted{Task: e.Request, Time: e.Time}, true
	case TypeTurnStarted:
		return team.TurnStarted{Turn: e.Turn, Agent: e.Agent}, true
	case TypeCellStarted:
		return cell.Started{Agent: e.Agent, Index: e.Index, Language: e.Language, Code: e.Code}, true
	case TypeCellFinished:
		return e.Record.Finished(), true
	case TypeNotice:
		return team.Notice{Text: e.Text, Warning: e.Warning}, true
	case TypeMessage:
		return team.MessageDone{Turn: e.Turn, Message: e.Message()}, true
	case TypeRequestFinished:
		return team.RunFinished{Reason: team.StopReason(e.Reason), Turns: e.Turns, Usage: e.AgentUsage, Duration: e.Duration, Err: cell.RecordedErr(e.Err)}, true
	}
	return nil, false
}

// Message is a message event's message.
func (e Event) Message() team.Message {
	return team.Message{Agent: e.Agent, Content: e.Content, Usage: e.Usage, Final: e.Final, Next: e.Next, Cells: e.Cells, Summary: e.Summary, Duration: e.Duration}
}
