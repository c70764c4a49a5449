package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/internal/batch"
	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/localgw"
)

// transcriptFile is the name of each task's console transcript.
const transcriptFile = "transcript.txt"

type batchOptions struct {
	// run holds the flags every task shares; a task's own settings override
	// its limits, model and mode.
	run  runOptions
	file string
	jobs int
	out  string
}

func newBatchCmd(io *console.IO) *cobra.Command {
	opts := &batchOptions{}
	cmd := &cobra.Command{
		Use:   "batch FILE",
		Short: "Run many analyses from a file and check their answers",
		Long: `Run every task of a batch file, each in its own kernel on one gateway, and
check each task's summary and cell outputs against the task's expectations.

FILE is YAML (a list of tasks, or tasks: [...]) or JSON Lines (.jsonl, one task
a line). A task has a name (its folder under --out), the task text, its data
files (relative to FILE's directory), optionally model, mode, max_turns,
timeout, max_tokens and cell_timeout, and expect: substrings, /regular
expressions/ or {regex: "..."} that the final summary or an executed cell's
output must contain.

Each task's records and its transcript.txt go to --out/<name>/; summary.json
and junit.xml go to --out.

Exit codes: 0 every task finished and met its expectations, 1 one did not,
2 usage error or a bad batch file, 130 interrupted (143 on SIGTERM).`,
		Example: `  analyst batch nightly.yaml -j 4 --out runs/nightly`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s takes one batch file, got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			return runBatch(cmd.Context(), io, opts)
		},
	}
	f := cmd.Flags()
	r := &opts.run
	r.register(f)
	completeModes(cmd)
	f.IntVarP(&opts.jobs, "jobs", "j", 1, "tasks run at once, each in its own kernel")
	f.StringVar(&opts.out, "out", "", "directory for the batch's records (default ./runs/batch-<UTC time>)")
	return cmd
}

// runBatch runs the batch's tasks, at most opts.jobs at once, and writes the
// summary files, also when interrupted.
func runBatch(ctx context.Context, io *console.IO, opts *batchOptions) error {
	if opts.jobs < 1 {
		return usageErrorf("--jobs must be at least 1, got %d", opts.jobs)
	}
	tasks, err := batch.Load(opts.file)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	started := time.Now()
	out := opts.out
	if out == "" {
		out = filepath.Join("runs", "batch-"+started.UTC().Format("20060102T150405Z"))
	}
	runs := make([]*runOptions, len(tasks))
	for i, t := range tasks {
		runs[i] = opts.taskOptions(t, filepath.Join(out, t.Name))
		if err := runs[i].validate(); err != nil {
			return err
		}
	}
	if err := opts.run.gateway.check(); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}

	// One local gateway serves every task when none is configured.
	if firstNonEmpty(opts.run.gateway.url, os.Getenv(envGatewayURL)) == "" {
		gw, err := localgw.Start(ctx, opts.run.gateway.localOptions())
		if err != nil {
			return fmt.Errorf("local gateway: %w", err)
		}
		defer gw.Stop()
		defer onSecondSignal(ctx, func(context.Context) { gw.Stop() })()
		describeLocal(io.Err, gw)
		for _, r := range runs {
			r.gateway.url, r.gateway.token, r.gateway.kernelEnv = gw.URL, gw.Token, nil
		}
	}

	b := &batchRun{io: io, st: io.ErrStyles(), board: console.NewBoard(io)}
	results := b.runAll(ctx, tasks, runs, opts.jobs)
	b.board.Close()
	b.table(results)
	if err := batch.WriteSummary(out, results); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if err := batch.WriteJUnit(out, results, time.Since(started)); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	fmt.Fprintf(io.Err, "records: %s (%s, %s, <task>/)\n", out, batch.SummaryFile, batch.JUnitFile)

	if _, ok := interruptedBy(ctx); ok {
		return &exitError{code: exitFailed, err: context.Cause(ctx)} // exitCode prints the signal and maps it
	}
	failed := 0
	for _, r := range results {
		if r.Status != batch.Passed {
			failed++
		}
	}
	if failed > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d tasks failed", failed, len(results))}
	}
	return nil
}

// runAll runs the tasks, jobs at a time, and returns their results in the
// tasks' order; a task not started when ctx ended is interrupted.
func (b *batchRun) runAll(ctx context.Context, tasks []batch.Task, runs []*runOptions, jobs int) []batch.Result {
	results := make([]batch.Result, len(tasks))
	for i, t := range tasks {
		results[i] = batch.Result{Name: t.Name, Status: batch.Interrupted, Reason: "interrupted"}
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, t := range tasks {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			b.board.Set(t.Name, "starting")
			runs[i].progress = b.board.Observer(t.Name)
			runs[i].cleanup = func(msg string) { b.board.Println(t.Name + ": " + msg) }
			results[i] = b.runTask(ctx, t, runs[i])
			b.board.Remove(t.Name)
			b.taskLine(results[i])
		})
	}
	wg.Wait()
	return results
}

