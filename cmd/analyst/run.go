package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/analyst-dev/analyst/agents/chat"
	"github.com/analyst-dev/analyst/agents/executor"
	"github.com/analyst-dev/analyst/agents/planner"
	"github.com/analyst-dev/analyst/agents/toolagent"
	"github.com/analyst-dev/analyst/agents/writer"
	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/datafile"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/llm"
	"github.com/analyst-dev/analyst/internal/record"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/prompts"
	"github.com/analyst-dev/analyst/team"
)

// Environment variables read by run.
const (
	envAPIKey  = "OPENAI_API_KEY"
	envBaseURL = "OPENAI_BASE_URL"
	envModel   = "ANALYST_MODEL"
)

// envContextBudget is --context-budget's default.
const envContextBudget = "ANALYST_CONTEXT_BUDGET"

const defaultModel = "gpt-4o-mini"

// The architectures of a run.
const (
	modeTeam = "team" // planner, writer and executor in turn
	modeTool = "tool" // one agent with an execute_code tool
)

type runOptions struct {
	gateway      gatewayFlags
	task         string
	data         []string
	model        string
	plannerModel string
	writerModel  string
	temperature  optionalFloat
	topP         optionalFloat
	maxTurns     int
	timeout      time.Duration
	maxTokens    int
	cellTimeout  time.Duration
	outputCap    int
	maxOutput    int
	budget       int // --context-budget; validate resolves 0
	promptsDir   string
	out          string
	verbose      bool
	json         bool
	mode         string
	rebuildState bool
	llmRetries   int
	llmTimeout   time.Duration
	maxMessage   int
	priceIn      float64
	priceOut     float64
	// The conversation: follow-up requests, a run continued, a person
	// approving cells.
	interactive bool
	force       bool
	fresh       bool // the caller made --out for this run (a batch task)
	cont        string
	strict      bool
	approve     bool
	approveFrom string
	// progress, when set, also observes the run (a batch's status board);
	// cleanup, when set, is also told what closing the run does about a
	// kernel start it cancelled.
	progress team.Observer
	cleanup  func(msg string)
}

func newRunCmd(io *console.IO) *cobra.Command {
	opts := &runOptions{}
	var taskFile string
	cmd := &cobra.Command{
		Use:   "run --task TEXT [--data FILE]...",
		Short: "Analyse data: the planner, writer and executor work until the task is answered",
		Long: `Run the analysis team on a task. The planner splits the task into one sub-task
at a time, the writer turns each into Python, the executor runs it in a Jupyter
kernel and reports back, until the planner writes its summary and TERMINATION.

The LLM is any OpenAI-compatible server: set OPENAI_API_KEY and, for servers other
than OpenAI, OPENAI_BASE_URL (vLLM, Ollama, llama.cpp, DashScope, Azure OpenAI).

Exit codes: 0 the planner finished, 1 an error ended the run, 2 usage error,
3 a limit stopped it (turns, time, tokens), 4 the kernel died and could not be
restarted, 130 interrupted (143 on SIGTERM).`,
		Example: `  analyst run --task "Find the total sales for each region." --data examples/superstore.csv`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			task, err := readTask(io.In, opts.task, taskFile)
			if err != nil {
				return err
			}
			opts.task = task
			return runTeam(cmd.Context(), io, opts)
		},
	}
	f := cmd.Flags()
	opts.register(f)
	completeModes(cmd)
	f.StringVarP(&opts.task, "task", "t", "", "what to analyse (required; - reads it from standard input)")
	f.StringVar(&taskFile, "task-file", "", "read the task from FILE (- for standard input)")
	f.StringArrayVarP(&opts.data, "data", "d", nil, "local file to put in the kernel's working directory (repeatable)")
	f.StringVar(&opts.out, "out", "", "directory for the run's records: notebook, report, figures, events (default ./runs/<UTC time>-<task>)")
	f.BoolVar(&opts.json, "json", false, "stream the run's events as JSON lines on stdout (the transcript goes to stderr)")
	f.BoolVarP(&opts.interactive, "interactive", "i", false, "after the answer, ask for a follow-up request on the same kernel (one per line when standard input is no terminal)")
	f.StringVar(&opts.cont, "continue", "", "go on from the run in DIR: a fresh kernel gets its data and variables back, the conversation goes on, records are added to DIR")
	f.BoolVar(&opts.force, "force", false, "write into a non-empty --out, replacing the records of the run there")
	f.BoolVar(&opts.strict, "strict", false, "with --continue: stop if a recorded cell now fails or prints something else")
	f.BoolVar(&opts.approve, "approve", false, "ask before each cell runs: run, edit ($EDITOR), skip, or send feedback to the writer")
	f.StringVar(&opts.approveFrom, "approve-from", "", "the --approve answers from FILE, one a line: run, skip, edit FILE, feedback TEXT, note [TEXT]")
	return cmd
}

