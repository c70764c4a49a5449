package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// completeModes completes --mode with the architectures of a run.
func completeModes(cmd *cobra.Command) {
	cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]cobra.Completion{
		cobra.CompletionWithDesc(modeTeam, "planner, writer and executor take turns"),
		cobra.CompletionWithDesc(modeTool, "one agent calls an execute_code tool"),
	}, cobra.ShellCompDirectiveNoFileComp))
}

// completionTimeout bounds the gateway request behind a completion: a shell
// waiting on Tab must not hang on an unreachable gateway.
const completionTimeout = 3 * time.Second

// completeKernelIDs completes kernel ids from the gateway g names (flags,
// environment or config file), with each kernel's name and state. It never
// starts a local gateway; without a reachable gateway it offers nothing.
func completeKernelIDs(g *gatewayFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		none := cobra.ShellCompDirectiveNoFileComp
		if applyConfig(cmd.Flags()) != nil {
			return nil, none
		}
		c, err := g.client()
		if err != nil {
			return nil, none
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		ks, err := c.ListKernels(ctx)
		if err != nil {
			return nil, none
		}
		var out []cobra.Completion
		for _, k := range ks {
			if strings.HasPrefix(k.ID, toComplete) {
				out = append(out, cobra.CompletionWithDesc(k.ID, fmt.Sprintf("%s, %s", k.Name, k.ExecutionState)))
			}
		}
		return out, none
	}
}
