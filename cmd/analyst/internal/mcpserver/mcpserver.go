package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/team"
)

// Name is the server's name in the MCP handshake.
const Name = "analyst"

// The tools' names.
const (
	ExecuteCode   = "execute_code"
	UploadFile    = "upload_file"
	RestartKernel = "restart_kernel"
)

// instructions tell the host's model how to use the tools.
const instructions = `analyst runs Python in a stateful Jupyter kernel. Variables, imports and loaded data stay between execute_code calls: build on earlier calls instead of repeating them, print what you need to see (long output is cut), and call plt.show() for matplotlib figures, which come back as images. Put local data files into the kernel's working directory with upload_file.`

// Options configure the server.
type Options struct {
	// Analysis says how the session's analysis session is built: the
	// gateway, the kernel, the output cap, and the records if any. It is
	// built on the first tool call that needs a kernel, and again after a
	// kernel failed to start. It runs no LLM.
	Analysis analysis.Options
	// Version is the server's version in the MCP handshake.
	Version string
	// Explain, when set, words an error for the client with what the user
	// can do about it.
	Explain func(error) string
	// Log, when set, receives a line for each thing worth telling the
	// operator: a kernel started, restarted or failed to be deleted.
	Log func(string)
}

// Serve serves one MCP session over t until the client ends it or ctx is
// done, then deletes the session's kernel, if it started one.
func Serve(ctx context.Context, t mcp.Transport, opts Options) error {
	s := &session{opts: opts, ctx: ctx}
	server := newServer(s)
	ss, err := server.Connect(ctx, t, nil)
	if err != nil {
		return fmt.Errorf("mcp: connect: %w", err)
	}
	ended := make(chan error, 1)
	go func() { ended <- ss.Wait() }()
	select {
	case err = <-ended:
	case <-ctx.Done():
		ss.Close()
		<-ended
		err = nil
	}
	if cerr := s.close(ctx); cerr != nil {
		s.log(fmt.Sprintf("delete kernel: %v", cerr))
		err = errors.Join(err, cerr)
	}
	return err
}

// newServer returns an MCP server whose tools work on s.
func newServer(s *session) *mcp.Server {
	server := mcp.NewServer(&mcp.Implementation{Name: Name, Title: "analyst Jupyter kernel", Version: s.opts.Version},
		&mcp.ServerOptions{Instructions: instructions})
	no, yes := false, true
	mcp.AddTool(server, &mcp.Tool{
		Name: ExecuteCode,
		Description: "Run Python code in a stateful Jupyter kernel and return what it printed or displayed; images (plt.show()) come back as image content. " +
			"Variables, imports and loaded data stay between calls: reuse them instead of repeating work.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &yes, OpenWorldHint: &yes},
	}, s.executeCode)
	mcp.AddTool(server, &mcp.Tool{
		Name:        UploadFile,
		Description: "Copy a file from this machine into the kernel's working directory under its base name, so that code can open it by that name.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &no, IdempotentHint: true, OpenWorldHint: &no},
	}, s.uploadFile)
	mcp.AddTool(server, &mcp.Tool{
		Name:        RestartKernel,
		Description: "Restart the Jupyter kernel: every variable, import and loaded data set is lost.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &yes, IdempotentHint: true, OpenWorldHint: &no},
	}, s.restartKernel)
	return server
}

// CodeInput is execute_code's input.
type CodeInput struct {
	Code string `json:"code" jsonschema:"the Python code to run: only the code itself, no Markdown fences"`
}

// UploadInput is upload_file's input.
type UploadInput struct {
	Path string `json:"path" jsonschema:"path of the local file to upload (absolute, or relative to the server's working directory)"`
}

// RestartInput is restart_kernel's input: it takes none.
type RestartInput struct{}

// session is one MCP session's kernel. Its tools run one at a time.
type session struct {
	opts Options
	ctx  context.Context // the session's: the kernel lives as long as it

	mu     sync.Mutex
	an     *analysis.Session
	closed bool
}

// errEnded answers calls that arrive after the session ended.
var errEnded = errors.New("the session has ended")

