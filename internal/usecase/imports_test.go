package usecase_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/depot-inventory/depot/internal/dev/memstore"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/itemcsv"
	"github.com/depot-inventory/depot/internal/usecase"
)

// importFixture is an export fixture that imports too: jobs in memory,
// files in its objects, chunks of chunkRows rows.
func importFixture(t *testing.T, chunkRows int) (*fixture, *memstore.Imports) {
	f, _ := exportFixture(t, 1024)
	jobs := memstore.NewImports(f.store)
	f.svc.Imports, f.svc.Files, f.svc.ImportQueue, f.svc.ImportChunkRows = jobs, f.objects, &memstore.Queue{}, chunkRows
	return f, jobs
}

// importFile requests an import, uploads data as its file and runs it to
// the end; it returns the job and its results file's rows.
func (f *fixture) importFile(data string, dryRun bool) (inventory.Import, [][]string) {
	f.t.Helper()
	id := f.uploadImport(data, dryRun)
	return f.finishImport(id)
}

func (f *fixture) uploadImport(data string, dryRun bool) string {
	f.t.Helper()
	up, _, err := f.svc.RequestImport(f.ctx, alice, dryRun)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.objects.Put(f.ctx, inventory.ImportKey(up.Import.ID), usecase.ImportContentType, []byte(data)); err != nil {
		f.t.Fatal(err)
	}
	return up.Import.ID
}

func (f *fixture) finishImport(id string) (inventory.Import, [][]string) {
	f.t.Helper()
	done, err := f.svc.RunImport(f.ctx, id, f.now.Add(time.Hour))
	if err != nil || !done {
		f.t.Fatalf("run import: done %v, %v", done, err)
	}
	d, err := f.svc.GetImport(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	obj, ok := f.objects.Object(inventory.ImportResultsKey(id))
	if !ok {
		return d.Import, nil
	}
	var rows [][]string
	r := itemcsv.NewReader(bytes.NewReader(obj.Data))
	for {
		rec, _, err := r.Read()
		if err != nil {
			break
		}
		rows = append(rows, rec)
	}
	return d.Import, rows
}

// state is everything an import may change, as text: each item's version
// and fields, and its levels.
func (f *fixture) state() string {
	f.t.Helper()
	var b strings.Builder
	for _, sku := range f.listSKUs(inventory.ItemQuery{}, 100) {
		it, err := f.store.FindItemBySKU(f.ctx, sku)
		if err != nil {
			f.t.Fatal(err)
		}
		rp := "-"
		if it.ReorderPoint != nil {
			rp = fmt.Sprint(*it.ReorderPoint)
		}
		fmt.Fprintf(&b, "%s v%d %q %q %v %d %s", it.SKU, it.Version, it.Name, it.Description, it.Tags, it.Quantity, rp)
		levels, _ := f.store.ListLevels(f.ctx, it.ID)
		for _, l := range levels {
			fmt.Fprintf(&b, " %s=%d", l.LocationID, l.OnHand)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (f *fixture) exportAll(include ...string) string {
	f.t.Helper()
	job, _, err := f.svc.RequestExport(f.ctx, alice, inventory.ExportInput{Include: include})
	if err != nil {
		f.t.Fatal(err)
	}
	return string(f.exportFile(f.runExport(job.ID)))
}

func statuses(rows [][]string) string {
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[0]+":"+r[2])
	}
	return strings.Join(out, " ")
}

// TestImportRoundTrip: an export imported again changes nothing, with or
// without stock and groups columns, and reports every row unchanged.
func TestImportRoundTrip(t *testing.T) {
	f, _ := importFixture(t, 2)
	rtm := f.location("RTM-1")
	f.catalogue(5)
	f.createAt("AT-RTM", rtm.ID, 7)
	g := f.mkGroup("Sale")
	f.setMember(g.ID, f.mkItem(inventory.CreateInput{SKU: "GRP-1", Name: "=cmd|' /C calc'!A0", Tags: []string{"-x", "a;b\\c"}}).ID, true)
	before := f.state()
	for _, include := range [][]string{nil, {inventory.IncludeStock, inventory.IncludeGroups}} {
		file := f.exportAll(include...)
		job, rows := f.importFile(file, false)
		if job.Status != inventory.JobSucceeded || job.Counts != (inventory.ImportCounts{Rows: 7, Unchanged: 7}) {
			t.Fatalf("include %v: %+v", include, job)
		}
		if rows[0][0] != "row" || len(rows) != 8 || strings.Count(statuses(rows), "unchanged") != 7 {
			t.Errorf("results %q", rows)
		}
		if after := f.state(); after != before {
			t.Errorf("include %v changed the items:\n%s\nwant\n%s", include, after, before)
		}
	}
	if keys := f.objects.Keys(); slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(k, "/chunks/") }) {
		t.Errorf("chunks left: %v", keys)
	}
}

