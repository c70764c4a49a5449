package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/cmd/analyst/internal/mcpserver"
	"github.com/analyst-dev/analyst/internal/console"
	"github.com/analyst-dev/analyst/jupyter"
)

type mcpOptions struct {
	gateway     gatewayFlags
	cellTimeout time.Duration
	outputCap   int
	maxOutput   int
}

func newMCPCmd(io *console.IO) *cobra.Command {
	opts := &mcpOptions{}
	cmd := &cobra.Command{
		Use:   "mcp [flags]",
		Short: "Serve a Jupyter kernel to MCP hosts (Claude Desktop, IDEs) over stdio",
		Long: `Serve a stateful Jupyter kernel to a Model Context Protocol host over standard
input and output, as the tools execute_code, upload_file, restart_kernel, reset,
list_files and get_file (the figures the cells displayed).

The host starts analyst mcp itself (see docs/mcp.md for the configuration).
Each session gets a kernel of its own, started on the first tool call and
deleted when the session ends. Without --gateway-url or JUPYTER_GATEWAY_URL a
local gateway is started in --workdir. Standard output carries the protocol;
messages for people go to standard error.

Exit codes: 0 the host ended the session (closed standard input), 1 the
transport failed, 2 usage error, 130 interrupted (143 on SIGTERM).`,
		Example: `  analyst mcp
  JUPYTER_GATEWAY_URL=http://gpu-box:8888 analyst mcp --cell-timeout 10m`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMCP(cmd.Context(), io, opts)
		},
	}
	f := cmd.Flags()
	opts.gateway.register(f, true)
	f.DurationVar(&opts.cellTimeout, "cell-timeout", 120*time.Second, "interrupt a cell after this long; the kernel keeps its state")
	f.IntVar(&opts.outputCap, "output-cap", cell.DefaultCap, "characters of each cell's output returned to the host")
	f.IntVar(&opts.maxOutput, "max-output", 4<<20, "bytes of output kept per cell; the rest is counted and dropped")
	return cmd
}

func runMCP(ctx context.Context, io *console.IO, opts *mcpOptions) error {
	if err := checkCellLimits(opts.cellTimeout, opts.outputCap, opts.maxOutput); err != nil {
		return err
	}
	if err := opts.gateway.check(); err != nil {
		return err
	}
	// The gateway (a local one, when none is configured) is reached only
	// when a session starts its kernel, and stopped after the kernel is
	// deleted.
	err := mcpserver.Serve(ctx, stdioTransport(io.In, io.Out), mcpserver.Options{
		Analysis: analysis.Options{
			Gateway: func(ctx context.Context) (*jupyter.Client, func(), error) {
				return opts.gateway.connect(ctx, io.Err)
			},
			Start:     opts.gateway.startOptions("mcp-" + time.Now().UTC().Format("20060102T150405Z")),
			Session:   jupyter.SessionOptions{CellTimeout: opts.cellTimeout, MaxOutputBytes: opts.maxOutput, Redact: opts.gateway.redactor(io.Err).Redact},
			OutputCap: opts.outputCap,
		},
		Version: buildVersion(),
		Explain: explain,
		Log:     func(line string) { fmt.Fprintf(io.Err, "analyst mcp: %s\n", oneLine(line)) },
	})
	if _, ok := interruptedBy(ctx); ok && err == nil {
		return context.Cause(ctx) // exit 130 (143 on SIGTERM)
	}
	return err
}

// stdioTransport speaks the protocol over the command's streams as
// newline-delimited JSON; ending the session does not close them.
func stdioTransport(in io.Reader, out io.Writer) mcp.Transport {
	return &mcp.IOTransport{Reader: io.NopCloser(in), Writer: nopWriteCloser{out}}
}

// nopWriteCloser is a Writer whose Close does nothing.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