// taskOptions are the options of one task's run: the shared flags with the
// task's own settings on top.
func (o *batchOptions) taskOptions(t batch.Task, dir string) *runOptions {
	r := o.run
	r.task, r.data, r.out, r.fresh = t.Task, t.Data, dir, true
	if t.Model != "" {
		r.model, r.plannerModel, r.writerModel = t.Model, "", ""
	}
	if t.Mode != "" {
		r.mode = t.Mode
	}
	if t.MaxTurns > 0 {
		r.maxTurns = t.MaxTurns
	}
	if t.Timeout > 0 {
		r.timeout = t.Timeout
	}
	if t.MaxTokens > 0 {
		r.maxTokens = t.MaxTokens
	}
	if t.CellTimeout > 0 {
		r.cellTimeout = t.CellTimeout
	}
	return &r
}

// batchRun is the state the tasks of a batch share: the console lines.
type batchRun struct {
	io *console.IO
	st console.Styles
	// board shows, on a terminal, a live line per task under way.
	board *console.Board
	mu    sync.Mutex
}

// runTask runs one task with its transcript in its folder, then checks its
// outcome against its expectations.
func (b *batchRun) runTask(ctx context.Context, t batch.Task, opts *runOptions) batch.Result {
	res := batch.Result{Name: t.Name, Records: opts.out}
	began := time.Now()
	out, err := b.runLogged(ctx, opts)
	res.Duration = time.Since(began)
	res.Turns = out.Turns
	total := out.Total()
	res.PromptTokens, res.CompletionTokens = total.PromptTokens, total.CompletionTokens
	if out.Priced {
		res.Cost = &out.Cost
	}
	if err == nil {
		err = outcomeError(ctx, out)
	}
	_, interrupted := interruptedBy(ctx)
	switch {
	case err == nil:
		res.Status = batch.Passed
		ev := batch.Evidence{Summary: out.Summary, Outputs: out.Outputs}
		if unmet := ev.Unmet(t.Expect); len(unmet) > 0 {
			res.Status, res.Reason = batch.Failed, unmetReason(unmet)
		}
	case interrupted:
		res.Status, res.Reason = batch.Interrupted, "interrupted"
	default:
		res.Status, res.Reason = batch.Failed, failReason(err, out)
	}
	return res
}

// runLogged runs the task with a console writing to its transcript file,
// and ends the transcript with the error, as run would print it.
func (b *batchRun) runLogged(ctx context.Context, opts *runOptions) (analysis.Outcome, error) {
	if err := os.MkdirAll(opts.out, 0o755); err != nil {
		return analysis.Outcome{}, err
	}
	f, err := os.Create(filepath.Join(opts.out, transcriptFile))
	if err != nil {
		return analysis.Outcome{}, err
	}
	defer f.Close()
	out, err := runAnalysis(ctx, console.Writers(f, f), opts)
	if ee := (*exitError)(nil); err != nil && (!errors.As(err, &ee) || ee.err != nil) {
		fmt.Fprintf(f, "analyst: %s\n", explain(err))
	}
	return out, err
}

// unmetReason names the expectations not found.
func unmetReason(unmet []batch.Expectation) string {
	quoted := make([]string, len(unmet))
	for i, e := range unmet {
		quoted[i] = fmt.Sprintf("%q", e.String())
	}
	return "expect " + strings.Join(quoted, ", ") + " not found"
}

// failReason says why a run that did not finish stopped: the limit, the
// error that ended it, or the error that kept it from starting.
func failReason(err error, out analysis.Outcome) string {
	var ee *exitError
	isExit := errors.As(err, &ee)
	switch {
	case isExit && ee.code == exitLimit:
		return "limit: " + string(out.Reason)
	case out.Err != nil:
		return "error: " + explain(out.Err)
	case isExit && ee.err == nil && out.Reason != "":
		return string(out.Reason)
	case isExit && ee.err == nil:
		return fmt.Sprintf("exit %d", ee.code)
	}
	return "error: " + explain(err)
}

// taskLine says on stderr how a task ended, as it ends.
func (b *batchRun) taskLine(r batch.Result) {
	secs := fmt.Sprintf("%.1fs", r.Duration.Seconds())
	switch r.Status {
	case batch.Passed:
		b.board.Println(fmt.Sprintf("%s %s  %s  %s", b.st.OK.Render("✓"), r.Name, secs, human.Plural(r.Turns, "turn")))
	case batch.Interrupted:
		b.board.Println(fmt.Sprintf("%s %s  %s  %s", b.st.Warning.Render("✗"), r.Name, secs, r.Reason))
	default:
		b.board.Println(fmt.Sprintf("%s %s  %s  %s", b.st.Error.Render("✗"), r.Name, secs, r.Reason))
	}
}

// table prints the summary table on stdout.
func (b *batchRun) table(results []batch.Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tTURNS\tTOKENS\tDURATION\tREASON")
	passed := 0
	for _, r := range results {
		if r.Status == batch.Passed {
			passed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1fs\t%s\n", r.Name, r.Status, r.Turns, r.PromptTokens+r.CompletionTokens, r.Duration.Seconds(), r.Reason)
	}
	tw.Flush()
	for line := range strings.Lines(buf.String()) {
		fmt.Fprintln(b.io.Out, strings.TrimRight(line, " \n"))
	}
	fmt.Fprintf(b.io.Out, "%d of %d passed\n", passed, len(results))
}
