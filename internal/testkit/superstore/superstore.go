package superstore

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// RegionTotals returns the sum of the Sales column for each Region of the
// Superstore CSV file at path.
func RegionTotals(path string) (map[string]float64, error) {
	totals := map[string]float64{}
	err := scan(path, []string{"Region", "Sales"}, func(v []string) error {
		sales, err := strconv.ParseFloat(v[1], 64)
		if err != nil {
			return fmt.Errorf("sales %q: %w", v[1], err)
		}
		totals[v[0]] += sales
		return nil
	})
	if err != nil {
		return nil, err
	}
	return totals, nil
}

// RegionCounts returns the number of rows of each Region of the Superstore
// CSV file at path.
func RegionCounts(path string) (map[string]int, error) {
	counts := map[string]int{}
	err := scan(path, []string{"Region"}, func(v []string) error {
		counts[v[0]]++
		return nil
	})
	return counts, err
}

// Rows returns the number of data rows (not counting the header) of the
// Superstore CSV file at path.
func Rows(path string) (int, error) {
	n := 0
	err := scan(path, nil, func([]string) error { n++; return nil })
	return n, err
}

// scan calls fn with the values of the named columns for each data row of
// the CSV file at path.
func scan(path string, columns []string, fn func([]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("read %s: header: %w", path, err)
	}
	idx := make([]int, len(columns))
	for i, c := range columns {
		idx[i] = -1
		for j, h := range head {
			if h == c {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return fmt.Errorf("read %s: no %q column", path, c)
		}
	}
	values := make([]string, len(columns))
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		for i, j := range idx {
			values[i] = rec[j]
		}
		if err := fn(values); err != nil {
			line, _ := r.FieldPos(0)
			return fmt.Errorf("read %s: line %d: %w", path, line, err)
		}
	}
}
