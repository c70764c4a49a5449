// Package jupytertest starts real Jupyter servers for tests.
//
// A test calls [Start] to get a server of its own, or shares one per test
// binary through a [Pool]. The server listens on 127.0.0.1 with a random
// token. By default it is Debian's Jupyter Server (/usr/bin/python3 -m
// jupyter_server); the environment variable ANALYST_TEST_SERVER selects
// another [Kind]: "kg3" (Kernel Gateway 3.0.1) or "kg2" (Kernel Gateway
// 2.5.2), found in ../shared/gateways beside the repository. When the server
// is not installed the test is skipped, except under CI=true where it fails.
package jupytertest
