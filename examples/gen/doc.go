// Command gen writes examples/superstore.csv: a deterministic, synthetic
// version of the well-known Superstore sales sample, with the same 21
// columns and 9,994 rows of orders placed in the United States from 2014 to
// 2017.
//
// Usage:
//
//	go run ./examples/gen -o examples/superstore.csv
//
// Without -o the CSV goes to standard output. The data come from a fixed
// PCG seed and integer arithmetic only, so every run on every platform
// writes the same bytes; a test checks that the checked-in file is exactly
// what the generator writes.
package main
