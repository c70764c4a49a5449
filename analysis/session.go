package analysis

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/agents/executor"
	"github.com/analyst-dev/analyst/agents/planner"
	"github.com/analyst-dev/analyst/agents/toolagent"
	"github.com/analyst-dev/analyst/agents/writer"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/kernel"
	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// Mode is the architecture of the agents.
type Mode string

// The modes.
const (
	Team Mode = "team" // a planner, a writer and an executor take turns
	Tool Mode = "tool" // one agent calls an execute_code tool
)

// Prompts are the agents' rendered system prompts.
type Prompts struct {
	Planner, Writer, Tool string
}

// Models are the agents' models.
type Models struct {
	Planner, Writer, Tool chat.Model
}

// Options build a Session.
type Options struct {
	// Gateway connects to the gateway that runs the kernel; it is called in
	// the background, while the first LLM call is under way. stop, when not
	// nil, is called after the kernel is deleted (a local gateway is stopped
	// then).
	Gateway func(ctx context.Context) (c *jupyter.Client, stop func(), err error)
	// Start and Session say how the kernel is started and run.
	Start   jupyter.StartOptions
	Session jupyter.SessionOptions
	// Data are local files uploaded to the kernel's working directory, under
	// their base names, before the first cell runs; a different file of the
	// same name there is replaced only with ReplaceData. With DataDir, the
	// kernel works in a directory of the session's own (see
	// kernel.Options.DataDir).
	Data        []string
	ReplaceData bool
	DataDir     string
	// OnUpload, when set, sees the progress of the uploads of Data.
	OnUpload func(jupyter.UploadProgress)

	// LLM answers the agents; nil for a session without agents (Exec only).
	LLM     chat.Client
	Mode    Mode
	Models  Models
	Prompts Prompts
	// Limits bound each request.
	Limits team.Options
	// OutputCap is how many characters of a cell's output the LLM sees;
	// cell.DefaultCap when zero.
	OutputCap int
	// RebuildState re-runs the cells that succeeded after the kernel had to
	// be restarted, to bring its variables back.
	RebuildState bool

	// Out is the directory of the records; with none, Figures says where
	// figures go (nowhere when empty).
	Out     string
	Figures string
	// Meta is the run's configuration for the records and the cost.
	Meta record.Meta
	// Continue, when set, is the recording in Out (its events, read with
	// record.ReadEvents) that this session goes on from: the records are
	// added to, the conversation is restored, and Restore brings the
	// kernel's variables back.
	Continue []record.Event
	// Approve, when set, is asked before each cell runs (see
	// executor.Options.Approve); Note after each turn of the executor.
	Approve executor.Approver
	// Mirror, when set, gets every line of events.jsonl as it is written.
	Mirror io.Writer
	// Observers see the events as they happen (the console).
	Observers []team.Observer
	// OnKernel, when set, is told the kernel's id each time a kernel is
	// ready (the first, and one that replaced it), before any cell runs.
	OnKernel func(id string)
	// OnCleanup, when set, is told in a line what Close does about a
	// kernel whose start it cancelled before the gateway answered (see
	// kernel.Options.OnCleanup).
	OnCleanup func(msg string)
}

// ErrClosed is what Wait returns when Close ended the kernel's start before
// the kernel was ready.
var ErrClosed = kernel.ErrClosed

// Session is one analysis session. Its methods are not safe for concurrent
// use, except Abandon.
type Session struct {
	opts   Options
	obs    *serialObserver
	rec    *record.Recorder // nil without records
	kernel *kernel.Handle
	exec   *executor.Executor
	agents []team.Agent

	history []team.Message // the conversation of every request so far
	outputs outputLog      // the text of the cells of the request under way

	gwMu   sync.Mutex
	stopGW func()
}

// New creates the records, when opts.Out is set, and begins starting the
// kernel in the background. ctx bounds the kernel's start; Close deletes
// the kernel whatever happened. An error means the records could not be
// created; nothing was started then.
func New(ctx context.Context, opts Options) (*Session, error) {
	s := &Session{opts: opts}
	observers := append(team.Observers{&s.outputs}, opts.Observers...)
	figures := opts.Figures
	if opts.Out != "" {
		rec, err := openRecords(opts)
		if err != nil {
			return nil, err
		}
		if opts.Mirror != nil {
			rec.Mirror(opts.Mirror)
		}
		s.rec, figures = rec, opts.Out
		observers = append(observers, rec)
	}
	s.obs = &serialObserver{o: observers}
	s.kernel = kernel.Start(ctx, kernel.Options{
		Gateway:   s.connect,
		Start:     opts.Start,
		Session:   opts.Session,
		Files:     opts.Data,
		Replace:   opts.ReplaceData,
		DataDir:   opts.DataDir,
		Upload:    jupyter.UploadOptions{Progress: opts.OnUpload, Notice: s.notice},
		OnReady:   s.notice,
		OnKernel:  opts.OnKernel,
		OnCleanup: opts.OnCleanup,
	})
	var store cell.Store
	if figures != "" {
		store = &cell.FigureDir{Dir: figures}
	}
	s.exec = executor.New(s.kernel, executor.Options{
		Cap: opts.OutputCap, Figures: store, Writer: writer.Name, RebuildState: opts.RebuildState,
		First: lastCell(opts.Continue) + 1, Approve: opts.Approve,
	})
	s.history = conversation(opts.Continue)
	if opts.LLM != nil {
		s.agents = s.newAgents()
	}
	return s, nil
}

