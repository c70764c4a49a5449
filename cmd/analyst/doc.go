// Command analyst analyses data the way a person does in Jupyter: an LLM
// planner splits the request into steps, an LLM writer turns each into
// Python, and an executor runs it in a remote, stateful Jupyter kernel.
package main
