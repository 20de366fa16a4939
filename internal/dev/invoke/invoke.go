// Package invoke runs one function of template.yaml as Lambda runs it, with
// no Docker: its bootstrap built for this machine, started by the AWS Lambda
// Runtime Interface Emulator (RIE) and invoked with an event through the
// RIE's Invoke API. It is `make invoke` (cmd/depot-invoke), a Docker-free
// `sam local invoke`.
//
// The RIE passes its whole environment to the function, so the emulator
// gets a made-up one (ProcessEnv): the function's variables from the
// template resolved to local values (Environment), Lambda's reserved
// variables, and this process's AWS region, credentials and endpoints.
package invoke

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

// The Runtime Interface Emulator, pinned. It is built from the module proxy
// with `go install RIEPackage@RIEVersion` (build/invoke.mk does the same with
// the same version), never through go.mod.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	RIEPackage = RIEModule + "/cmd/aws-lambda-rie"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
	// RIEBinary is the name go install gives the emulator.
	RIEBinary = "aws-lambda-rie"
)

// Local names of the stack's table and bucket (those of make run).
const (
	DefaultTable  = "depot-local"
	DefaultBucket = "depot-local-images"
)

// DefaultTimeout is Lambda's default function timeout, for a function whose
// template sets none.
const DefaultTimeout = 3

// Project is the template of a repository checkout.
type Project struct {
	Root     string // the repository root, holding template.yaml
	Template *samtemplate.Template
	params   map[string]string // Parameters' defaults
}

// Load reads root/template.yaml.
func Load(root string) (*Project, error) {
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.Parse(data)
	if err != nil {
		return nil, err
	}
	params, err := parameterDefaults(data)
	if err != nil {
		return nil, err
	}
	return &Project{Root: root, Template: tmpl, params: params}, nil
}

// Function is a function of the template.
type Function struct {
	samtemplate.Function
	// Dir is its code directory (CodeUri), slash-separated and relative to
	// the repository root, e.g. "functions/create-item".
	Dir string
}

// Package is the Go package of the function's main, e.g.
// "./functions/create-item".
func (f Function) Package() string { return "./" + f.Dir }

// Name is the last element of Dir, e.g. "create-item".
func (f Function) Name() string { return path.Base(f.Dir) }

// EventFile is the function's sample event, e.g. "events/create-item.json".
func (f Function) EventFile() string { return path.Join("events", f.Name()+".json") }

// TimeoutSeconds is the function's Timeout (Globals applied), or
// DefaultTimeout when the template sets none or an intrinsic.
func (f Function) TimeoutSeconds() int {
	if n, err := strconv.Atoi(f.Timeout); err == nil && n > 0 {
		return n
	}
	return DefaultTimeout
}

// Function returns the function with the logical id.
func (p *Project) Function(id string) (Function, error) {
	fn, ok := p.Template.Functions[id]
	if !ok {
		return Function{}, fmt.Errorf("template.yaml has no function %q; its functions: %s",
			id, strings.Join(slices.Sorted(maps.Keys(p.Template.Functions)), ", "))
	}
	dir, err := codeDir(fn.CodeURI)
	if err != nil {
		return Function{}, fmt.Errorf("function %s: %w", id, err)
	}
	return Function{Function: fn, Dir: dir}, nil
}

// Functions returns every function of the template, by logical id.
func (p *Project) Functions() ([]Function, error) {
	var out []Function
	for _, id := range slices.Sorted(maps.Keys(p.Template.Functions)) {
		fn, err := p.Function(id)
		if err != nil {
			return nil, err
		}
		out = append(out, fn)
	}
	return out, nil
}

func codeDir(uri string) (string, error) {
	dir := path.Clean(strings.TrimSpace(uri))
	if uri == "" || strings.HasPrefix(uri, "!") || !filepath.IsLocal(filepath.FromSlash(dir)) || dir == "." {
		return "", fmt.Errorf("CodeUri %q is not a directory of the repository", uri)
	}
	return dir, nil
}

