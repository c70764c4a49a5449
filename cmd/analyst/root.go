package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/internal/console"
)

// version is set by the build (-ldflags "-X main.version=v1.2.3"); otherwise
// the module's version from the build info is used.
var version = ""

// run executes the command line and returns the process's exit code. Every
// error is printed here, once, as one line.
func run(ctx context.Context, args []string, io *console.IO) (code int) {
	// A panic in our code still unwinds through the commands' deferred
	// clean-ups (the kernel is deleted); the user gets one line, not a
	// stack trace.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(io.Err, "analyst: internal error: %v (please report it)\n", r)
			code = exitFailed
		}
	}()
	root := newRootCmd(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return exitCode(ctx, io.Err, err)
}

func newRootCmd(io *console.IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "analyst",
		Short: "Analyse data with an LLM team and a remote Jupyter kernel",
		Long: `analyst analyses data the way a person does in Jupyter: look at the data, think,
write the next cell. A planner splits the task into steps, a writer turns each
step into Python, and an executor runs it in a stateful Jupyter kernel served by
Jupyter Kernel Gateway, Jupyter Server or Jupyter Enterprise Gateway.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       buildVersion(),
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	root.AddCommand(
		newVersionCmd(io),
		newExecCmd(io),
		newKernelsCmd(io),
		newMCPCmd(io),
		newRunCmd(io),
		newServerCmd(io),
		newReplayCmd(io),
		newBatchCmd(io),
	)
	return root
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func newVersionCmd(io *console.IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print analyst's version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.Out.Write([]byte("analyst " + buildVersion() + "\n"))
			return err
		},
	}
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}
