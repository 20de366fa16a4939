package itest

import (
	"net/http"
	"testing"

	"github.com/depot-inventory/depot/internal/inventory"
)

// TestExportFiltersReadTheirIndexes: an export reads the items as GET
// /items does with the same filters, so ExportItems queries each index
// those read (low stock, name order, update order); its IAM policy must
// allow each, which the least-privilege check at the end of the suite
// holds it to (every index declared is one a test saw it query).
func TestExportFiltersReadTheirIndexes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createItem(`{"sku":"IDX-1","name":"Bolt","quantity":1,"reorderPoint":5}`)
	e.createItem(`{"sku":"IDX-2","name":"Anchor","quantity":9,"reorderPoint":5}`)
	for _, c := range []struct {
		filters string
		rows    float64
	}{
		{`{"lowStock":true}`, 1},
		{`{"sort":"name"}`, 2},
		{`{"sort":"-updatedAt"}`, 2},
	} {
		job := e.must(http.StatusAccepted, req{Method: "POST", Path: "/exports", Body: `{"filters":` + c.filters + `}`,
			Header: as(viewerEmail)}).json(t)
		done := e.awaitExport(job["id"].(string))
		if done["status"] != inventory.JobSucceeded || done["rows"] != c.rows {
			t.Errorf("export %s: %v, want %v rows", c.filters, done, c.rows)
		}
	}
}