// register adds the flags every analysis has, whether run alone or in a
// batch: the gateway, the models, the limits and the records' prices.
func (opts *runOptions) register(f *pflag.FlagSet) {
	opts.gateway.register(f, true)
	f.StringVarP(&opts.model, "model", "m", "", "LLM model for every agent (env "+envModel+", default "+defaultModel+")")
	f.StringVar(&opts.plannerModel, "planner-model", "", "model for the planner (default --model)")
	f.StringVar(&opts.writerModel, "writer-model", "", "model for the writer (default --model)")
	f.Var(&opts.temperature, "temperature", "sampling temperature, 0-2 (default: the server's)")
	f.Var(&opts.topP, "top-p", "nucleus sampling, 0-1 (default: the server's)")
	f.IntVar(&opts.maxTurns, "max-turns", 30, "stop after this many agent turns")
	f.DurationVar(&opts.timeout, "timeout", 0, "stop after this much wall-clock time (0: no limit)")
	f.IntVar(&opts.maxTokens, "max-tokens", 0, "stop once the LLM has used this many tokens (0: no limit)")
	f.DurationVar(&opts.cellTimeout, "cell-timeout", 120*time.Second, "interrupt a cell after this long; the kernel keeps its state")
	f.IntVar(&opts.outputCap, "output-cap", cell.DefaultCap, "characters of each cell's output the LLM sees")
	f.IntVar(&opts.maxOutput, "max-output", 4<<20, "bytes of output kept per cell; the rest is counted and dropped")
	f.IntVar(&opts.budget, "context-budget", 0, fmt.Sprintf("most tokens of each LLM prompt (estimated, 4 characters a token); older steps are compacted to one line each (env %s, default %d)", envContextBudget, chat.DefaultBudget))
	f.StringVar(&opts.promptsDir, "prompts", "", "directory with planner.md / writer.md / tool.md overriding the built-in prompts")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "show each cell's code again when it runs")
	f.StringVar(&opts.mode, "mode", modeTeam, "team: planner, writer and executor take turns; tool: one agent calls an execute_code tool")
	f.BoolVar(&opts.rebuildState, "rebuild-state", false, "after the kernel died or was lost, re-run the cells that had succeeded to bring its variables back")
	f.IntVar(&opts.llmRetries, "llm-retries", 5, "retries of a failed LLM request (429, 5xx, dropped streams, timeouts)")
	f.DurationVar(&opts.llmTimeout, "llm-timeout", 2*time.Minute, "give up an LLM request (and retry it) when the server sends nothing for this long: before its first byte or between two (0: the default)")
	f.IntVar(&opts.maxMessage, "max-message", llm.DefaultMaxMessageBytes, "bytes of one LLM answer kept; a longer answer is cut there, and says so (0: the default)")
	f.Float64Var(&opts.priceIn, "price-in", 0, "USD per million prompt tokens, for the cost (default: list prices of well-known models)")
	f.Float64Var(&opts.priceOut, "price-out", 0, "USD per million completion tokens, for the cost")
}