// TestImportEdits: edited rows change exactly their items, stock
// differences become import ledger lines, new SKUs are created, and every
// bad row gets its own error while the good rows land.
func TestImportEdits(t *testing.T) {
	f, _ := importFixture(t, 3)
	rtm := f.location("RTM-1")
	f.catalogue(4)
	gone := f.mkItem(inventory.CreateInput{SKU: "GONE", Name: "Deleted one"})
	file := f.exportAll(inventory.IncludeStock)
	if _, _, err := f.svc.DeleteItem(f.ctx, alice, gone.ID, "discontinued"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(file, "\r\n"), "\r\n")
	// Rows: header, GONE, SKU-0000..SKU-0003 in SKU order.
	if !strings.Contains(lines[1], `"GONE"`) || !strings.Contains(lines[2], `"SKU-0000"`) {
		t.Fatalf("export %q", lines)
	}
	lines[2] = strings.Replace(lines[2], `"Item 0, ""quoted"""`, `"Renamed, ""still quoted"" 🧰"`, 1)
	cells := strings.Split(lines[3], `","`) // SKU-0001: quantity 1 at DEFAULT
	cells[10], cells[11] = "0", `5"`        // onHand:DEFAULT, onHand:RTM-1 (the row's last cell)
	cells[5] = "5"                          // quantity: the sum
	lines[3] = strings.Join(cells, `","`)
	lines[4] = strings.Replace(lines[4], `"2","2",""`, `"two","2",""`, 1) // quantity not a number
	lines = append(lines,
		`"","NEW-1","Brand new","","fresh","","","3","","","4","0"`,
		`"","NEW-2","","","","","","","","","",""`, // a new item needs a name
		`"","NEW-3","too few fields"`)
	job, rows := f.importFile(strings.Join(lines, "\r\n")+"\r\n", false)
	want := "2:failed 3:updated 4:updated 5:failed 6:unchanged 7:created 8:failed 9:failed"
	if job.Status != inventory.JobSucceeded || statuses(rows) != want {
		t.Fatalf("%s %q %+v\nresults %q", job.Status, job.Error, job.Counts, rows)
	}
	if job.Counts != (inventory.ImportCounts{Rows: 8, Created: 1, Updated: 2, Unchanged: 1, Failed: 4}) {
		t.Errorf("counts %+v", job.Counts)
	}
	for _, c := range []struct {
		row int
		has string
	}{
		{1, "item_deleted"}, {4, "/quantity"}, {7, "/name"}, {8, "fields"},
	} {
		if !strings.Contains(rows[c.row][3], c.has) {
			t.Errorf("row %s error %q, want %q in it", rows[c.row][0], rows[c.row][3], c.has)
		}
	}
	first, _ := f.store.FindItemBySKU(f.ctx, "SKU-0000")
	if first.Name != `Renamed, "still quoted" 🧰` || first.Version != 2 {
		t.Errorf("renamed: %+v", first)
	}
	moved, _ := f.store.FindItemBySKU(f.ctx, "SKU-0001")
	if f.onHand(moved.ID, inventory.DefaultLocation) != 0 || f.onHand(moved.ID, rtm.ID) != 5 || moved.Quantity != 5 {
		t.Errorf("stock of SKU-0001: %d at default, %d at RTM-1", f.onHand(moved.ID, inventory.DefaultLocation), f.onHand(moved.ID, rtm.ID))
	}
	ledger, err := f.svc.ListHistory(f.ctx, moved.ID, "", inventory.PageRequest{Limit: 10})
	if err != nil || len(ledger.Items) != 3 || ledger.Items[0].Reason != inventory.ReasonImport || ledger.Items[1].Reason != inventory.ReasonImport {
		t.Errorf("ledger %+v, %v", ledger.Items, err)
	}
	if untouched, _ := f.store.FindItemBySKU(f.ctx, "SKU-0003"); untouched.Version != 1 {
		t.Errorf("an unchanged row wrote: %+v", untouched)
	}
	created, err := f.store.FindItemBySKU(f.ctx, "NEW-1")
	if err != nil || created.Quantity != 4 || created.CreatedBy != alice.Actor || f.onHand(created.ID, inventory.DefaultLocation) != 4 {
		t.Errorf("created %+v, %v", created, err)
	}
	if _, err := f.store.FindItemBySKU(f.ctx, "GONE"); inventory.CodeOf(err) != inventory.CodeItemNotFound {
		t.Errorf("the deleted item was revived: %v", err)
	}

	// The same file again changes nothing.
	before := f.state()
	again, rows := f.importFile(strings.Join(lines, "\r\n")+"\r\n", false)
	if again.Counts.Created+again.Counts.Updated != 0 || f.state() != before {
		t.Errorf("second run: %+v %q\n%s\nwant\n%s", again.Counts, rows, f.state(), before)
	}
}

// TestImportDryRun reports what an import would do and changes nothing.
func TestImportDryRun(t *testing.T) {
	f, _ := importFixture(t, 2)
	f.catalogue(2)
	before := f.state()
	job, rows := f.importFile("sku,name\r\nSKU-0000,New name\r\nSKU-0001,\"Item 1, \"\"quoted\"\"\"\r\nNEW,Fresh\r\n", true)
	if !job.DryRun || statuses(rows) != "2:updated 3:unchanged 4:created" || f.state() != before {
		t.Fatalf("%+v %q\n%s", job, rows, f.state())
	}
}

