// Package build_test checks the Makefile and its fragments (build/*.mk) as a
// developer meets them: what `make` alone does, that `make help` lists every
// public target and each of them exists, and that `make test` runs each
// test suite once.
package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const repoRoot = ".."

// mk runs make in the repository root with args, with none of the calling
// make's flags (go test may run under make test), and returns its stdout;
// stderr goes into the failure message.
func mk(t *testing.T, args ...string) string {
	t.Helper()
	out, err := mkErr(args...)
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func mkErr(args ...string) (string, error) {
	cmd := exec.Command("make", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=", "MFLAGS=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

func needMake(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
}

// TestMakeAlonePrintsHelp: `make` with no target runs the help and nothing
// else (an included fragment's first target, bench-images, once was the
// default and could apt-get install ImageMagick).
func TestMakeAlonePrintsHelp(t *testing.T) {
	needMake(t)
	help := mk(t, "help")
	if !strings.Contains(help, "make run") || !strings.Contains(help, "make test") {
		t.Fatalf("make help does not list make run and make test:\n%s", help)
	}
	if got := mk(t); got != help {
		t.Errorf("make alone printed\n%s\nwant what make help prints:\n%s", got, help)
	}
	// -n prints the commands make would run without running them: those of
	// help, which only echo.
	dry := mk(t, "-n")
	if dry != mk(t, "-n", "help") {
		t.Errorf("make -n would run\n%s\nwant the help's commands only", dry)
	}
	for _, l := range strings.Split(strings.TrimSpace(dry), "\n") {
		if !strings.HasPrefix(l, "echo ") {
			t.Errorf("make -n would run %q, not just echo the help", l)
		}
	}
}

// phonyTargets are the targets every .PHONY line of the Makefile and
// build/*.mk declares.
func phonyTargets(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(repoRoot, "build", "*.mk"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(repoRoot, "Makefile"))
	var targets []string
	re := regexp.MustCompile(`(?m)^\.PHONY\s*:(.*)$`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(data, -1) {
			for _, name := range strings.Fields(string(m[1])) {
				if !slices.Contains(targets, name) {
					targets = append(targets, name)
				}
			}
		}
	}
	if len(targets) < 10 {
		t.Fatalf("found only %d .PHONY targets: %v", len(targets), targets)
	}
	return targets
}

// TestHelpListsEveryTarget: every .PHONY target is listed by make help as
// "make <target>", and exists: `make -n <target>` (which prints the recipe
// without running it) knows a rule for it.
func TestHelpListsEveryTarget(t *testing.T) {
	needMake(t)
	help := mk(t, "help")
	for _, target := range phonyTargets(t) {
		if !regexp.MustCompile(`(?m)^\s*make ` + regexp.QuoteMeta(target) + `(\s|$)`).MatchString(help) {
			t.Errorf("make help does not list make %s", target)
		}
		if out, err := mkErr("-n", target); err != nil {
			t.Errorf("make -n %s: %v\n%s", target, err, out)
		}
	}
}

// TestMakeTestRunsEachSuiteOnce: make test runs the integration suite once
// on the embedded engines (make integration) and once on moto, and the unit
// tests (make unit) cover every other package: no package twice, none left
// out.
func TestMakeTestRunsEachSuiteOnce(t *testing.T) {
	needMake(t)
	dry := mk(t, "-n", "test")
	var unit []string
	itest, moto := 0, 0
	for _, l := range strings.Split(dry, "\n") {
		if !strings.Contains(l, "go test ") {
			continue
		}
		switch {
		case strings.Contains(l, "with-moto.sh"):
			moto++
			if !strings.HasSuffix(l, " ./internal/itest/...") {
				t.Errorf("the moto run is not the integration suite: %s", l)
			}
		case strings.HasSuffix(l, " ./internal/itest/..."):
			itest++
		default:
			if len(unit) > 0 {
				t.Errorf("a second go test line: %s", l)
			}
			unit = strings.Fields(l)[4:] // after go test -race -count=1
		}
	}
	if itest != 1 || moto != 1 || unit == nil {
		t.Fatalf("make -n test: %d embedded and %d moto runs of the integration suite, unit line %v; want 1, 1 and one:\n%s", itest, moto, unit, dry)
	}

	cmd := exec.Command("go", "list", "-f", `.{{slice .ImportPath (len .Module.Path)}}`, "./...")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		inItest := p == "./internal/itest" || strings.HasPrefix(p, "./internal/itest/")
		if inUnit := slices.Contains(unit, p); inUnit == inItest {
			t.Errorf("package %s: in the unit run %v, in the integration suite %v; want exactly one", p, inUnit, inItest)
		}
	}
	if !slices.Contains(unit, "./build") || !slices.Contains(unit, "./cmd/depot-local") {
		t.Errorf("the unit run misses ./build or ./cmd/depot-local: %v", unit)
	}
}

// TestReadmeListsEveryTarget: the README's Make targets table has every
// .PHONY target too, and its first screen is what Depot is, then make run
// and make test, then the deploy command.
func TestReadmeListsEveryTarget(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	_, table, ok := strings.Cut(readme, "## Make targets")
	if !ok {
		t.Fatal("README has no Make targets section")
	}
	for _, target := range phonyTargets(t) {
		if !regexp.MustCompile("`make " + regexp.QuoteMeta(target) + "[` ]").MatchString(table) {
			t.Errorf("README's Make targets table does not list make %s", target)
		}
	}
	first := strings.Join(strings.SplitN(readme, "\n", 30)[:29], "\n")
	run, test, deploy := strings.Index(first, "\nmake run "), strings.Index(first, "\nmake test "), strings.Index(first, "\nsam build && sam deploy --guided\n")
	if !strings.HasPrefix(readme, "# Depot\n\nDepot is ") || run < 0 || test < run || deploy < test {
		t.Errorf("README's first screen is not: what Depot is, make run, make test, sam build && sam deploy --guided:\n%s", first)
	}
}