// validate checks the options a person typed, before anything starts.
func (o *runOptions) validate() error {
	if strings.TrimSpace(o.task) == "" && !o.interactive {
		return usageErrorf("--task is empty: say what to analyse, e.g. --task \"total sales per region\"")
	}
	seen := map[string]string{}
	for _, d := range o.data {
		switch err := datafile.Usable(d); {
		case errors.Is(err, datafile.ErrDirectory):
			return usageErrorf("--data %s is a directory: pass its files one by one", d)
		case err != nil:
			return usageErrorf("--data %s: %s", d, err)
		}
		base := filepath.Base(d)
		if prev, ok := seen[base]; ok {
			return usageErrorf("--data %s and %s have the same name %q in the kernel: rename one", prev, d, base)
		}
		seen[base] = d
	}
	if err := checkCellLimits(o.cellTimeout, o.outputCap, o.maxOutput); err != nil {
		return err
	}
	if err := o.resolveBudget(); err != nil {
		return err
	}
	switch {
	case o.maxTurns <= 0:
		return usageErrorf("--max-turns must be at least 1, got %d", o.maxTurns)
	case o.timeout < 0:
		return usageErrorf("--timeout must not be negative, got %s", o.timeout)
	case o.maxTokens < 0:
		return usageErrorf("--max-tokens must not be negative, got %d", o.maxTokens)
	case o.temperature.set && (o.temperature.v < 0 || o.temperature.v > 2):
		return usageErrorf("--temperature must be between 0 and 2, got %g", o.temperature.v)
	case o.topP.set && (o.topP.v < 0 || o.topP.v > 1):
		return usageErrorf("--top-p must be between 0 and 1, got %g", o.topP.v)
	case o.mode != modeTeam && o.mode != modeTool:
		return usageErrorf("--mode must be %s or %s, got %q", modeTeam, modeTool, o.mode)
	case o.llmRetries < 0:
		return usageErrorf("--llm-retries must not be negative, got %d", o.llmRetries)
	case o.llmTimeout < 0: // 0: llm's default
		return usageErrorf("--llm-timeout must not be negative, got %s", o.llmTimeout)
	case o.maxMessage < 0: // 0: llm's default
		return usageErrorf("--max-message must not be negative, got %d", o.maxMessage)
	case !(o.priceIn >= 0 && o.priceOut >= 0) || math.IsInf(o.priceIn+o.priceOut, 0): // NaN too
		return usageErrorf("--price-in and --price-out must be numbers of USD, 0 or more, got %g and %g", o.priceIn, o.priceOut)
	}
	if err := checkPromptsDir(o.promptsDir); err != nil {
		return err
	}
	return checkLLMEnv()
}

// checkCellLimits checks the flags that bound a cell: --cell-timeout,
// --output-cap and --max-output.
func checkCellLimits(cellTimeout time.Duration, outputCap, maxOutput int) error {
	switch {
	case cellTimeout <= 0:
		return usageErrorf("--cell-timeout must be positive, got %s", cellTimeout)
	case outputCap <= 0:
		return usageErrorf("--output-cap must be positive, got %d", outputCap)
	case maxOutput <= 0:
		return usageErrorf("--max-output must be positive, got %d", maxOutput)
	}
	return nil
}

// checkOut refuses an --out that holds files, unless force: then the
// records analyst wrote there (and only those) are removed first.
func checkOut(dir string, force bool) error {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return nil // made or reported when the records start
	}
	if !force {
		return usageErrorf("--out %s is not empty: pass --continue %s to add to the run there, another --out, or --force to replace its records", dir, dir)
	}
	for _, e := range entries {
		if record.Ours(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return usageErrorf("--out %s: cannot remove %s: %s", dir, e.Name(), human.PathProblem(err))
			}
		}
	}
	return nil
}

