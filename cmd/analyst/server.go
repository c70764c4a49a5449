package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/internal/localgw"
)

type serverOptions struct {
	ip       string
	port     int
	workdir  string
	certFile string
	keyFile  string
	// kernelEnv names variables the kernels get on purpose.
	kernelEnv []string
}

func newServerCmd(io *console.IO) *cobra.Command {
	opts := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a local Jupyter gateway in the foreground for other shells and tools",
		Long: `Start the same local gateway that run and exec start when no --gateway-url is
set, and keep it in the foreground. It prints the export lines that point other
shells at it. Ctrl-C stops it and its kernels.

Exit codes: 1 the gateway could not start or exited by itself, 2 usage error,
130 stopped by Ctrl-C (143 on SIGTERM), as every command that is interrupted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd.Context(), io, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ip, "ip", "127.0.0.1", "address to listen on")
	f.IntVar(&opts.port, "port", 0, "port to listen on (default: a free one)")
	f.StringVar(&opts.workdir, "workdir", "", "the kernels' working directory (default: the current directory)")
	f.StringVar(&opts.certFile, "certfile", "", "serve https/wss with this PEM certificate (with --keyfile)")
	f.StringVar(&opts.keyFile, "keyfile", "", "the certificate's PEM private key")
	f.StringArrayVar(&opts.kernelEnv, "kernel-env", nil, "pass this environment variable on to the kernels, which otherwise get only what Python needs to run (repeatable)")
	return cmd
}

func runServer(ctx context.Context, io *console.IO, opts *serverOptions) error {
	if opts.port < 0 || opts.port > 65535 {
		return usageErrorf("--port must be between 0 and 65535, got %d", opts.port)
	}
	if (opts.certFile == "") != (opts.keyFile == "") {
		return usageErrorf("--certfile and --keyfile go together")
	}
	for _, f := range []string{opts.certFile, opts.keyFile} {
		if _, err := os.Stat(f); f != "" && err != nil {
			return usageErrorf("%s: %s", f, human.PathProblem(err))
		}
	}
	if err := checkPassEnv(opts.kernelEnv, (&gatewayFlags{}).checkNotSecret); err != nil {
		return err
	}
	if opts.certFile == "" && !isLoopback(opts.ip) {
		fmt.Fprintf(io.Err, "analyst: warning: serving plain http on %s: the token crosses the network readable; use --certfile and --keyfile\n", opts.ip)
	}
	gw, err := localgw.Start(ctx, localgw.Options{IP: opts.ip, Port: opts.port, Workdir: opts.workdir, CertFile: opts.certFile, KeyFile: opts.keyFile, PassEnv: opts.kernelEnv})
	if err != nil {
		return err
	}
	defer gw.Stop()
	describeLocal(io.Err, gw)
	fmt.Fprintf(io.Out, "export %s=%s\nexport %s=%s\n", envGatewayURL, gw.URL, envGatewayToken, gw.Token)
	fmt.Fprintln(io.Err, "Ctrl-C stops it.")
	select {
	case <-ctx.Done():
		fmt.Fprintln(io.Err, "stopping the local gateway and its kernels")
		return context.Cause(ctx) // exit 130 (143 on SIGTERM), like every interrupted command
	case <-gw.Exited():
		return fmt.Errorf("the local gateway exited by itself")
	}
}