// openRecords starts the records in opts.Out, or goes on with those of the
// run being continued.
func openRecords(opts Options) (*record.Recorder, error) {
	if len(opts.Continue) > 0 {
		return record.Continue(opts.Out, opts.Continue, opts.Meta)
	}
	return record.New(opts.Out, opts.Meta)
}

// connect calls the Gateway option, keeping its stop function.
func (s *Session) connect(ctx context.Context) (*jupyter.Client, error) {
	c, stop, err := s.opts.Gateway(ctx)
	s.gwMu.Lock()
	s.stopGW = stop
	s.gwMu.Unlock()
	return c, err
}

// newAgents returns the agents of the session's mode.
func (s *Session) newAgents() []team.Agent {
	o := s.opts
	if o.Mode == Tool {
		return []team.Agent{toolagent.New(o.LLM, o.Models.Tool, o.Prompts.Tool, s.exec)}
	}
	return []team.Agent{
		planner.New(o.LLM, o.Models.Planner, o.Prompts.Planner),
		writer.New(o.LLM, o.Models.Writer, o.Prompts.Writer),
		s.exec,
	}
}

// Dir is the directory of the records, "" without records.
func (s *Session) Dir() string { return s.opts.Out }

// Wait blocks until the kernel is ready.
func (s *Session) Wait(ctx context.Context) error {
	_, err := s.kernel.Wait(ctx)
	return err
}

// Ask has the agents work on a request until they answer it or a limit
// stops them. A second request goes on from the first's conversation, on
// the same kernel. A kernel that fails to start ends the request at once.
func (s *Session) Ask(ctx context.Context, request string) Outcome {
	if s.agents == nil {
		return Outcome{Reason: team.StopError, Err: errors.New("analysis: the session has no LLM"), Dir: s.Dir()}
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go func() {
		if _, err := s.kernel.Wait(runCtx); err != nil && runCtx.Err() == nil {
			stop(err)
		}
	}()
	limits := s.opts.Limits
	limits.History = s.history
	out := team.Run(runCtx, request, s.agents, s.obs, limits)
	s.history = append(s.history, team.Message{Agent: team.UserAgent, Content: request})
	s.history = append(s.history, out.Messages...)
	return s.outcome(out)
}

// Exec runs code as the session's next cell, outside any request: the cell
// is shown to the observers and recorded under the given agent's name, its
// figures are saved, and a kernel that died is restarted. The error is not
// nil only when the kernel cannot go on.
func (s *Session) Exec(ctx context.Context, agent, code string) (cell.Cell, error) {
	return s.exec.RunCode(ctx, agent, code, s.obs.Observe)
}

// Cap is how many characters of a cell's output the LLM sees.
func (s *Session) Cap() int { return s.exec.Cap() }

// Notice tells the observers something.
func (s *Session) Notice(text string, warning bool) {
	s.obs.Observe(team.Notice{Text: text, Warning: warning})
}

// notice tells the observers a line of information.
func (s *Session) notice(text string) { s.Notice(text, false) }

// Restart restarts the kernel: its variables are lost and the data files
// are uploaded again.
func (s *Session) Restart(ctx context.Context) error { return s.kernel.Restart(ctx) }

// Upload copies a local file into the kernel's working directory as name;
// progress, when not nil, sees how far it came.
func (s *Session) Upload(ctx context.Context, path, name string, progress func(jupyter.UploadProgress)) error {
	js, err := s.kernel.Wait(ctx)
	if err != nil {
		return err
	}
	return js.UploadWith(ctx, path, name, jupyter.UploadOptions{Progress: progress, Notice: s.notice})
}

// Close deletes the kernel, also after ctx was cancelled, stops the local
// gateway if one was started, and finishes the records. A kernel start
// still under way is cancelled; a kernel the gateway launches for it within
// a few seconds is deleted too. It returns the first error; the records stay
// valid whatever happened.
func (s *Session) Close(ctx context.Context) error {
	err := s.kernel.Close(ctx)
	s.gwMu.Lock()
	if s.stopGW != nil {
		s.stopGW()
		s.stopGW = nil
	}
	s.gwMu.Unlock()
	s.obs.close()
	if s.rec != nil {
		err = errors.Join(err, s.rec.Close())
	}
	return err
}

// Abandon deletes the kernel without waiting for anything but ctx: the last
// resort when the process must exit now.
func (s *Session) Abandon(ctx context.Context) { s.kernel.Abandon(ctx) }

// serialObserver passes events on one at a time: the kernel's notices
// come from another goroutine than the agents' events, and may come late.
// Between a request's RunFinished and the next RunStarted, and after close,
// it passes nothing on.
type serialObserver struct {
	mu       sync.Mutex
	o        team.Observer
	finished bool
	closed   bool
}

func (s *serialObserver) Observe(e team.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.(type) {
	case team.RunStarted:
		s.finished = false
	case team.RunFinished:
		if s.finished {
			return
		}
		defer func() { s.finished = true }()
	}
	if !s.closed && !s.finished {
		s.o.Observe(e)
	}
}

func (s *serialObserver) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}