// resolveBudget sets the context budget from the environment or the default
// when --context-budget was not given, and checks it.
func (o *runOptions) resolveBudget() error {
	if o.budget == 0 {
		o.budget = chat.DefaultBudget
		if v := os.Getenv(envContextBudget); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return usageErrorf("%s=%q is not a number of tokens", envContextBudget, v)
			}
			o.budget = n
		}
	}
	if o.budget < chat.MinBudget {
		return usageErrorf("--context-budget must be at least %d tokens, got %d", chat.MinBudget, o.budget)
	}
	return nil
}

func (o *runOptions) sampling(name string) chat.Model {
	m := chat.Model{Name: firstNonEmpty(name, o.model, os.Getenv(envModel), defaultModel), ContextBudget: o.budget}
	m.Temperature = o.temperature.ptr()
	m.TopP = o.topP.ptr()
	return m
}

func runTeam(ctx context.Context, io *console.IO, opts *runOptions) error {
	outcome, err := runAnalysis(ctx, io, opts)
	if err != nil {
		return err
	}
	return outcomeError(ctx, outcome)
}

// runAnalysis runs one analysis: it checks the options, builds the session
// with the console as its observer, asks it the task and closes it. The
// error is for what kept the analysis from starting; how it ended is in the
// Outcome.
func runAnalysis(ctx context.Context, io *console.IO, opts *runOptions) (analysis.Outcome, error) {
	sopts, err := opts.session(io)
	if err != nil {
		return analysis.Outcome{}, err
	}
	transcript := io.Out
	if opts.json {
		transcript = io.Err
		sopts.Mirror = io.Out
	}
	con := console.New(io, console.Options{Writer: transcript, Verbose: opts.verbose, Cost: sopts.Meta.Cost, Explain: explain})
	defer con.Close()
	opts.gateway.warn = con.Writer(io.Err)
	sopts.Observers = []team.Observer{con}
	if opts.progress != nil {
		sopts.Observers = append(sopts.Observers, opts.progress)
	}
	// The gateway's notices go through the console, which takes its
	// spinner off the line first; a cell that waits for the kernel says
	// so; a long cell's output shows under its spinner.
	sopts.Gateway = func(ctx context.Context) (*jupyter.Client, func(), error) {
		c, stop, err := opts.gateway.connect(ctx, con.Writer(io.Err))
		if err == nil {
			con.Phase("starting the kernel")
		}
		return c, stop, err
	}
	sopts.Session.OnOutput = con.Output
	sopts.OnUpload = con.Upload
	con.Phase("starting the gateway and the kernel")
	made := missingAncestor(sopts.Out)
	leases := &leaseSet{}
	sopts.OnKernel = leases.add
	sopts.OnCleanup = func(msg string) {
		notice(con.Writer(io.Err))(msg)
		if opts.cleanup != nil {
			opts.cleanup(msg)
		}
	}
	sess, err := analysis.New(ctx, sopts)
	var locked *record.ErrLocked
	switch {
	case errors.As(err, &locked):
		return analysis.Outcome{}, usageErrorf("%s is in use by another analyst (pid %d): wait for it to end", sopts.Out, locked.PID)
	case err != nil:
		return analysis.Outcome{}, usageErrorf("--out %s: cannot write the run's records there: %v", sopts.Out, errors.Unwrap(err))
	}
	go func() {
		_ = sess.Wait(ctx)
		con.Phase("")
	}()
	// A second signal while the session closes deletes the kernel at once.
	lastResort := onSecondSignal(ctx, sess.Abandon)
	defer func() {
		if err := sess.Close(ctx); err != nil {
			fmt.Fprintf(io.Err, "analyst: %s\n", explain(err))
		}
		leases.drop()
		lastResort()
		// A run whose kernel never started (an unreachable gateway) leaves
		// no folder behind: the error says all there is.
		if err := sess.Wait(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, analysis.ErrClosed) && ctx.Err() == nil && made != "" {
			os.RemoveAll(made)
			return
		}
		fmt.Fprintf(io.Err, "records: %s (%s, %s, %s, %s)\n", sopts.Out, record.NotebookFile, record.ReportFile, record.ReportHTMLFile, record.EventsFile)
	}()
	if len(sopts.Continue) > 0 {
		if _, err := sess.Restore(ctx, opts.strict); err != nil {
			return analysis.Outcome{}, err
		}
	}
	return converse(ctx, io, opts, sess), nil
}

