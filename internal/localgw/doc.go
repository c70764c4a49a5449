// Package localgw starts a Jupyter gateway on this machine for analyst's own
// use: Jupyter Kernel Gateway where it is installed, else Jupyter Server, on
// 127.0.0.1 with a free port and a random token, with the idle-kernel culling
// of the reference deployment. Stop ends it and every kernel it started.
package localgw
