package itest

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/lambdafn/auditfn"
	"github.com/depot-inventory/depot/internal/lambdafn/exportfn"
	"github.com/depot-inventory/depot/internal/lambdafn/importfn"
	"github.com/depot-inventory/depot/internal/lambdafn/resumefn"
	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
	"github.com/depot-inventory/depot/internal/lambdafn/thumbfn"
)

// observedGrants collects, from every function's log lines (one per
// request or event, with the grants its calls needed), what each function
// was seen to do over the whole suite.
var observedGrants = struct {
	sync.Mutex
	m map[string]map[string]bool
}{m: map[string]map[string]bool{}}

// observeGrants reads one log line.
func observeGrants(line []byte) {
	var l struct {
		Function string   `json:"function"`
		Grants   []string `json:"grants"`
	}
	if json.Unmarshal(line, &l) != nil || l.Function == "" {
		return
	}
	observedGrants.Lock()
	defer observedGrants.Unlock()
	if observedGrants.m[l.Function] == nil {
		observedGrants.m[l.Function] = map[string]bool{}
	}
	for _, g := range l.Grants {
		observedGrants.m[l.Function][g] = true
	}
}

// grantProblems compares what each function did with the grants it
// declares (and so with its IAM policy in template.yaml, which the
// generator writes from them): a grant used but not declared would be
// AccessDenied on AWS; one declared but never used is more than least
// privilege. Only meaningful after the whole suite ran.
func grantProblems() []string {
	declared := map[string]access.Grants{thumbfn.Function: thumbfn.Grants, seedfn.Function: seedfn.Grants,
		exportfn.Function: exportfn.Grants, importfn.Function: importfn.Grants, auditfn.Function: auditfn.Grants,
		resumefn.Function: resumefn.Grants}
	for _, r := range httpapi.Routes {
		declared[r.Function] = r.Grants
	}
	observedGrants.Lock()
	defer observedGrants.Unlock()
	var out []string
	for _, fn := range slices.Sorted(maps.Keys(declared)) {
		want := declared[fn].Strings()
		got := slices.Sorted(maps.Keys(observedGrants.m[fn]))
		for _, g := range got {
			if !slices.Contains(want, g) {
				out = append(out, fmt.Sprintf("%s used %q, which it does not declare: on AWS that call is denied", fn, g))
			}
		}
		for _, g := range want {
			if !slices.Contains(got, g) {
				out = append(out, fmt.Sprintf("%s declares %q, which no test saw it use: drop it, or test the path that needs it", fn, g))
			}
		}
	}
	return out
}

// wholeSuite reports whether this run runs every test (not -run, not -short).
func wholeSuite() bool {
	run := flag.Lookup("test.run")
	return run != nil && run.Value.String() == "" && !testing.Short()
}
