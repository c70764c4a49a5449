// Command recoverbench measures how long analyst takes to run a cell again
// after its kernel died, on each server the tests know (Jupyter Server,
// Kernel Gateway 3.0.1 and 2.5.2, see jupytertest.Kind): a cell calls
// os._exit(1), the server restarts the kernel, and the time runs from the
// death being reported (Execute returns ErrKernelDied) to the next cell's
// output. Two ways on: the same Session runs the next cell (analyst run, the
// MCP server), or a new Session connects first (analyst exec --kernel-id).
// Each death is on a fresh kernel: servers give up restarting a kernel that
// dies five times within seconds.
//
//	go run ./bench/recoverbench [-n 10] [-servers server,kg3,kg2]
package main