// TestImportRefusesMalformedFiles: a file that cannot be imported fails
// with a clear error and changes nothing.
func TestImportRefusesMalformedFiles(t *testing.T) {
	f, _ := importFixture(t, 2)
	f.catalogue(1)
	f.svc.ImportRowLimit = 3
	before := f.state()
	for _, c := range []struct{ name, file, want string }{
		{"empty", "", "empty"},
		{"not CSV", "sku,name\r\nA,\"unterminated\r\n", "not CSV"},
		{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"},
		{"latin-1", "sku,name\r\nSKU-0000,Caf\xe9\r\n", "not UTF-8"},
		{"no sku", "name,quantity\r\nA,1\r\n", "sku column"},
		{"unknown column", "sku,nmae\r\nSKU-0000,x\r\n", "nmae"},
		{"unknown location", "sku,onHand:NOWHERE\r\nSKU-0000,1\r\n", "onHand:NOWHERE"},
		{"too many rows", "sku,name\r\nA,a\r\nB,b\r\nC,c\r\nD,d\r\n", "more than 3 rows"},
		{"no file", "\x00no file", "no file was uploaded"},
	} {
		var id string
		if c.name == "no file" {
			up, _, err := f.svc.RequestImport(f.ctx, alice, false)
			if err != nil {
				t.Fatal(err)
			}
			id = up.Import.ID
		} else {
			id = f.uploadImport(c.file, false)
		}
		job, _ := f.finishImport(id)
		if job.Status != inventory.JobFailed || !strings.Contains(job.Error, c.want) || job.Counts.Rows != 0 {
			t.Errorf("%s: %s %q %+v", c.name, job.Status, job.Error, job.Counts)
		}
	}
	if f.state() != before {
		t.Errorf("a refused file changed items")
	}
}

// TestImportResumes: a run killed at any checkpoint (including after a
// chunk was applied but before it was recorded) or stopped by its
// deadline resumes, and ends with the results file and items of an
// uninterrupted run; no row is applied twice.
func TestImportResumes(t *testing.T) {
	file := "sku,name,quantity\r\n"
	for i := range 9 {
		file += fmt.Sprintf("SKU-%04d,Renamed %d,%d\r\n", i, i, 10+i)
	}
	file += "NEW-A,New A,1\r\nNEW-B,,1\r\nNEW-C,New C,2\r\n"
	run := func(kill int) (string, string, inventory.ImportCounts) {
		f, jobs := importFixture(t, 2)
		f.catalogue(6)
		id := f.uploadImport(file, false)
		saves := 0
		jobs.BeforeSave = func(c inventory.ImportChange) error {
			if saves++; saves == kill {
				return errors.New("killed")
			}
			return nil
		}
		if done, err := f.svc.RunImport(f.ctx, id, f.now.Add(time.Hour)); kill > 0 && (err == nil || done) {
			t.Fatalf("kill at save %d: the run was not stopped (%v, %v)", kill, done, err)
		}
		jobs.BeforeSave = nil
		job, rows := f.finishImport(id)
		var results []string
		for _, r := range rows {
			results = append(results, strings.Join(r, ","))
		}
		return strings.Join(results, "\n"), f.state(), job.Counts
	}
	wantResults, wantState, wantCounts := run(0)
	if wantCounts != (inventory.ImportCounts{Rows: 12, Created: 5, Updated: 6, Failed: 1}) {
		t.Fatalf("uninterrupted: %+v\n%s", wantCounts, wantResults)
	}
	// Saves: start, checked, resumed, 6 chunks, results started, succeeded.
	for kill := 1; kill <= 11; kill++ {
		results, state, counts := run(kill)
		if results != wantResults || counts != wantCounts {
			t.Errorf("kill at save %d: %+v\n%s\nwant\n%s", kill, counts, results, wantResults)
		}
		if state != wantState {
			t.Errorf("kill at save %d: items\n%s\nwant\n%s", kill, state, wantState)
		}
	}

	// Out of time after the first chunk: the worker hands the job over.
	f, _ := importFixture(t, 2)
	f.catalogue(6)
	id := f.uploadImport(file, false)
	if err := f.svc.ProcessImportUpload(f.ctx, inventory.ImportKey(id), f.now.Add(usecase.HandoverMargin-time.Second)); err != nil {
		t.Fatal(err)
	}
	if sent := f.svc.ImportQueue.(*memstore.Queue).Sent(); !slices.Equal(sent, []string{id}) {
		t.Fatalf("handed over %v", sent)
	}
	if err := f.svc.ProcessImport(f.ctx, id, 1, f.now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.GetImport(f.ctx, id); d.Status != inventory.JobSucceeded || d.Counts != wantCounts || d.ResultsURL == "" {
		t.Errorf("after the hand-over: %+v", d)
	}
	// Keys other than an import's file are not imports.
	if err := f.svc.ProcessImportUpload(f.ctx, inventory.ImportResultsKey(id), f.now.Add(time.Hour)); err != nil {
		t.Error(err)
	}
}
