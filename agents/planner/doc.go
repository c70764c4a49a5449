// Package planner is the agent that splits the user's request into one
// sub-task at a time and, once the request is answered, writes a summary
// grounded in the printed results and ends the run with the stop word.
package planner
