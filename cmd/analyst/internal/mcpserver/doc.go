// Package mcpserver serves analyst's Jupyter kernel to Model Context Protocol
// hosts (Claude Desktop, IDEs, other agents) as three tools:
//
//   - execute_code runs Python in the session's stateful kernel and returns
//     what it printed, capped as in analyst's own runs, with any images as
//     MCP image content;
//   - upload_file copies a local file into the kernel's working directory;
//   - restart_kernel restarts the kernel, losing its variables.
//
// Each MCP session has a kernel of its own, started on first use and deleted
// when the session ends. Failures are tool errors with one-line messages, for
// the host's model to read; a Python exception is a tool error too, with its
// traceback.
package mcpserver