// missingAncestor is the topmost directory of dir's path, dir included,
// that does not exist yet: what a run creates to hold its records. It is ""
// when dir exists.
func missingAncestor(dir string) string {
	missing := ""
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return missing
		}
		missing = d
		if parent := filepath.Dir(d); parent == d {
			return missing
		}
	}
}

// session turns the options into those of an analysis session.
func (opts *runOptions) session(io *console.IO) (analysis.Options, error) {
	if err := opts.validate(); err != nil {
		return analysis.Options{}, err
	}
	if err := opts.gateway.check(); err != nil {
		return analysis.Options{}, err
	}
	var resumed []record.Event
	if opts.cont != "" {
		events, data, err := continueRecording(opts.cont, opts.data)
		if err != nil {
			return analysis.Options{}, err
		}
		if opts.out != "" && filepath.Clean(opts.out) != filepath.Clean(opts.cont) {
			return analysis.Options{}, usageErrorf("--out %s and --continue %s differ: a continued run adds to its own folder", opts.out, opts.cont)
		}
		resumed, opts.data, opts.out = events, data, opts.cont
	} else if err := checkOut(opts.out, opts.force || opts.fresh); err != nil {
		return analysis.Options{}, err
	}
	dataDir, err := opts.gateway.dataDir(opts.data, opts.force, "run")
	if err != nil {
		return analysis.Options{}, err
	}
	var approve executor.Approver
	if opts.approve || opts.approveFrom != "" {
		a, err := newApprover(io, opts.approveFrom)
		if err != nil {
			return analysis.Options{}, err
		}
		approve = a
	}
	retries := opts.llmRetries
	if retries == 0 {
		retries = -1 // llm.Config: negative means none, zero the default
	}
	llmClient, err := llm.New(llm.Config{
		BaseURL:    os.Getenv(envBaseURL),
		APIKey:     os.Getenv(envAPIKey),
		MaxRetries: retries,
		Redactor:   opts.gateway.redactor(io.Err),

		StallTimeout:    opts.llmTimeout,
		MaxMessageBytes: opts.maxMessage,
	})
	if err != nil {
		return analysis.Options{}, &exitError{code: exitUsage, err: err}
	}
	agentPrompts, err := opts.prompts()
	if err != nil {
		return analysis.Options{}, &exitError{code: exitUsage, err: err}
	}
	started := time.Now()
	out := opts.out
	if out == "" {
		out = filepath.Join("runs", started.UTC().Format("20060102T150405Z")+"-"+slug(opts.task))
	}
	return analysis.Options{
		Start:        opts.gateway.startOptions("run-" + started.UTC().Format("20060102T150405Z")),
		Session:      jupyter.SessionOptions{CellTimeout: opts.cellTimeout, MaxOutputBytes: opts.maxOutput, Redact: opts.gateway.redactor(io.Err).Redact},
		Data:         opts.data,
		ReplaceData:  opts.force,
		DataDir:      dataDir,
		LLM:          llmClient,
		Mode:         analysis.Mode(opts.mode),
		Models:       analysis.Models{Planner: opts.sampling(opts.plannerModel), Writer: opts.sampling(opts.writerModel), Tool: opts.sampling("")},
		Prompts:      agentPrompts,
		Limits:       team.Options{MaxTurns: opts.maxTurns, Timeout: opts.timeout, MaxTokens: opts.maxTokens},
		OutputCap:    opts.outputCap,
		RebuildState: opts.rebuildState,
		Out:          out,
		Meta:         opts.meta(started),
		Continue:     resumed,
		Approve:      approve,
	}, nil
}

