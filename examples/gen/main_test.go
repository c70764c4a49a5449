package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCheckedInCSV checks that examples/superstore.csv is exactly what the
// generator writes. After changing the generator, run
// go run ./examples/gen -o examples/superstore.csv.
func TestCheckedInCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := Generate(&buf, DefaultRows); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "superstore.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatal("examples/superstore.csv differs from the generator's output; run go run ./examples/gen -o examples/superstore.csv")
	}
}

func TestGenerate(t *testing.T) {
	var buf bytes.Buffer
	if err := Generate(&buf, DefaultRows); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(records[0], header) {
		t.Fatalf("header = %q", records[0])
	}
	rows := records[1:]
	if len(rows) != DefaultRows {
		t.Fatalf("%d rows, want %d", len(rows), DefaultRows)
	}
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	seen := map[string]map[string]bool{}
	see := func(column, value string) {
		if seen[column] == nil {
			seen[column] = map[string]bool{}
		}
		seen[column][value] = true
	}
	negative, commas := 0, 0
	for i, r := range rows {
		if r[col["Row ID"]] != strconv.Itoa(i+1) {
			t.Fatalf("row %d has Row ID %s", i+1, r[0])
		}
		for _, c := range []string{"Region", "Segment", "Ship Mode", "Category", "Discount", "Country"} {
			see(c, r[col[c]])
		}
		if got := regionOf[r[col["State"]]]; got != r[col["Region"]] {
			t.Errorf("row %d: %s is in %s, not %s", i+1, r[col["State"]], got, r[col["Region"]])
		}
		ordered, err1 := time.Parse("1/2/2006", r[col["Order Date"]])
		shipped, err2 := time.Parse("1/2/2006", r[col["Ship Date"]])
		if err1 != nil || err2 != nil || shipped.Before(ordered) || ordered.Year() < 2014 || ordered.Year() > 2017 {
			t.Errorf("row %d: dates %s, %s", i+1, r[col["Order Date"]], r[col["Ship Date"]])
		}
		if !strings.Contains(r[col["Order ID"]], "-"+strconv.Itoa(ordered.Year())+"-") {
			t.Errorf("row %d: order ID %s is not of %d", i+1, r[col["Order ID"]], ordered.Year())
		}
		if p, err := strconv.ParseFloat(r[col["Profit"]], 64); err != nil {
			t.Errorf("row %d: profit %q", i+1, r[col["Profit"]])
		} else if p < 0 {
			negative++
		}
		if strings.Contains(r[col["Product Name"]], ",") {
			commas++
		}
	}
	wantSets := map[string][]string{
		"Region":    {"Central", "East", "South", "West"},
		"Segment":   {"Consumer", "Corporate", "Home Office"},
		"Ship Mode": {"First Class", "Same Day", "Second Class", "Standard Class"},
		"Category":  {"Furniture", "Office Supplies", "Technology"},
		"Country":   {"United States"},
	}
	for c, want := range wantSets {
		got := make([]string, 0, len(seen[c]))
		for v := range seen[c] {
			got = append(got, v)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s values = %q, want %q", c, got, want)
		}
	}
	if negative == 0 || commas == 0 {
		t.Errorf("%d negative profits, %d product names with commas; want some of each", negative, commas)
	}
}

func TestDecimal4(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{2619600, "261.96"}, {9575775, "957.5775"}, {-3830310, "-383.031"}, {0, "0"}, {5, "0.0005"}, {-5, "-0.0005"},
	}
	for _, tt := range tests {
		if got := decimal4(tt.n); got != tt.want {
			t.Errorf("decimal4(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
