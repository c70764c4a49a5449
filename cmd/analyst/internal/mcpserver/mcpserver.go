package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/analyst-dev/analyst/analysis"
	"github.com/analyst-dev/analyst/cell"
	"github.com/analyst-dev/analyst/internal/human"
	"github.com/analyst-dev/analyst/jupyter"
	"github.com/analyst-dev/analyst/team"
)

// Name is the server's name in the MCP handshake.
const Name = "analyst"

// The tools' names.
const (
	ExecuteCode   = "execute_code"
	UploadFile    = "upload_file"
	RestartKernel = "restart_kernel"
	Reset         = "reset"
	ListFiles     = "list_files"
	GetFile       = "get_file"
)

// instructions tell the host's model how to use the tools.
const instructions = `analyst runs Python in a stateful Jupyter kernel. Variables, imports and loaded data stay between execute_code calls: build on earlier calls instead of repeating them, print what you need to see (long output is cut), and call plt.show() for matplotlib figures, which come back as images and are kept as files (list_files, get_file). Put local data files into the kernel's working directory with upload_file; start afresh with reset.`

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
	mcp.AddTool(server, &mcp.Tool{
		Name:        Reset,
		Description: "Start afresh: the kernel is deleted (every variable is lost), the session's files are removed, and the next execute_code starts a new kernel whose cells count from 1.",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: &yes, IdempotentHint: true, OpenWorldHint: &no},
	}, s.reset)
	mcp.AddTool(server, &mcp.Tool{
		Name:        ListFiles,
		Description: "List the files of the session: the figures its cells displayed, by name, type and size.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: &no},
	}, s.listFiles)
	mcp.AddTool(server, &mcp.Tool{
		Name:        GetFile,
		Description: "Fetch one of the session's files by the name list_files gives: an image comes back as image content, SVG as text.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: &no},
	}, s.getFile)
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

// ResetInput is reset's input: it takes none.
type ResetInput struct{}

// ListInput is list_files' input: it takes none.
type ListInput struct{}

// FileInput is get_file's input.
type FileInput struct {
	Name string `json:"name" jsonschema:"the file's name, as list_files gives it"`
}

// session is one MCP session's kernel. Its tools run one at a time.
type session struct {
	opts Options
	ctx  context.Context // the session's: the kernel lives as long as it

	mu     sync.Mutex
	an     *analysis.Session
	files  string // the folder of the session's figures, made on first use
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
		if opts.Out == "" && opts.Figures == "" {
			if s.files == "" {
				dir, err := os.MkdirTemp("", "analyst-mcp-")
				if err != nil {
					return nil, fmt.Errorf("files folder: %w", err)
				}
				s.files = dir
			}
			opts.Figures = s.files
		}
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

// close deletes the kernel, if one started, removes the session's files,
// and refuses further calls.
func (s *session) close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.drop(ctx)
}

// drop deletes the kernel and the session's files. s.mu must be held.
func (s *session) drop(ctx context.Context) error {
	var err error
	if s.an != nil {
		err = s.an.Close(ctx)
		s.an = nil
	}
	if s.files != "" {
		err = errors.Join(err, os.RemoveAll(s.files))
		s.files = ""
	}
	return err
}

// filesDir is where the session's files are: the figures folder.
func (s *session) filesDir() string {
	if d := s.opts.Analysis.Figures; d != "" {
		return d
	}
	if d := s.opts.Analysis.Out; d != "" {
		return d
	}
	return s.files
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
func (s *session) uploadFile(ctx context.Context, req *mcp.CallToolRequest, in UploadInput) (*mcp.CallToolResult, any, error) {
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
	if err := an.Upload(ctx, in.Path, name, progressNotifier(ctx, req)); err != nil {
		return nil, nil, s.toolError(fmt.Errorf("upload %s: %w", in.Path, err))
	}
	return text(fmt.Sprintf("uploaded %s (%d bytes) to the kernel's working directory as %s", in.Path, fi.Size(), name)), nil, nil
}

// progressNotifier returns a function that tells the client an upload's
// progress, each whole percent, when the request asked for progress with a
// token; nil when it did not.
func progressNotifier(ctx context.Context, req *mcp.CallToolRequest) func(jupyter.UploadProgress) {
	if req == nil || req.Session == nil || req.Params == nil || req.Params.GetProgressToken() == nil {
		return nil
	}
	token, last := req.Params.GetProgressToken(), int64(-1)
	return func(p jupyter.UploadProgress) {
		pct := int64(100)
		if p.Total > 0 {
			pct = p.Done * 100 / p.Total
		}
		if pct == last {
			return
		}
		last = pct
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
			ProgressToken: token,
			Progress:      float64(p.Done),
			Total:         float64(p.Total),
			Message:       fmt.Sprintf("%s of %s, %s/s", human.Bytes(p.Done), human.Bytes(p.Total), human.Bytes(int64(p.Rate()))),
		})
	}
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

// reset deletes the kernel and the session's files: the next call starts
// afresh.
func (s *session) reset(ctx context.Context, _ *mcp.CallToolRequest, _ ResetInput) (*mcp.CallToolResult, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errEnded
	}
	if err := s.drop(ctx); err != nil {
		return nil, nil, s.toolError(err)
	}
	s.log("session reset at the client's request")
	return text("reset: the kernel and the session's files are gone; the next execute_code starts a new kernel"), nil, nil
}

// listFiles lists the session's figures.
func (s *session) listFiles(_ context.Context, _ *mcp.CallToolRequest, _ ListInput) (*mcp.CallToolResult, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	if dir := s.filesDir(); dir != "" {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && figureFile.MatchString(e.Name()) {
				lines = append(lines, fmt.Sprintf("%s\t%s\t%d bytes", e.Name(), mimeOf(e.Name()), fi.Size()))
			}
		}
	}
	if len(lines) == 0 {
		return text("no files yet: figures that cells display (plt.show()) are kept here"), nil, nil
	}
	return text(strings.Join(lines, "\n")), nil, nil
}

// getFile returns one of the session's files.
func (s *session) getFile(_ context.Context, _ *mcp.CallToolRequest, in FileInput) (*mcp.CallToolResult, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.filesDir()
	if !figureFile.MatchString(in.Name) || dir == "" {
		return nil, nil, fmt.Errorf("no file %q: call list_files for the names", in.Name)
	}
	b, err := os.ReadFile(filepath.Join(dir, in.Name))
	if err != nil {
		return nil, nil, fmt.Errorf("no file %q: call list_files for the names", in.Name)
	}
	mime := mimeOf(in.Name)
	if mime == "image/svg+xml" {
		return text(string(b)), nil, nil
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: b, MIMEType: mime}}}, nil, nil
}

// figureFile matches the names the session gives its files; no other name
// is read, so no path leads out of the folder.
var figureFile = regexp.MustCompile(`^figure-[0-9]+\.(png|jpg|gif|svg)$`)

// mimeOf is the image type of a figure's name.
func mimeOf(name string) string {
	for _, t := range cell.ImageTypes {
		if strings.HasSuffix(name, t.Ext) {
			return t.MIME
		}
	}
	return "application/octet-stream"
}
