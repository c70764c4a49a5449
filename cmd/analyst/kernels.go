package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/termsafe"
	"github.com/analyst-dev/analyst/jupyter"
)

func newKernelsCmd(io *console.IO) *cobra.Command {
	g := &gatewayFlags{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "kernels",
		Short: "List, start, delete and prune kernels on the gateway",
		Long: `List, start, delete and prune the kernels of the gateway named by --gateway-url
or JUPYTER_GATEWAY_URL. Where a command takes kernel ids, a unique prefix of an
id will do (the transcript prints the first 8 characters).

Exit codes: 0 ok, 1 the gateway refused or failed (a kernel could not be
started or deleted), 2 usage error (no gateway, an unknown or ambiguous kernel
id, an unknown kernel spec), 130 interrupted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listKernels(cmd.Context(), io, g, asJSON)
		},
	}
	g.register(cmd.PersistentFlags(), false)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the kernels as a JSON array")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the gateway's kernels",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listKernels(cmd.Context(), io, g, asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the kernels as a JSON array: id, name, execution_state, connections, last_activity")
	cmd.AddCommand(list, newKernelsStartCmd(io, g), newKernelsRmCmd(io, g), newKernelsPruneCmd(io, g))
	return cmd
}

func listKernels(ctx context.Context, io *console.IO, g *gatewayFlags, asJSON bool) error {
	c, _, err := g.connect(ctx, io.Err)
	if err != nil {
		return err
	}
	ks, err := c.ListKernels(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeKernelsJSON(io.Out, ks)
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCONNECTIONS\tLAST ACTIVITY")
	for _, k := range ks {
		last := "-"
		if !k.LastActivity.IsZero() {
			last = k.LastActivity.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", termsafe.Line(k.ID), termsafe.Line(k.Name), termsafe.Line(k.ExecutionState), k.Connections, last)
	}
	return tw.Flush()
}

// probeTimeout bounds the question put to each kernel by prune; an
// interrupted kernel first ends its cell, and gets interruptedProbeTimeout.
const (
	probeTimeout            = 30 * time.Second
	interruptedProbeTimeout = 60 * time.Second
)

// pruneOptions are the flags of kernels prune.
type pruneOptions struct {
	all    bool // every idle kernel, not only analyst's
	dryRun bool // say which, delete none
	yes    bool // --all without asking
}

// pruneKernels deletes idle kernels that carry analyst's mark, or every idle
// kernel with all (after asking, unless yes).
func pruneKernels(ctx context.Context, io *console.IO, c *jupyter.Client, opts pruneOptions) error {
	ask := opts.all && !opts.dryRun && !opts.yes
	if ask && !(isTerminal(io.In) && io.ErrTTY()) {
		return usageErrorf("--all deletes every idle kernel on the gateway, also other people's: add --yes to confirm, or --dry-run to see which")
	}
	ks, err := c.ListKernels(ctx)
	if err != nil {
		return err
	}
	if ask {
		if err := confirmPruneAll(io, ks); err != nil {
			return err
		}
	}
	var errs []error
	deleted := 0
	verb := "pruned"
	if opts.dryRun {
		verb = "would prune"
	}
	for _, k := range ks {
		switch {
		case opts.all && k.ExecutionState == "busy":
			continue
		case !opts.all:
			if why := orphan(ctx, c, k); why != "" {
				if why != notOurs {
					fmt.Fprintf(io.Err, "analyst: kept kernel %s: %s\n", termsafe.Line(k.ID), termsafe.Line(why))
				}
				continue
			}
		}
		if opts.dryRun {
			deleted++
			fmt.Fprintln(io.Out, termsafe.Line(k.ID))
			continue
		}
		if !opts.all {
			if dir := removeRunData(ctx, c, k.ID); dir != "" {
				fmt.Fprintf(io.Err, "analyst: removed %s, the data directory of kernel %s\n", termsafe.Line(dir), termsafe.Line(k.ID))
			}
		}
		if err := c.DeleteKernel(ctx, k.ID); err != nil && !errors.Is(err, jupyter.ErrKernelNotFound) {
			errs = append(errs, err)
			continue
		}
		removeLease(k.ID)
		deleted++
		fmt.Fprintln(io.Out, termsafe.Line(k.ID))
	}
	fmt.Fprintf(io.Err, "%s %d kernel(s)\n", verb, deleted)
	return errors.Join(errs...)
}

// confirmPruneAll asks on the terminal before --all deletes every idle
// kernel.
func confirmPruneAll(io *console.IO, ks []jupyter.Kernel) error {
	idle := 0
	for _, k := range ks {
		if k.ExecutionState != "busy" {
			idle++
		}
	}
	if idle == 0 {
		return nil
	}
	fmt.Fprintf(io.Err, "Delete %s on the gateway, also other people's? [y/N] ", human.Plural(idle, "idle kernel"))
	answer, _ := bufio.NewReader(io.In).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return usageErrorf("nothing deleted")
}

// isTerminal reports whether r is a terminal a person can answer on.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// kernelJSON is a kernel as kernels list --json prints it: the gateway's
// own field names.
type kernelJSON struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	ExecutionState string  `json:"execution_state"`
	Connections    int     `json:"connections"`
	LastActivity   *string `json:"last_activity"`
}

// writeKernelsJSON prints the kernels as a JSON array, one kernel a line.
func writeKernelsJSON(w io.Writer, ks []jupyter.Kernel) error {
	out := make([]kernelJSON, len(ks))
	for i, k := range ks {
		out[i] = kernelJSON{ID: k.ID, Name: k.Name, ExecutionState: k.ExecutionState, Connections: k.Connections}
		if !k.LastActivity.IsZero() {
			t := k.LastActivity.UTC().Format(time.RFC3339Nano)
			out[i].LastActivity = &t
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// resolveKernelID finds the kernel a full id or a unique prefix names. A
// gateway that does not list its kernels gets the id as given.
func resolveKernelID(ctx context.Context, c *jupyter.Client, prefix string) (string, error) {
	if strings.TrimSpace(prefix) == "" {
		return "", usageErrorf("empty kernel id (see: analyst kernels list)")
	}
	ks, err := c.ListKernels(ctx)
	if errors.Is(err, jupyter.ErrListingDisabled) {
		return prefix, nil
	}
	if err != nil {
		return "", err
	}
	var matches []string
	for _, k := range ks {
		if k.ID == prefix {
			return k.ID, nil
		}
		if strings.HasPrefix(k.ID, prefix) {
			matches = append(matches, k.ID)
		}
	}
	switch len(matches) {
	case 0:
		return "", usageErrorf("no kernel %q on the gateway (see: analyst kernels list)", prefix)
	case 1:
		return matches[0], nil
	}
	return "", usageErrorf("kernel id %q is ambiguous: it begins %s; give more of it", prefix, strings.Join(matches, ", "))
}

// notOurs is why prune keeps a kernel analyst did not start.
const notOurs = "not analyst's"

// orphan says why prune must keep the kernel, "" when it is an orphan of
// analyst's to delete: it carries analyst's mark, no client is connected,
// its owner process is gone, and no person started it on purpose. A busy
// kernel nobody is connected to (its run was killed mid-cell) is
// interrupted first, so that the probe gets its turn.
func orphan(ctx context.Context, c *jupyter.Client, k jupyter.Kernel) string {
	if k.Connections > 0 {
		return "in use (a client is connected)"
	}
	// A busy kernel cannot be asked. One whose lease says it is a dead
	// analyst's is interrupted first, whatever state the server reports
	// (Jupyter Server and Kernel Gateway 2 may report a kernel in a cell as
	// idle or starting); any other is never interrupted on a guess.
	wait := probeTimeout
	switch owner := leaseOwner(k.ID); {
	case owner != "" && ownerAlive(owner):
		return "its analyst (" + owner + ") is still running"
	case owner != "":
		if err := c.InterruptKernel(ctx, k.ID); err != nil {
			return "the interrupt failed: " + oneLine(err.Error())
		}
		wait = interruptedProbeTimeout
	case k.ExecutionState == "busy":
		return "busy, and not known to be analyst's"
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	s, err := c.Connect(ctx, k.ID, jupyter.SessionOptions{CellTimeout: wait})
	if err != nil {
		return "cannot ask it: " + oneLine(err.Error())
	}
	defer s.Close()
	label, err := s.Env(ctx, envKernelOwner)
	if err != nil {
		return "cannot ask it: " + oneLine(err.Error())
	}
	owner, err := s.Env(ctx, envKernelProcess)
	switch {
	case err != nil:
		return "cannot ask it: " + oneLine(err.Error())
	case label == "":
		return notOurs
	case label == keptLabel:
		return "started on purpose with kernels start (delete it with kernels rm)"
	case ownerAlive(owner):
		return "its analyst (" + owner + ") is still running"
	}
	return ""
}

// removeRunData removes the run's own data directory (see dataDir) that an
// orphan of analyst's works in, and returns its path: a run killed on a
// remote gateway leaves its data files there. A kernel working anywhere
// else is left as it is, and so is one that does not answer: "" then.
func removeRunData(ctx context.Context, c *jupyter.Client, id string) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	s, err := c.Connect(ctx, id, jupyter.SessionOptions{CellTimeout: probeTimeout})
	if err != nil {
		return ""
	}
	defer s.Close()
	cwd, err := s.Cwd(ctx)
	if err != nil || !strings.HasPrefix(cwd, "/") || path.Base(path.Dir(cwd)) != runsDir {
		return ""
	}
	if s.RemoveAll(ctx, cwd) != nil {
		return ""
	}
	return cwd
}

// newKernelsStartCmd is `kernels start`.
func newKernelsStartCmd(io *console.IO, g *gatewayFlags) *cobra.Command {
	start := &cobra.Command{
		Use:   "start",
		Short: "Start a kernel and print its id (and nothing else) on stdout",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := g.connect(cmd.Context(), io.Err)
			if err != nil {
				return err
			}
			k, err := c.StartKernel(cmd.Context(), g.startOptions(keptLabel))
			if err != nil {
				// A kept kernel is never pruned: a person deletes it.
				later := "`analyst kernels list` shows it and `analyst kernels rm` deletes it"
				return withReclaim(cmd.Context(), err, notice(io.Err), later)
			}
			fmt.Fprintln(io.Out, termsafe.Line(k.ID))
			return nil
		},
	}
	return start
}

// newKernelsRmCmd is `kernels rm`.
func newKernelsRmCmd(io *console.IO, g *gatewayFlags) *cobra.Command {
	rm := &cobra.Command{
		Use:   "rm ID [ID...]",
		Short: "Delete kernels (a unique prefix of an id will do)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("kernels rm needs at least one kernel id (see: analyst kernels list)")
			}
			return nil
		},
		ValidArgsFunction: completeKernelIDs(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := g.connect(cmd.Context(), io.Err)
			if err != nil {
				return err
			}
			ids := make([]string, len(args))
			for i, arg := range args {
				if ids[i], err = resolveKernelID(cmd.Context(), c, arg); err != nil {
					return err
				}
			}
			var errs []error
			for _, id := range ids {
				if err := c.DeleteKernel(cmd.Context(), id); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(io.Out, id)
			}
			return errors.Join(errs...)
		},
	}
	return rm
}

// newKernelsPruneCmd is `kernels prune`.
func newKernelsPruneCmd(io *console.IO, g *gatewayFlags) *cobra.Command {
	var popts pruneOptions
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Delete the kernels analyst started and left behind (or, with --all, every idle kernel)",
		Long: `Delete kernels left behind by analyst runs that could not clean up (kill -9, a
lost machine). analyst marks its kernels with KERNEL_USERNAME,
KERNEL_ANALYST_RUN and KERNEL_ANALYST_PROCESS (host:pid). prune deletes a
kernel only when no client is connected to it, it carries the mark, its
analyst process is gone (checked on this host; elsewhere the connections
tell), and it was not started on purpose with kernels start. A busy orphan
(its run killed mid-cell) is interrupted first.
--dry-run prints the ids it would delete and deletes nothing.

With --all, every idle kernel is deleted, also other people's on a shared
gateway: prune asks for confirmation on a terminal, and needs --yes otherwise.

Exit codes: 0 ok, 1 a kernel could not be deleted, 2 usage error (--all
without --yes and no terminal to ask, or the answer was not yes), 130
interrupted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := g.connect(cmd.Context(), io.Err)
			if err != nil {
				return err
			}
			return pruneKernels(cmd.Context(), io, c, popts)
		},
	}
	prune.Flags().BoolVar(&popts.all, "all", false, "delete every idle kernel, not only analyst's (asks first; see --yes)")
	prune.Flags().BoolVar(&popts.dryRun, "dry-run", false, "print the ids of the kernels that would be deleted, and delete none")
	prune.Flags().BoolVarP(&popts.yes, "yes", "y", false, "do not ask before --all deletes every idle kernel")
	return prune
}
