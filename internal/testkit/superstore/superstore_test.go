package superstore

import (
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

var sample = filepath.Join("..", "..", "..", "examples", "superstore.csv")

func TestRegionTotals(t *testing.T) {
	totals, err := RegionTotals(sample)
	if err != nil {
		t.Fatal(err)
	}
	regions := slices.Sorted(maps.Keys(totals))
	if want := []string{"Central", "East", "South", "West"}; !slices.Equal(regions, want) {
		t.Fatalf("regions = %q, want %q", regions, want)
	}

	// Sum the Sales column independently.
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(records[0], "Sales")
	want := 0.0
	for _, r := range records[1:] {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatal(err)
		}
		want += v
	}
	got := 0.0
	for _, r := range regions {
		if totals[r] <= 0 {
			t.Errorf("%s total = %v, want > 0", r, totals[r])
		}
		got += totals[r]
	}
	if math.Abs(got-want) > 0.01 {
		t.Errorf("region totals add up to %.4f, want the total Sales %.4f", got, want)
	}
	for _, r := range regions {
		t.Logf("%-8s %12.2f", r, totals[r])
	}
}

func TestRows(t *testing.T) {
	n, err := Rows(sample)
	if err != nil {
		t.Fatal(err)
	}
	if n != 9994 {
		t.Errorf("Rows = %d, want 9994", n)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
	}{
		{"missing file", filepath.Join(dir, "none.csv")},
		{"no Sales column", write("nosales.csv", "Region,Profit\nWest,1\n")},
		{"bad number", write("bad.csv", "Region,Sales\nWest,lots\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := RegionTotals(tt.path); err == nil {
				t.Error("no error")
			}
		})
	}
}

func ExampleRegionTotals() {
	totals, err := RegionTotals(sample)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range slices.Sorted(maps.Keys(totals)) {
		fmt.Printf("%s %.2f\n", r, totals[r])
	}
	// Output:
	// Central 514579.95
	// East 594113.07
	// South 394849.33
	// West 733599.48
}
