package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/kernel"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/jupyter"
)

type execOptions struct {
	gateway  gatewayFlags
	kernelID string
	timeout  time.Duration // --cell-timeout
	file     string
	out      string
	maxBytes int
}

func newExecCmd(io *console.IO) *cobra.Command {
	opts := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec [flags] [-f FILE | CODE | -]",
		Short: "Run Python code in a kernel and print its output",
		Long: `Run code in a Jupyter kernel and print what it outputs, as a person expects:
text as it is, images as a line naming the file they were saved to.

With --kernel-id the code runs in that kernel, which is kept. Otherwise a fresh
kernel runs it and is deleted afterwards.

Exit codes: 0 ok, 1 the code raised (traceback shown), 2 usage error,
4 the kernel died, 124 the cell timed out (kernel interrupted, state kept),
130 interrupted.`,
		Example: `  analyst exec 'print(1 + 2)'
  analyst exec -f analysis.py --kernel-id 5f1c
  echo 'import sys; print(sys.version)' | analyst exec -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code, err := readCode(io.In, opts.file, args)
			if err != nil {
				return err
			}
			return runExec(cmd.Context(), io, opts, code)
		},
	}
	f := cmd.Flags()
	opts.gateway.register(f, true)
	f.StringVar(&opts.kernelID, "kernel-id", "", "run in this existing kernel (kept afterwards); a unique prefix of its id will do")
	cmd.RegisterFlagCompletionFunc("kernel-id", completeKernelIDs(&opts.gateway))
	f.DurationVar(&opts.timeout, "cell-timeout", 120*time.Second, "interrupt the cell after this long; the kernel keeps its state")
	// --timeout is the old name of --cell-timeout, kept for scripts.
	f.DurationVar(&opts.timeout, "timeout", 120*time.Second, "")
	f.MarkHidden("timeout")
	f.StringVarP(&opts.file, "file", "f", "", "read the code from FILE")
	f.StringVar(&opts.out, "out", "", "directory for images (default: a new temporary directory)")
	f.IntVar(&opts.maxBytes, "max-output", 4<<20, "bytes of output kept per cell; the rest is counted and dropped")
	return cmd
}

// maxCode bounds the code read for one cell: a kernel's messages are
// limited (10 MiB on Jupyter's servers), and reading /dev/zero must end.
const maxCode = 4 << 20

// readCode takes the code from exactly one of -f FILE, the argument, or
// standard input ("-").
func readCode(stdin io.Reader, file string, args []string) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", usageErrorf("give the code either with -f or as an argument, not both")
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", usageErrorf("-f %s: %s", file, human.PathProblem(err))
		}
		defer f.Close()
		return readBounded(f, "-f "+file)
	case len(args) == 0:
		return "", usageErrorf("no code: pass CODE, -f FILE, or - to read standard input")
	case args[0] == "-":
		return readBounded(stdin, "standard input")
	}
	return args[0], nil
}

// readBounded reads the code of a cell from r, what names r, up to maxCode.
func readBounded(r io.Reader, what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCode+1))
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // "is a directory", without Go's "read /etc: "
	}
	switch {
	case err != nil:
		return "", usageErrorf("%s: %s", what, human.PathProblem(err))
	case len(b) > maxCode:
		return "", usageErrorf("%s holds more than %d MiB: a cell's code is at most that", what, maxCode>>20)
	}
	return string(b), nil
}

func runExec(ctx context.Context, io *console.IO, opts *execOptions, code string) error {
	if opts.timeout <= 0 {
		return usageErrorf("--cell-timeout must be positive, got %s", opts.timeout)
	}
	if opts.maxBytes <= 0 {
		return usageErrorf("--max-output must be positive, got %d", opts.maxBytes)
	}
	if opts.kernelID != "" && opts.gateway.url == "" && os.Getenv(envGatewayURL) == "" {
		return usageErrorf("--kernel-id needs --gateway-url or %s: which gateway holds the kernel?", envGatewayURL)
	}
	// On a terminal, a status line on stderr says what exec waits for;
	// everything printed goes through the console, which takes the status
	// off its line first. Pipes get the output alone.
	con := console.New(io, console.Options{})
	defer con.Close()
	out, errOut := con.Writer(io.Out), con.Writer(io.Err)
	con.Phase("starting the gateway")
	client, stopGateway, err := opts.gateway.connect(ctx, errOut)
	if err != nil {
		return err
	}
	defer stopGateway()
	id := opts.kernelID
	if id != "" {
		if id, err = resolveKernelID(ctx, client, id); err != nil {
			return err
		}
	}
	// Without --kernel-id, start starts a fresh kernel to run the code in
	// (its id goes to id), and remove deletes the kernel id names and says
	// whether it is gone.
	start := func() error {
		con.Phase("starting the kernel")
		k, err := client.StartKernel(ctx, opts.gateway.startOptions("exec"))
		if err != nil {
			return withReclaim(ctx, err, notice(errOut), kernel.PruneLater)
		}
		id = k.ID
		return nil
	}
	remove := func() bool {
		if id == "" {
			return true // replaced, and its successor did not start
		}
		con.Phase("deleting the kernel")
		defer con.Phase("")
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		err := client.DeleteKernel(dctx, id)
		if err != nil {
			fmt.Fprintf(errOut, "analyst: %s\n", explain(err))
		}
		return err == nil || errors.Is(err, jupyter.ErrKernelNotFound)
	}
	if id == "" {
		if err := start(); err != nil {
			return err
		}
		defer remove()
	}
	p := &execPrinter{io: io, out: out, err: errOut, figs: &figureDir{dir: opts.out}}
	sopts := jupyter.SessionOptions{CellTimeout: opts.timeout, MaxOutputBytes: opts.maxBytes,
		Redact: opts.gateway.redactor(errOut).Redact, OnOutput: p.output}
	s, err := client.Connect(ctx, id, sopts)
	if errors.Is(err, jupyter.ErrNoAnswer) && opts.kernelID == "" && ctx.Err() == nil && remove() {
		// A fresh kernel that never answers is replaced once, as
		// internal/kernel does for run; one that could not be deleted
		// is not (the deferred remove tries again).
		notice(errOut)(fmt.Sprintf("kernel %.8s did not answer; deleted it, starting another", id))
		id = ""
		if err := start(); err != nil {
			return err
		}
		s, err = client.Connect(ctx, id, sopts)
	}
	if err != nil {
		return err
	}
	defer s.Close()

	con.Phase("running the cell")
	res, err := s.Execute(ctx, code)
	con.Phase("")
	if res != nil {
		p.finish(res)
	}
	switch {
	case errors.Is(err, jupyter.ErrKernelDied):
		return &exitError{code: exitKernelDied, err: err}
	case err != nil:
		return err
	case p.saveErr != nil:
		return p.saveErr
	case res.TimedOut:
		return &exitError{code: exitTimeout, err: fmt.Errorf("the cell timed out after %s; the kernel was interrupted and its state kept", opts.timeout)}
	case res.Canceled:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted; the kernel was interrupted and its state kept")}
	case res.Error != nil || res.Status == "error":
		return &exitError{code: exitFailed}
	}
	return nil
}

// execPrinter prints a cell's outputs as they arrive: streams to stdout or
// stderr as they are, rich outputs as text, images saved under its figure
// directory; at the end, what was dropped and the traceback, on stderr.
type execPrinter struct {
	io       *console.IO
	out, err io.Writer // io.Out and io.Err, through the console
	figs     *figureDir
	saveErr  error // the first image that could not be saved
}

// output prints one output; it is the session's OnOutput.
func (p *execPrinter) output(o jupyter.Output) {
	io := p.io
	switch o.Type {
	case "stream":
		w := p.out
		if o.Name == "stderr" {
			w = p.err
		}
		fmt.Fprint(w, plain(o.Text, io.ColorOut()))
	case "error":
	default:
		c := cell.Cell{Index: 1, Result: &jupyter.Result{Outputs: []jupyter.Output{o}}}
		if errs := c.SaveFigures(p.figs); len(errs) > 0 {
			if p.saveErr == nil {
				p.saveErr = errs[0]
			}
			return
		}
		if f, ok := c.Figure(0); ok {
			fmt.Fprintf(p.out, "[%s saved to %s]\n", f.Kind(), filepath.Join(p.figs.dir, f.Name))
			return
		}
		if s, ok := o.Data["text/plain"].(string); ok {
			fmt.Fprintln(p.out, strings.TrimRight(plain(s, io.ColorOut()), "\n"))
		}
	}
}

// finish prints what follows the outputs: the bytes dropped and the
// traceback.
func (p *execPrinter) finish(res *jupyter.Result) {
	io := p.io
	if res.DroppedBytes > 0 {
		fmt.Fprintf(p.err, "… %d bytes of output dropped (raise --max-output to keep more)\n", res.DroppedBytes)
	}
	if e := res.Error; e != nil {
		fmt.Fprintln(p.err, plain(strings.Join(e.Traceback, "\n"), io.ColorErr()))
	}
}

// figureDir saves exec's images in dir, or in a temporary directory made
// when the first image arrives.
type figureDir struct {
	dir  string
	figs *cell.FigureDir
}

func (d *figureDir) SaveFigure(im cell.Image) (string, error) {
	if d.figs == nil {
		if d.dir == "" {
			dir, err := os.MkdirTemp("", "analyst-exec-")
			if err != nil {
				return "", fmt.Errorf("image directory: %w", err)
			}
			d.dir = dir
		}
		d.figs = &cell.FigureDir{Dir: d.dir}
	}
	return d.figs.SaveFigure(im)
}

// plain makes kernel output safe for a terminal: colour codes are kept if
// the stream shows colour and stripped otherwise; every other control
// character is shown, not obeyed.
func plain(s string, color bool) string {
	if color {
		return termsafe.Colored(s)
	}
	return termsafe.String(jupyter.StripANSI(s))
}