// Names are the local names of the stack's table and bucket.
type Names struct {
	Table  string
	Bucket string
	// Queue is the URL every job queue (EXPORT_QUEUE_URL,
	// IMPORT_QUEUE_URL) resolves to; "" is NoQueue.
	Queue string
}

// NoQueue is the local queue URL when none is given: nothing listens
// there, so a function that sends a job answers 503 service_unavailable.
// Point Names.Queue at an SQS engine (moto) to send jobs for real.
const NoQueue = "http://127.0.0.1:9/000000000000/depot-jobs"

// Well-known variables whose intrinsic values have a fixed local value.
func wellKnown(name string, names Names) (string, bool) {
	switch name {
	case "TABLE_NAME":
		return names.Table, true
	case "BUCKET_NAME":
		return names.Bucket, true
	case "ROLES_CLAIM":
		return "cognito:groups", true // the Cognito pool's claim, which the sample events carry
	case "LOG_LEVEL":
		return "info", true
	case "EXPORT_QUEUE_URL", "IMPORT_QUEUE_URL":
		if names.Queue == "" {
			return NoQueue, true
		}
		return names.Queue, true
	}
	return "", false
}

// Environment is the function's environment from the template, resolved
// for a local run. Literal values are kept as written. Intrinsics are
// resolved: TABLE_NAME and BUCKET_NAME to names, ROLES_CLAIM to
// cognito:groups, LOG_LEVEL to info; any other variable's !Ref of the table
// or a bucket to its local name, and of a parameter to its Default.
// overrides win over all and may add variables. A variable that cannot be
// resolved is an error naming it, to be given in overrides.
func (p *Project) Environment(f Function, names Names, overrides map[string]string) (map[string]string, error) {
	env := map[string]string{}
	var unresolved []string
	for name, v := range f.Env {
		if _, ok := overrides[name]; ok {
			continue
		}
		if !strings.HasPrefix(v, "!") {
			env[name] = v
			continue
		}
		if r, ok := p.resolve(name, v, names); ok {
			env[name] = r
			continue
		}
		unresolved = append(unresolved, name+": "+v)
	}
	maps.Copy(env, overrides)
	if len(unresolved) > 0 {
		slices.Sort(unresolved)
		return nil, fmt.Errorf("function %s: cannot give a local value to %s; set it with -env NAME=value",
			f.LogicalID, strings.Join(unresolved, ", "))
	}
	return env, nil
}

func (p *Project) resolve(name, v string, names Names) (string, bool) {
	if r, ok := wellKnown(name, names); ok {
		return r, true
	}
	ref, ok := strings.CutPrefix(v, "!Ref ")
	if !ok {
		return "", false
	}
	ref = strings.TrimSpace(ref)
	if ref == p.Template.Table.LogicalID {
		return names.Table, true
	}
	if _, ok := p.Template.Buckets[ref]; ok {
		return names.Bucket, true
	}
	d, ok := p.params[ref]
	return d, ok
}

