package itest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/inventory"
)

// BenchmarkShipment measures each shipment transition (ready, ship to a
// warehouse, receive of every line) at 10, 100 and 500 lines
// (DEPOT_SHIPMENT_BENCH_SIZES): per transition its DynamoDB calls, read
// and write units (as BenchmarkStock counts them) and time, and per line
// the same beside the per-line floors of docs/data-model.md §7, which it
// reads from there. Each size gets its own deployment and items; each
// iteration is one shipment created (not measured), then made ready,
// shipped and received over HTTP, without an Idempotency-Key.
//
// `make bench` runs it on the embedded engines.
func BenchmarkShipment(b *testing.B) {
	floors, err := readShipmentFloors(dataModelDoc)
	if err != nil {
		b.Fatal(err)
	}
	useEngineCapacity = !isMoto()
	var rows []shipmentBenchRow
	for _, n := range shipmentBenchSizes() {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			e := newStockEnv(b)
			wh := e.location("SHB-WH")
			ids := make([]string, n)
			for i := range n {
				ids[i] = e.createAt(fmt.Sprintf("SHB-%03d", i), 1_000_000, inventory.DefaultLocation)
			}
			costs := map[string][]requestCost{}
			took := map[string]time.Duration{}
			runs := 0
			for b.Loop() {
				var sh struct{ ID string }
				data := e.do(false, editorEmail, http.StatusCreated, "POST", "/shipments", shipmentBody("default", wh, ids, 1))
				if err := json.Unmarshal(data, &sh); err != nil || sh.ID == "" {
					b.Fatalf("create: %v %s", err, data)
				}
				for _, a := range shipmentBenchActions {
					start := time.Now()
					e.do(true, editorEmail, http.StatusOK, "POST", "/shipments/"+sh.ID+"/"+a, "")
					took[a] += time.Since(start)
					costs[a] = append(costs[a], e.costs[len(e.costs)-1])
				}
				runs++
			}
			for _, a := range shipmentBenchActions {
				r := summarizeCosts(costs[a])
				row := shipmentBenchRow{action: a, lines: n, r: r, floor: floors[a], per: took[a] / time.Duration(runs)}
				rows = append(rows, row)
				b.ReportMetric(r.wcu/float64(n), a+"-wcu/line")
				b.ReportMetric(float64(row.per.Microseconds())/float64(n), a+"-µs/line")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
	printShipmentTable(os.Stdout, rows)
}

var shipmentBenchActions = []string{inventory.ActionReady, inventory.ActionShip, inventory.ActionReceive}

// shipmentBenchSizes is DEPOT_SHIPMENT_BENCH_SIZES (comma-separated line
// counts), else 10, 100 and 500.
func shipmentBenchSizes() []int {
	var out []int
	for _, f := range strings.Split(os.Getenv("DEPOT_SHIPMENT_BENCH_SIZES"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 && n <= inventory.MaxShipmentLines {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []int{10, 100, 500}
	}
	return out
}

type shipmentBenchRow struct {
	action string
	lines  int
	r      stockResult
	floor  floor
	per    time.Duration
}

func printShipmentTable(w io.Writer, rows []shipmentBenchRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nShipment transitions: DynamoDB cost per transition and per line vs the per-line floors of docs/data-model.md §7 (means); DynamoDB: %s\n", engines.DynamoDB)
	fmt.Fprintf(w, "%-8s %5s | %5s %4s %8s %8s | %9s %6s | %9s %6s | %9s %6s | %9s\n",
		"action", "lines", "calls", "txs", "RCU", "WCU", "calls/ln", "floor", "RCU/ln", "floor", "WCU/ln", "floor", "time/line")
	for _, row := range rows {
		n := float64(row.lines)
		fmt.Fprintf(w, "%-8s %5d | %5.0f %4d %8.1f %8.1f | %9.3f %6.2f | %9.2f %6.1f | %9.2f %6.1f | %9s\n",
			row.action, row.lines, row.r.calls, row.r.maxTxs, row.r.rcu, row.r.wcu,
			row.r.calls/n, row.floor.calls, row.r.rcu/n, row.floor.rcu, row.r.wcu/n, row.floor.wcu,
			(row.per / time.Duration(row.lines)).Round(time.Microsecond))
	}
}

// readShipmentFloors reads §7's table | Transition | Per line | Calls/line
// | RCU/line | WCU/line |.
func readShipmentFloors(path string) (map[string]floor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]floor{}
	section, table := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			if section {
				break
			}
			section = strings.HasPrefix(line, "## 7.")
			continue
		}
		if !section || !strings.HasPrefix(line, "|") {
			if table && len(out) > 0 {
				break
			}
			continue
		}
		var c []string
		for _, p := range strings.Split(strings.Trim(line, "|"), "|") {
			c = append(c, strings.TrimSpace(p))
		}
		if !table {
			table = strings.Join(c, "|") == "Transition|Per line|Calls/line|RCU/line|WCU/line"
			continue
		}
		if strings.Trim(strings.Join(c, ""), "-: ") == "" {
			continue
		}
		if len(c) != 5 {
			return nil, fmt.Errorf("%s §7: row %q has %d cells, want 5", path, line, len(c))
		}
		var v [3]float64
		for i, s := range c[2:] {
			if v[i], err = strconv.ParseFloat(s, 64); err != nil {
				return nil, fmt.Errorf("%s §7: %s: %w", path, c[0], err)
			}
		}
		out[c[0]] = floor{scenario: c[1], calls: v[0], rcu: v[1], wcu: v[2]}
	}
	for _, a := range shipmentBenchActions {
		if f, ok := out[a]; !ok || math.IsNaN(f.wcu) {
			return nil, fmt.Errorf("%s §7: no per-line floor of %s", path, a)
		}
	}
	return out, sc.Err()
}

// TestShipmentFloors checks that §7 has a per-line floor for each
// transition BenchmarkShipment measures.
func TestShipmentFloors(t *testing.T) {
	t.Parallel()
	floors, err := readShipmentFloors(dataModelDoc)
	if err != nil {
		t.Fatal(err)
	}
	if f := floors[inventory.ActionShip]; f.rcu != 3 || f.wcu != 19 {
		t.Errorf("§7 ship read as %+v", f)
	}
}
