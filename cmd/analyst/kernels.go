package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/jupyter"
)

func newKernelsCmd(io *console.IO) *cobra.Command {
	g := &gatewayFlags{}
	cmd := &cobra.Command{
		Use:   "kernels",
		Short: "List, start, delete and prune kernels on the gateway",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listKernels(cmd.Context(), io, g)
		},
	}
	g.register(cmd.PersistentFlags(), false)

	list := &cobra.Command{
		Use:   "list",
		Short: "List the gateway's kernels",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listKernels(cmd.Context(), io, g)
		},
	}
	start := &cobra.Command{
		Use:   "start",
		Short: "Start a kernel and print its id (and nothing else) on stdout",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := g.connect(cmd.Context(), io.Err)
			if err != nil {
				return err
			}
			k, err := c.StartKernel(cmd.Context(), g.startOptions("kernels-start"))
			if err != nil {
				return err
			}
			fmt.Fprintln(io.Out, k.ID)
			return nil
		},
	}
	rm := &cobra.Command{
		Use:   "rm ID [ID...]",
		Short: "Delete kernels",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("kernels rm needs at least one kernel id (see: analyst kernels list)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := g.connect(cmd.Context(), io.Err)
			if err != nil {
				return err
			}
			var errs []error
			for _, id := range args {
				if err := c.DeleteKernel(cmd.Context(), id); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(io.Out, id)
			}
			return errors.Join(errs...)
		},
	}
	var all bool
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Delete the kernels analyst started and left behind (or, with --all, every idle kernel)",
		Long: `Delete kernels left behind by analyst runs that could not clean up (kill -9, a
lost machine). analyst marks its kernels with KERNEL_USERNAME and
KERNEL_ANALYST_RUN; prune asks each idle kernel for that mark with a silent
probe and deletes those that carry it. Busy kernels are never touched.
With --all, every idle kernel is deleted without asking.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := g.connect(cmd.Context(), io.Err)
			if err != nil {
				return err
			}
			return pruneKernels(cmd.Context(), io, c, all)
		},
	}
	prune.Flags().BoolVar(&all, "all", false, "delete every idle kernel, not only analyst's")
	cmd.AddCommand(list, start, rm, prune)
	return cmd
}

func listKernels(ctx context.Context, io *console.IO, g *gatewayFlags) error {
	c, _, err := g.connect(ctx, io.Err)
	if err != nil {
		return err
	}
	ks, err := c.ListKernels(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCONNECTIONS\tLAST ACTIVITY")
	for _, k := range ks {
		last := "-"
		if !k.LastActivity.IsZero() {
			last = k.LastActivity.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", k.ID, k.Name, k.ExecutionState, k.Connections, last)
	}
	return tw.Flush()
}

// probeTimeout bounds the question put to each idle kernel by prune.
const probeTimeout = 10 * time.Second

// pruneKernels deletes idle kernels that carry analyst's mark, or every idle
// kernel with all.
func pruneKernels(ctx context.Context, io *console.IO, c *jupyter.Client, all bool) error {
	ks, err := c.ListKernels(ctx)
	if err != nil {
		return err
	}
	var errs []error
	deleted := 0
	for _, k := range ks {
		if k.ExecutionState == "busy" {
			continue
		}
		if !all {
			ours, err := isAnalysts(ctx, c, k.ID)
			if err != nil {
				fmt.Fprintf(io.Err, "analyst: skipped kernel %s: %s\n", k.ID, oneLine(err.Error()))
				continue
			}
			if !ours {
				continue
			}
		}
		if err := c.DeleteKernel(ctx, k.ID); err != nil && !errors.Is(err, jupyter.ErrKernelNotFound) {
			errs = append(errs, err)
			continue
		}
		deleted++
		fmt.Fprintln(io.Out, k.ID)
	}
	fmt.Fprintf(io.Err, "pruned %d kernel(s)\n", deleted)
	return errors.Join(errs...)
}

// isAnalysts asks the kernel whether it carries analyst's mark.
func isAnalysts(ctx context.Context, c *jupyter.Client, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	s, err := c.Connect(ctx, id, jupyter.SessionOptions{CellTimeout: probeTimeout})
	if err != nil {
		return false, err
	}
	defer s.Close()
	mark, err := s.Env(ctx, envKernelOwner)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(mark) != "", nil
}
