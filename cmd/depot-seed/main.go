// Command depot-seed (make seed) loads sample data into a running Depot
// through its public API alone: three warehouses, about 200 items with
// SKUs, descriptions and tags, groups, purchase orders received, transfers,
// damage, returns and cycle counts, photos (drawn here, uploaded by the
// presigned POST, so MakeThumbnails makes their thumbnails) and a few items
// deleted with a comment. A newcomer's make run shows a living inventory.
//
//	make seed                  # against the running make run
//	go run ./cmd/depot-seed -api http://127.0.0.1:3000 -seed 1 -v
//
// The API is -api, else $API, else the running make run's (its run.json in
// the state directory: internal/dev/runinfo), else http://127.0.0.1:3000.
// Tokens come from the local issuer (the state directory's key, as make
// token's), so it seeds make run, not a deployment. The data is made from
// -seed alone. Running it again adds nothing: it looks first and creates
// only what is missing (locations by code, items by SKU, groups by name;
// stock movements only for items whose ledger holds just their creation,
// photos only for items without one), and every POST and DELETE carries an
// Idempotency-Key made from the seed, so a retry is harmless too.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/runinfo"
)

func main() {
	api := flag.String("api", os.Getenv("API"), "the API's base URL (default $API, else the running make run's)")
	seed := flag.Uint64("seed", 1, "the sample data's seed: the same seed, the same data")
	items := flag.Int("items", 200, "live items")
	deleted := flag.Int("deleted", 5, "items deleted, with a comment")
	photos := flag.Int("photos", 10, "items with a photo")
	parallel := flag.Int("parallel", 8, "requests in flight")
	state := flag.String("state", localauth.DefaultStateDir(), "state directory holding the local issuer's key (as make run's)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	verbose := flag.Bool("v", false, "print each phase's time on stderr")
	flag.Parse()
	if flag.NArg() > 0 || *items < 1 || *deleted < 0 || *photos < 0 || *parallel < 1 {
		fmt.Fprintln(os.Stderr, "usage: depot-seed [-api URL] [-seed N] [-items N] [-deleted N] [-photos N] [-parallel N] [-state DIR]")
		os.Exit(2)
	}
	if *api == "" {
		*api = "http://127.0.0.1:3000"
		if info, err := runinfo.Read(*state); err == nil {
			*api = info.API
		}
	}
	issuer, err := localauth.LoadOrCreate(*state)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	s, err := newSeeder(*api, issuer, *seed, *parallel)
	if err != nil {
		fail(err)
	}
	if *verbose {
		s.verbose = os.Stderr
	}
	start := time.Now()
	sum, err := s.run(ctx, newPlan(*seed, *items, *deleted, *photos))
	if err != nil {
		fail(err)
	}
	fmt.Printf("seeded %s in %s: %s\n", *api, time.Since(start).Round(10*time.Millisecond), sum)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "depot-seed:", err)
	os.Exit(1)
}