// kernel returns the session's analysis session, starting it and its
// kernel on first use. A kernel that failed to start is deleted and
// forgotten, so that the next call tries again. s.mu must be held.
func (s *session) kernel(ctx context.Context) (*analysis.Session, error) {
	if s.closed {
		return nil, errEnded
	}
	if s.an == nil {
		opts := s.opts.Analysis
		opts.LLM = nil
		opts.Observers = append(opts.Observers, team.ObserverFunc(func(e team.Event) {
			if n, ok := e.(team.Notice); ok {
				s.log(n.Text)
			}
		}))
		an, err := analysis.New(s.ctx, opts)
		if err != nil {
			return nil, err
		}
		s.an = an
	}
	err := s.an.Wait(ctx)
	if err != nil && ctx.Err() == nil {
		if cerr := s.an.Close(s.ctx); cerr != nil {
			s.log(fmt.Sprintf("delete kernel: %v", cerr))
		}
		s.an = nil
		return nil, fmt.Errorf("start kernel: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return s.an, nil
}

// close deletes the kernel, if one started, and refuses further calls.
func (s *session) close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.an == nil {
		return nil
	}
	an := s.an
	s.an = nil
	return an.Close(ctx)
}

func (s *session) log(line string) {
	if s.opts.Log != nil {
		s.opts.Log(line)
	}
}

// executeCode runs the code as the next cell.
func (s *session) executeCode(ctx context.Context, _ *mcp.CallToolRequest, in CodeInput) (*mcp.CallToolResult, any, error) {
	if strings.TrimSpace(in.Code) == "" {
		return nil, nil, errors.New("code is empty: pass the Python to run")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	an, err := s.kernel(ctx)
	if err != nil {
		return nil, nil, s.toolError(err)
	}
	c, err := an.Exec(ctx, Name, in.Code)
	if err != nil {
		return nil, nil, s.toolError(err)
	}
	res := &mcp.CallToolResult{
		Content: []mcp.Content{&mcp.TextContent{Text: c.ForLLM(an.Cap())}},
		IsError: c.Status() != cell.OK,
	}
	if c.Result != nil {
		for _, o := range c.Result.Outputs {
			if im, ok := cell.ImageOf(o); ok && im.MIME != "image/svg+xml" {
				res.Content = append(res.Content, &mcp.ImageContent{Data: im.Data, MIMEType: im.MIME})
			}
		}
	}
	return res, nil, nil
}

// uploadFile copies a local file into the kernel's working directory.
func (s *session) uploadFile(ctx context.Context, _ *mcp.CallToolRequest, in UploadInput) (*mcp.CallToolResult, any, error) {
	if in.Path == "" {
		return nil, nil, errors.New("path is empty: pass the local file to upload")
	}
	fi, err := os.Stat(in.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil, fmt.Errorf("upload %s: no such file", in.Path)
	case err != nil:
		return nil, nil, s.toolError(fmt.Errorf("upload %s: %w", in.Path, err))
	case fi.IsDir():
		return nil, nil, fmt.Errorf("upload %s: is a directory; upload its files one by one", in.Path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	an, err := s.kernel(ctx)
	if err != nil {
		return nil, nil, s.toolError(err)
	}
	name := filepath.Base(in.Path)
	if err := an.Upload(ctx, in.Path, name); err != nil {
		return nil, nil, s.toolError(fmt.Errorf("upload %s: %w", in.Path, err))
	}
	return text(fmt.Sprintf("uploaded %s (%d bytes) to the kernel's working directory as %s", in.Path, fi.Size(), name)), nil, nil
}

// restartKernel restarts the session's kernel.
func (s *session) restartKernel(ctx context.Context, _ *mcp.CallToolRequest, _ RestartInput) (*mcp.CallToolResult, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errEnded
	}
	if s.an == nil {
		return text("no kernel was running; the next execute_code starts a fresh one"), nil, nil
	}
	an, err := s.kernel(ctx)
	if err != nil {
		return nil, nil, s.toolError(err)
	}
	if err := an.Restart(ctx); err != nil {
		return nil, nil, s.toolError(err)
	}
	s.log("kernel restarted at the client's request")
	return text("kernel restarted: every variable, import and loaded data set is gone"), nil, nil
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// toolError words err for the client: one line, with what to do about it
// when Options.Explain says.
func (s *session) toolError(err error) error {
	msg := err.Error()
	if s.opts.Explain != nil {
		msg = s.opts.Explain(err)
	}
	return errors.New(strings.Join(strings.Fields(msg), " "))
}
