// Command depot-gen writes what the route table (internal/httpapi.Routes)
// defines: each API function's main package, its sample event and its block
// of template.yaml's generated section, and removes what no route defines
// any more. Run it with go generate ./... (the directive is in
// internal/httpapi/routes.go); -check only reports what differs.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/depot-inventory/depot/internal/dev/gen"
)

func main() {
	root := flag.String("root", ".", "the repository root")
	check := flag.Bool("check", false, "report the files that differ from what would be written, and exit 1 if any")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "depot-gen:", err)
		os.Exit(1)
	}
}

func run(root string, check bool) error {
	files, stale, err := gen.Plan(root)
	if err != nil {
		return err
	}
	if check {
		diff := append(gen.Diff(root, files), stale...)
		for _, p := range diff {
			fmt.Println(p)
		}
		if len(diff) > 0 {
			return fmt.Errorf("%d generated files are out of date; run go generate ./...", len(diff))
		}
		return nil
	}
	return gen.Write(root, files, stale)
}
