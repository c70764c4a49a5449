// Package superstore reads examples/superstore.csv, the project's sample data
// set, so that tests elsewhere can check an analysis against figures computed
// in Go.
package superstore
