package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/localgw"
)

type serverOptions struct {
	ip      string
	port    int
	workdir string
}

func newServerCmd(io *console.IO) *cobra.Command {
	opts := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a local Jupyter gateway in the foreground for other shells and tools",
		Long: `Start the same local gateway that run and exec start when no --gateway-url is
set, and keep it in the foreground. It prints the export lines that point other
shells at it. Ctrl-C stops it and its kernels.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd.Context(), io, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ip, "ip", "127.0.0.1", "address to listen on")
	f.IntVar(&opts.port, "port", 0, "port to listen on (default: a free one)")
	f.StringVar(&opts.workdir, "workdir", "", "the kernels' working directory (default: the current directory)")
	return cmd
}

func runServer(ctx context.Context, io *console.IO, opts *serverOptions) error {
	if opts.port < 0 || opts.port > 65535 {
		return usageErrorf("--port must be between 0 and 65535, got %d", opts.port)
	}
	gw, err := localgw.Start(ctx, localgw.Options{IP: opts.ip, Port: opts.port, Workdir: opts.workdir})
	if err != nil {
		return err
	}
	defer gw.Stop()
	fmt.Fprintf(io.Err, "%s\n", gw.Describe())
	fmt.Fprintf(io.Out, "export %s=%s\nexport %s=%s\n", envGatewayURL, gw.URL, envGatewayToken, gw.Token)
	fmt.Fprintln(io.Err, "Ctrl-C stops it.")
	select {
	case <-ctx.Done():
		fmt.Fprintln(io.Err, "stopping the local gateway and its kernels")
		return nil
	case <-gw.Exited():
		return fmt.Errorf("the local gateway exited by itself")
	}
}
