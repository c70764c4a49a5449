// Package jupytertest starts real Jupyter Servers for tests.
//
// A test calls [Start] to get a server of its own, or shares one per test
// binary through a [Pool]. The server runs /usr/bin/python3 -m
// jupyter_server on 127.0.0.1 with a random token; when Jupyter is not
// installed the test is skipped, except under CI=true where it fails.
package jupytertest