// prompts renders the agents' system prompts, telling them about the data
// files.
func (o *runOptions) prompts() (analysis.Prompts, error) {
	var p analysis.Prompts
	set, err := prompts.Load(o.promptsDir)
	if err != nil {
		return p, err
	}
	var files []prompts.File
	for _, d := range o.data {
		fi, err := os.Stat(d)
		if err != nil {
			return p, err
		}
		files = append(files, prompts.File{Name: filepath.Base(d), Size: fi.Size()})
	}
	pd := prompts.Data{Stop: planner.StopWord, Files: files}
	for name, dst := range map[string]*string{prompts.Planner: &p.Planner, prompts.Writer: &p.Writer, prompts.Tool: &p.Tool} {
		if *dst, err = set.Render(name, pd); err != nil {
			return p, err
		}
	}
	return p, nil
}

// meta is what the records say of the run's configuration: no secrets.
func (o *runOptions) meta(started time.Time) record.Meta {
	m := record.Meta{
		Task:    o.task,
		Models:  map[string]string{planner.Name: o.sampling(o.plannerModel).Name, writer.Name: o.sampling(o.writerModel).Name},
		Mode:    o.mode,
		Gateway: firstNonEmpty(o.gateway.url, os.Getenv(envGatewayURL), "local"),
		Kernel:  o.gateway.kernel,
		Version: buildVersion(),
		Started: started,
		Limits: map[string]string{
			"max-turns":      fmt.Sprint(o.maxTurns),
			"timeout":        o.timeout.String(),
			"max-tokens":     fmt.Sprint(o.maxTokens),
			"cell-timeout":   o.cellTimeout.String(),
			"output-cap":     fmt.Sprint(o.outputCap),
			"context-budget": fmt.Sprint(o.budget),
		},
		PriceIn:  o.priceIn,
		PriceOut: o.priceOut,
	}
	m.StepAgent = planner.Name
	if o.mode == modeTool {
		m.Models = map[string]string{toolagent.Name: o.sampling("").Name}
		m.StepAgent = toolagent.Name
	}
	for _, d := range o.data {
		if df, err := record.NewDataFile(filepath.Base(d), d); err == nil {
			m.Data = append(m.Data, df)
		}
	}
	return m
}

// slug makes a short file-name-safe label of the task for the run directory.
func slug(task string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(task) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "run"
	}
	return strings.TrimRight(b.String(), "-")
}

// outcomeError maps how the run ended to the command's exit code. The
// console has already shown the reason and any error, so none is printed
// again.
func outcomeError(ctx context.Context, o analysis.Outcome) error {
	var se signalError
	switch {
	case o.Reason == team.StopTerminated || o.Reason == noRequest:
		return nil
	case o.Reason.Limit():
		return &exitError{code: exitLimit}
	case o.KernelDied:
		return &exitError{code: exitKernelDied}
	case isBadKernelSpec(o.Err):
		return &exitError{code: exitUsage}
	case errors.As(o.Err, &se): // a request of an interactive run, ended by Ctrl-C
		return &exitError{code: se.code()}
	}
	if se, ok := interruptedBy(ctx); ok {
		return &exitError{code: se.code()}
	}
	return &exitError{code: exitFailed}
}

// optionalFloat is a flag value that can be left unset: then the LLM server's
// default applies.
type optionalFloat struct {
	v   float32
	set bool
}

func (f *optionalFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return fmt.Errorf("not a number")
	}
	f.v, f.set = float32(v), true
	return nil
}

func (f *optionalFloat) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatFloat(float64(f.v), 'g', -1, 32)
}

func (f *optionalFloat) Type() string { return "float" }

// ptr is the value for the request, nil when unset.
func (f *optionalFloat) ptr() *float32 {
	if !f.set {
		return nil
	}
	v := f.v
	return &v
}
