// Package testkit holds what the tests share and the product never
// imports: the scripted OpenAI-compatible server (llmtest), real Jupyter
// servers started from test code (jupytertest), the superstore example's
// independent arithmetic (superstore), the deployment files' checks
// (deploy), and the test that holds the repository to its import rules.
package testkit
