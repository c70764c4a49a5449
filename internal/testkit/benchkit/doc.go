// Package benchkit holds what the benchmark programs under bench/ share:
// their -n flag's list of counts, building the analyst binary, and a
// failure's last lines.
package benchkit
