// Package writer is the agent that turns the planner's current sub-task into
// Python for the kernel, reusing what the kernel already holds.
package writer
