// Package datafile checks that a local file can be sent to a kernel as data
// before anything starts: a named pipe, a device, a /proc or /sys file or a
// name the kernel's side cannot take would otherwise hang the command or
// fail it halfway, after LLM calls were paid for.
package datafile
