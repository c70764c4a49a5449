// Package kernel is the kernel one analyst run works in: started in the
// background while the first LLM call is under way, given the run's data
// files, restarted when it dies, and always deleted at the end.
package kernel
