package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/internal/console"
)

// version is set by the build (-ldflags "-X main.version=v1.2.3"); otherwise
// the module's version from the build info is used.
var version = ""

// commit, commitDate and modified are set by scripts/build (-ldflags -X)
// where Go's own VCS stamp is missing: in a git worktree, which go build
// does not recognise.
var commit, commitDate, modified = "", "", ""

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
	ctx, io = guardPipes(ctx, io)
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
		Version:       versionText(debug.ReadBuildInfo()),
		// Settings of the config file fill the flags the command line
		// left unset.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyConfig(cmd.Flags())
		},
	}
	// --version has no shorthand: -v is --verbose wherever it exists.
	root.Flags().Bool("version", false, "print analyst's version, commit, date and Go version")
	root.SetVersionTemplate("{{.Version}}")
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newVersionCmd(io),
		newConfigCmd(io),
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

// versionText is what `analyst version` prints: the version, the commit
// and its date (when the build stamped them: go build in a git checkout),
// and the Go version and platform.
func versionText(bi *debug.BuildInfo, ok bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "analyst %s\n", buildVersion())
	rev, date, dirty := commit, commitDate, modified
	if ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				dirty = s.Value
			}
		}
	}
	switch {
	case rev == "":
		b.WriteString("commit: unknown (built without VCS stamping: use scripts/build)\n")
	case dirty == "true":
		fmt.Fprintf(&b, "commit: %s (with uncommitted changes)\n", rev)
	default:
		fmt.Fprintf(&b, "commit: %s\n", rev)
	}
	if date != "" {
		fmt.Fprintf(&b, "date: %s\n", date)
	}
	goVersion := runtime.Version()
	if ok && bi.GoVersion != "" {
		goVersion = bi.GoVersion
	}
	fmt.Fprintf(&b, "go: %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func newVersionCmd(io *console.IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print analyst's version, commit, date and Go version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(io.Out, versionText(debug.ReadBuildInfo()))
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
