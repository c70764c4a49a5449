package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/datafile"
	"github.com/analyst-dev/analyst/internal/replay"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

type replayOptions struct {
	gateway     gatewayFlags
	data        []string
	out         string
	cellTimeout time.Duration
}

func newReplayCmd(io *console.IO) *cobra.Command {
	opts := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay DIR|events.jsonl",
		Short: "Re-run a recorded analysis in a fresh kernel and check its outputs",
		Long: `Re-run the code cells of a recorded run in a fresh kernel, with its data files,
showing the recorded LLM messages alongside. No LLM is called. Each cell's
output is compared with the recording (text, rich text, which images, errors).

Exit codes: 0 every cell ran and matched, 1 a cell differed or failed,
2 usage error, 130 interrupted.`,
		Example: `  analyst replay runs/20261124T101500Z-total-sales-per-region
  analyst replay examples/superstore-session`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("replay needs one run directory or events.jsonl")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd.Context(), io, opts, args[0])
		},
	}
	f := cmd.Flags()
	opts.gateway.register(f, true)
	f.StringArrayVarP(&opts.data, "data", "d", nil, "use this file for the recorded data file of the same name (repeatable)")
	f.StringVar(&opts.out, "out", "", "keep the figures of the replay in this directory (default: a temporary directory, removed at the end)")
	f.DurationVar(&opts.cellTimeout, "cell-timeout", 120*time.Second, "interrupt a cell after this long")
	return cmd
}

// load checks the options and reads the recording at path, with the data
// files found for it.
func (opts *replayOptions) load(path string) (s *replay.Session, files, warnings []string, err error) {
	if opts.cellTimeout <= 0 {
		return nil, nil, nil, usageErrorf("--cell-timeout must be positive, got %s", opts.cellTimeout)
	}
	for _, d := range opts.data {
		var access *datafile.AccessError
		switch err := datafile.Usable(d); {
		case errors.As(err, &access) || errors.Is(err, datafile.ErrDirectory):
			return nil, nil, nil, usageErrorf("--data %s: not a readable file", d)
		case err != nil:
			return nil, nil, nil, usageErrorf("--data %s: %s", d, err)
		}
	}
	if err := opts.gateway.check(); err != nil {
		return nil, nil, nil, err
	}
	s, err = replay.Load(path)
	if err == nil {
		err = s.Complete()
	}
	if err == nil {
		files, warnings, err = s.DataFiles(opts.data)
	}
	if err != nil {
		return nil, nil, nil, &exitError{code: exitUsage, err: err}
	}
	return s, files, warnings, nil
}

func runReplay(ctx context.Context, io *console.IO, opts *replayOptions, path string) error {
	s, files, warnings, err := opts.load(path)
	if err != nil {
		return err
	}
	out := opts.out
	if out == "" {
		// The figures are needed only to compare them; without --out
		// they go once the replay ends.
		if out, err = os.MkdirTemp("", "analyst-replay-"); err != nil {
			return err
		}
		defer os.RemoveAll(out)
	}

	con := console.New(io, console.Options{})
	defer con.Close()
	con.Observe(team.RunStarted{Task: s.Meta.Task})
	for _, w := range warnings {
		con.Observe(team.Notice{Text: w, Warning: true})
	}
	dataDir, err := opts.gateway.dataDir(nil, false, "replay")
	if err != nil {
		return err
	}
	con.Phase("starting the gateway and the kernel")
	sess, err := analysis.New(ctx, analysis.Options{
		Gateway: func(ctx context.Context) (*jupyter.Client, func(), error) {
			return opts.gateway.connect(ctx, con.Writer(io.Err))
		},
		Start:     opts.gateway.startOptions("replay"),
		Session:   jupyter.SessionOptions{CellTimeout: opts.cellTimeout, Redact: opts.gateway.redactor(con.Writer(io.Err)).Redact, OnOutput: con.Output},
		Data:      files,
		OnUpload:  con.Upload,
		DataDir:   dataDir,
		Figures:   out,
		Observers: []team.Observer{con},
	})
	if err != nil {
		return err
	}
	lastResort := onSecondSignal(ctx, sess.Abandon)
	defer func() {
		if err := sess.Close(ctx); err != nil {
			fmt.Fprintf(io.Err, "analyst: %s\n", explain(err))
		}
		lastResort()
	}()
	err = sess.Wait(ctx)
	con.Phase("")
	if err != nil {
		return err
	}

	began := time.Now()
	rep, err := s.Rerun(ctx, sess,
		func(agent, content string) { con.Observe(team.Quoted{Agent: agent, Content: content}) },
		func(diff string) { sess.Notice(diff, true) })
	if err != nil && ctx.Err() == nil {
		return err
	}
	if se, ok := interruptedBy(ctx); ok {
		return &exitError{code: se.code(), err: errors.New("interrupted; the kernel was deleted")}
	}
	fmt.Fprintf(io.Out, "\nreplayed %d cells in %s: %d matched, %d differ\n", rep.Ran, time.Since(began).Round(time.Millisecond), rep.Matched, len(rep.Differ))
	if opts.out != "" {
		fmt.Fprintf(io.Err, "figures: %s\n", out)
	}
	if len(rep.Differ) > 0 {
		return &exitError{code: exitFailed, err: errors.New(strings.Join(rep.Differ, "; "))}
	}
	return nil
}