func parameterDefaults(data []byte) (map[string]string, error) {
	var raw struct {
		Parameters map[string]struct {
			Default yaml.Node `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse template parameters: %w", err)
	}
	out := map[string]string{}
	for name, p := range raw.Parameters {
		if p.Default.Kind == yaml.ScalarNode {
			out[name] = p.Default.Value
		}
	}
	return out, nil
}

// ProcessEnv is the whole environment of the emulator, which hands all of
// it to the function: fnEnv (from Environment), then Lambda's reserved
// variables, and the AWS region, credentials and endpoints
// (AWS_ENDPOINT_URL*) of this process. Nothing else of this process's
// environment gets through. bootstrap is the function's binary.
func ProcessEnv(f Function, fnEnv map[string]string, bootstrap string) []string {
	env := maps.Clone(fnEnv)
	if env == nil {
		env = map[string]string{}
	}
	region := cmpOr(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	reserved := map[string]string{
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(bootstrap),
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": memorySize(f),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(f.TimeoutSeconds()),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.LogicalID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local",
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_EXECUTION_ENV":               "AWS_Lambda_rie",
	}
	maps.Copy(env, reserved)
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if v := os.Getenv(name); v != "" {
			env[name] = v
		}
	}
	for _, kv := range os.Environ() {
		name, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_ENDPOINT_URL") && v != "" {
			env[name] = v
		}
	}
	// SQS requests go where the queue URL points, unless an endpoint for
	// SQS is set: never to AWS by default.
	for _, name := range []string{"EXPORT_QUEUE_URL", "IMPORT_QUEUE_URL"} {
		if u, err := url.Parse(env[name]); err == nil && u.Host != "" && env["AWS_ENDPOINT_URL_SQS"] == "" && env["AWS_ENDPOINT_URL"] == "" {
			env["AWS_ENDPOINT_URL_SQS"] = u.Scheme + "://" + u.Host
		}
	}
	out := make([]string, 0, len(env))
	for _, name := range slices.Sorted(maps.Keys(env)) {
		out = append(out, name+"="+env[name])
	}
	return out
}

func memorySize(f Function) string {
	if n, err := strconv.Atoi(f.MemorySize); err == nil && n > 0 {
		return f.MemorySize
	}
	return "128"
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// goTool is the go command: $GO (as make passes it) or go.
func goTool() string { return cmpOr(os.Getenv("GO"), "go") }

// Build compiles the functions' bootstraps for this machine (GOOS linux,
// the GOARCH of this process, CGO off, tag lambda.norpc) with one go build
// run in root, into outDir/<Name>/bootstrap. It returns their absolute paths
// by logical id.
func Build(ctx context.Context, root, outDir string, fns ...Function) (map[string]string, error) {
	if len(fns) == 0 {
		return map[string]string{}, nil
	}
	outDir, err := filepath.Abs(outDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(outDir, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	args := []string{"build", "-buildvcs=false", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", tmp + string(filepath.Separator)}
	for _, f := range fns {
		args = append(args, f.Package())
	}
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}

	paths := map[string]string{}
	for _, f := range fns {
		dir := filepath.Join(outDir, f.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		dst := filepath.Join(dir, "bootstrap")
		if err := os.Rename(filepath.Join(tmp, f.Name()), dst); err != nil {
			return nil, fmt.Errorf("function %s: %w", f.LogicalID, err)
		}
		paths[f.LogicalID] = dst
	}
	return paths, nil
}

// EnsureRIE returns the path of binDir/aws-lambda-rie, first installing it
// there with go install at RIEVersion unless it is that version already.
func EnsureRIE(ctx context.Context, binDir string) (string, error) {
	binDir, err := filepath.Abs(binDir)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(binDir, RIEBinary)
	if err := CheckRIE(bin); err == nil {
		return bin, nil
	}
	target := RIEPackage + "@" + RIEVersion
	cmd := exec.CommandContext(ctx, goTool(), "install", "-trimpath", target)
	// A binary for this machine, wherever the caller points GOOS/GOARCH.
	cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOOS=", "GOARCH=", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", target, err, out)
	}
	return bin, CheckRIE(bin)
}

// CheckRIE reports whether bin is the emulator at RIEVersion.
func CheckRIE(bin string) error {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return err
	}
	if info.Main.Path != RIEModule || info.Main.Version != RIEVersion {
		return fmt.Errorf("%s is %s@%s, want %s@%s", bin, info.Main.Path, info.Main.Version, RIEModule, RIEVersion)
	}
	return nil
}

// ErrNotLinux is returned on machines where the emulator cannot run.
var ErrNotLinux = errors.New("the Lambda Runtime Interface Emulator and the functions' linux bootstraps run on Linux only")
