// Package jupyter is a client for remote Jupyter kernels: Jupyter Kernel
// Gateway, Jupyter Server and Enterprise Gateway.
//
// A [Client] speaks the REST API (/api, /api/kernelspecs, /api/kernels) and
// a [Session] speaks the kernel messaging protocol (v5.3) over the server's
// WebSocket channels endpoint, using the default JSON framing. A Session runs
// one cell at a time with [Session.Execute] and returns a [Result] holding
// every output in order, with the MIME bundles exactly as the kernel sent
// them. A Python exception is data ([Result.Error]); a Go error means the
// transport or the kernel itself failed.
//
// Cells are bounded: past [SessionOptions.CellTimeout], or when the caller's
// context is cancelled, the kernel is interrupted and the partial output is
// returned while the kernel and its variables survive. Output past
// [SessionOptions.MaxOutputBytes] is dropped and counted. A dropped WebSocket
// is reconnected with the same session id, so the server replays what it
// buffered and the cell still completes. A kernel that dies mid-cell ends the
// cell with an error wrapping [ErrKernelDied]; after [Session.Restart], or
// the server's own restart, the Session connects under a new session id
// (jupyter_server 2 would "restore" a known one onto the dead kernel's
// channels).
//
// Kernel Gateway 2 (on notebook 6.4) drops some concurrent requests without
// an answer. [Client.StartKernel] notices a start left unanswered, finds the
// kernel it may have launched by its KERNEL_START_ID or sends it again, and
// deletes any extra kernel; [Client.DeleteKernel] checks and resends an
// unanswered delete.
//
// Kernel Gateway has no contents API, so [Session.Upload] copies a file into
// the kernel's working directory through the kernel itself, as the binary
// buffers of comm messages.
//
// The package imports nothing else from analyst.
package jupyter
