package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultRows is the number of order lines of the original sample.
const DefaultRows = 9994

// The generator's fixed PCG seed.
const (
	seed1 = 0x5eed_2014
	seed2 = 0x5eed_2017
)

// header is the original sample's columns, in order.
var header = []string{
	"Row ID", "Order ID", "Order Date", "Ship Date", "Ship Mode", "Customer ID",
	"Customer Name", "Segment", "Country", "City", "State", "Postal Code", "Region",
	"Product ID", "Category", "Sub-Category", "Product Name", "Sales", "Quantity",
	"Discount", "Profit",
}

func main() {
	out := flag.String("o", "", "write the CSV to this file instead of standard output")
	rows := flag.Int("rows", DefaultRows, "number of order lines")
	flag.Parse()
	if err := run(*out, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(path string, rows int) error {
	if path == "" {
		w := bufio.NewWriter(os.Stdout)
		if err := Generate(w, rows); err != nil {
			return err
		}
		return w.Flush()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := Generate(w, rows); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type customer struct {
	id, name, segment string
	home              int // index in locations
}

type product struct {
	id, name string
	sub      *subCategory
	price    int // unit price in cents
	margin   int // basis points
}

type shipMode struct {
	name            string
	weight          int
	minDays, spread int
}

var shipModes = []shipMode{
	{"Standard Class", 60, 4, 4},
	{"Second Class", 19, 2, 3},
	{"First Class", 15, 1, 3},
	{"Same Day", 6, 0, 1},
}

// Generate writes rows order lines of the sample, with a header, to w as
// CSV. The output depends on rows only.
func Generate(w io.Writer, rows int) error {
	r := rand.New(rand.NewPCG(seed1, seed2))
	customers := makeCustomers(r)
	products := makeProducts(r)
	subWeights := make([]int, len(subCategories))
	for i, s := range subCategories {
		subWeights[i] = s.weight
	}
	modeWeights := make([]int, len(shipModes))
	for i, m := range shipModes {
		modeWeights[i] = m.weight
	}

	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	usedOrders := map[int]bool{}
	row := 0
	for row < rows {
		c := customers[r.IntN(len(customers))]
		loc := locations[c.home]
		if r.IntN(10) >= 7 {
			loc = locations[pickLocation(r)]
		}
		region := regionOf[loc.state]
		mode := shipModes[pick(r, modeWeights)]
		ordered := orderDate(r)
		shipped := ordered.AddDate(0, 0, mode.minDays+r.IntN(mode.spread))
		num := 100000 + r.IntN(70000)
		for usedOrders[num] {
			num = 100000 + r.IntN(70000)
		}
		usedOrders[num] = true
		prefix := "CA"
		if r.IntN(5) == 0 {
			prefix = "US"
		}
		orderID := fmt.Sprintf("%s-%d-%d", prefix, ordered.Year(), num)

		lines := 1 + min(r.IntN(4), r.IntN(4))
		if r.IntN(10) == 0 {
			lines += r.IntN(8)
		}
		for range lines {
			if row == rows {
				break
			}
			row++
			sub := &subCategories[pick(r, subWeights)]
			p := products[sub.name][r.IntN(len(products[sub.name]))]
			qty := 1 + min(r.IntN(14), r.IntN(14), r.IntN(14)+r.IntN(3))
			disc := discount(r, loc.state, sub.name)
			// Sales and Profit are counted in 1/10000 of a dollar: a price in
			// cents times a discount in hundredths.
			sales := p.price * qty * (100 - disc)
			margin := p.margin + r.IntN(601) - 300
			profit := p.price * qty * (margin - disc*100) / 100
			err := cw.Write([]string{
				strconv.Itoa(row), orderID, usDate(ordered), usDate(shipped), mode.name,
				c.id, c.name, c.segment, "United States", loc.city, loc.state, loc.postal, region,
				p.id, sub.category, sub.name, p.name,
				decimal4(sales), strconv.Itoa(qty), decimal2(disc), decimal4(profit),
			})
			if err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// pick returns an index chosen with probability proportional to weights.
func pick(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// regions are the four sales regions with how many order lines each has in
// the original sample.
var regions = []struct {
	name   string
	weight int
}{{"Central", 2323}, {"East", 2848}, {"South", 1620}, {"West", 3203}}

// pickLocation chooses a region, then a location in it by weight, and
// returns its index in locations.
func pickLocation(r *rand.Rand) int {
	ws := make([]int, len(regions))
	for i, reg := range regions {
		ws[i] = reg.weight
	}
	region := regions[pick(r, ws)].name
	var idx, lw []int
	for i, l := range locations {
		if regionOf[l.state] == region {
			idx = append(idx, i)
			lw = append(lw, l.weight)
		}
	}
	return idx[pick(r, lw)]
}

// makeCustomers makes about 800 customers with IDs like "CG-12520",
// numbered in order of their names as in the original.
func makeCustomers(r *rand.Rand) []customer {
	seen := map[string]bool{}
	var names [][2]string
	for len(names) < 793 {
		f, l := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		if seen[f+" "+l] {
			continue
		}
		seen[f+" "+l] = true
		names = append(names, [2]string{f, l})
	}
	slices.SortFunc(names, func(a, b [2]string) int {
		return strings.Compare(a[1]+" "+a[0], b[1]+" "+b[0])
	})
	segments := []string{"Consumer", "Corporate", "Home Office"}
	customers := make([]customer, len(names))
	for i, n := range names {
		customers[i] = customer{
			id:      fmt.Sprintf("%c%c-%d", n[0][0], n[1][0], 10000+i*25+5*r.IntN(5)),
			name:    n[0] + " " + n[1],
			segment: segments[pick(r, []int{52, 30, 18})],
			home:    pickLocation(r),
		}
	}
	return customers
}

// makeProducts makes the catalogue: for each sub-category about one product
// per five of its order lines, with IDs like "FUR-BO-10001798".
func makeProducts(r *rand.Rand) map[string][]product {
	products := map[string][]product{}
	usedIDs := map[string]bool{}
	for i := range subCategories {
		s := &subCategories[i]
		usedNames := map[string]bool{}
		for n := 0; n < s.weight/5; n++ {
			name := s.brands[r.IntN(len(s.brands))] + " " + s.items[r.IntN(len(s.items))]
			name += s.variants[r.IntN(len(s.variants))]
			if usedNames[name] {
				continue // fewer products in small catalogues
			}
			usedNames[name] = true
			var id string
			for id == "" || usedIDs[id] {
				id = fmt.Sprintf("%s-%s-%d", strings.ToUpper(s.category[:3]), strings.ToUpper(s.name[:2]), 10000000+r.IntN(5000))
			}
			usedIDs[id] = true
			u := r.IntN(1000)
			products[s.name] = append(products[s.name], product{
				id:     id,
				name:   name,
				sub:    s,
				price:  s.lo + (s.hi-s.lo)*u*u/1_000_000, // skewed towards cheap
				margin: s.margin + r.IntN(1601) - 800,
			})
		}
	}
	return products
}

// orderDate draws a day from 2014 to 2017, with sales growing each year and
// peaking in September, November and December.
func orderDate(r *rand.Rand) time.Time {
	year := 2014 + pick(r, []int{20, 21, 26, 33})
	month := 1 + pick(r, []int{4, 3, 7, 6, 7, 7, 7, 7, 14, 8, 15, 15})
	days := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(year, time.Month(month), 1+r.IntN(days), 0, 0, 0, 0, time.UTC)
}

// heavyDiscounts are the states whose orders get the large discounts of the
// original sample; elsewhere discounts are rare and small.
var heavyDiscounts = map[string]bool{
	"Texas": true, "Illinois": true, "Ohio": true, "Pennsylvania": true, "Florida": true,
	"North Carolina": true, "Tennessee": true, "Arizona": true, "Colorado": true, "Oregon": true,
}

// discount returns an order line's discount in hundredths.
func discount(r *rand.Rand, state, sub string) int {
	if !heavyDiscounts[state] {
		switch {
		case state == "California" && sub == "Tables":
			return []int{0, 15, 20}[r.IntN(3)]
		case r.IntN(100) < 35:
			return []int{10, 20, 20, 20, 20, 20, 20, 20}[r.IntN(8)]
		}
		return 0
	}
	switch sub {
	case "Binders", "Appliances":
		return []int{20, 70, 80}[r.IntN(3)]
	case "Tables", "Bookcases":
		return []int{30, 40, 45, 50}[r.IntN(4)]
	case "Furnishings", "Chairs":
		return []int{20, 30, 60}[r.IntN(3)]
	case "Machines":
		return []int{20, 40, 70}[r.IntN(3)]
	}
	return []int{0, 20}[r.IntN(2)]
}

// usDate formats t as M/D/YYYY.
func usDate(t time.Time) string {
	return fmt.Sprintf("%d/%d/%d", t.Month(), t.Day(), t.Year())
}

// decimal4 formats n ten-thousandths as a decimal without trailing zeros:
// 2619600 is "261.96".
func decimal4(n int) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := sign + strconv.Itoa(n/10000)
	if frac := n % 10000; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%04d", frac), "0")
	}
	return s
}

// decimal2 formats n hundredths like decimal4: 20 is "0.2", 0 is "0".
func decimal2(n int) string { return decimal4(n * 100) }
