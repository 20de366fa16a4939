// Command depot-invoke invokes one function of template.yaml once, as
// Lambda would, without Docker (make invoke, a `sam local invoke`):
//
//	depot-invoke [flags] LogicalId
//
// It builds the function's bootstrap for this machine, starts the pinned AWS
// Lambda Runtime Interface Emulator with it on loopback, and posts the event
// (default events/<dir>.json) to it. The response payload goes to stdout as
// indented JSON; the function's logs and the emulator's to stderr. The exit
// status is 1 when the function fails (error, panic, timeout, init failure),
// 2 when it could not be invoked.
//
// The function talks to the engines AWS_ENDPOINT_URL* name (a moto server,
// say) or else to an embedded DynamoDB and S3 started in this process for
// the one invocation, with the table (from template.yaml) and the bucket
// created empty.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/depot-inventory/depot/internal/dev/invoke"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

type envFlags map[string]string

func (e envFlags) String() string { return "" }

func (e envFlags) Set(kv string) error {
	name, v, ok := strings.Cut(kv, "=")
	if !ok || name == "" {
		return errors.New("want NAME=value")
	}
	e[name] = v
	return nil
}

type options struct {
	root, event, table, bucket, rie, out, rieLogLevel string
	env                                               envFlags
	timeout                                           time.Duration
}

func main() {
	opts := options{env: envFlags{}}
	flag.StringVar(&opts.root, "root", ".", "repository root (holds template.yaml)")
	flag.StringVar(&opts.event, "event", "", "event JSON file, - for stdin (default: events/<dir>.json of the function)")
	flag.StringVar(&opts.table, "table", invoke.DefaultTable, "local DynamoDB table name")
	flag.StringVar(&opts.bucket, "bucket", invoke.DefaultBucket, "local S3 bucket name")
	flag.StringVar(&opts.rie, "rie", "bin/"+invoke.RIEBinary, "the Runtime Interface Emulator; installed there at "+invoke.RIEVersion+" unless it is that version")
	flag.StringVar(&opts.out, "out", "bin/invoke", "where to build bootstraps (<out>/<dir>/bootstrap)")
	flag.StringVar(&opts.rieLogLevel, "rie-log-level", "warn", "the emulator's own log level (debug, info, warn, error)")
	flag.Var(opts.env, "env", "set a function environment variable, NAME=value (repeatable; wins over the template)")
	flag.DurationVar(&opts.timeout, "timeout", 5*time.Minute, "bound on everything: build, engines, invocation")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: depot-invoke [flags] LogicalId\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	err := run(flag.Arg(0), opts)
	var fnErr *invoke.FunctionError
	switch {
	case errors.As(err, &fnErr):
		fmt.Fprintf(os.Stderr, "depot-invoke: %s failed: %v\n", flag.Arg(0), fnErr)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "depot-invoke:", err)
		os.Exit(2)
	}
}

func run(id string, opts options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "depot-invoke: "+format+"\n", args...) }

	if runtime.GOOS != "linux" {
		return invoke.ErrNotLinux
	}
	proj, err := invoke.Load(opts.root)
	if err != nil {
		return err
	}
	fn, err := proj.Function(id)
	if err != nil {
		return err
	}
	eventFile := opts.event
	if eventFile == "" {
		eventFile = filepath.Join(opts.root, filepath.FromSlash(fn.EventFile()))
	}
	event, err := readEvent(eventFile)
	if err != nil {
		return err
	}
	names := invoke.Names{Table: opts.table, Bucket: opts.bucket}
	fnEnv, err := proj.Environment(fn, names, opts.env)
	if err != nil {
		return err
	}

	// The emulator and the bootstrap build side by side.
	start := time.Now()
	type rieResult struct {
		path string
		err  error
	}
	rieDone := make(chan rieResult, 1)
	go func() {
		p, err := invoke.EnsureRIE(ctx, filepath.Dir(opts.rie))
		if err == nil && filepath.Base(opts.rie) != invoke.RIEBinary {
			err = fmt.Errorf("-rie must name a file called %s", invoke.RIEBinary)
		}
		rieDone <- rieResult{p, err}
	}()
	bins, buildErr := invoke.Build(ctx, opts.root, opts.out, fn)
	rie := <-rieDone
	if err := errors.Join(buildErr, rie.err); err != nil {
		return err
	}
	logf("built %s (%s) for linux/%s in %s", fn.LogicalID, fn.Package(), runtime.GOARCH, time.Since(start).Round(time.Millisecond))

	engines, err := localrun.UseEngines()
	if err != nil {
		return err
	}
	defer engines.Close()
	if err := localrun.Provision(ctx, lambdafn.Settings{TableName: names.Table, BucketName: names.Bucket}); err != nil {
		return err
	}
	logf("DynamoDB %s (table %s), S3 %s (bucket %s)", engines.DynamoDB, names.Table, engines.S3, names.Bucket)

	emu, err := invoke.Start(ctx, invoke.Config{
		RIE:       rie.path,
		Bootstrap: bins[fn.LogicalID],
		Env:       invoke.ProcessEnv(fn, fnEnv, bins[fn.LogicalID]),
		Timeout:   time.Duration(fn.TimeoutSeconds()) * time.Second,
		Logs:      os.Stderr,
		LogLevel:  opts.rieLogLevel,
	})
	if err != nil {
		return err
	}
	defer emu.Stop()
	logf("invoking %s with %s", fn.LogicalID, eventFile)
	payload, err := emu.Invoke(ctx, event)
	if len(payload) > 0 {
		writePayload(os.Stdout, payload)
	}
	return err
}

func readEvent(file string) ([]byte, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("event %s is not JSON", file)
	}
	return data, nil
}

// writePayload writes JSON indented, anything else as it is.
func writePayload(w io.Writer, payload []byte) {
	var buf bytes.Buffer
	if json.Indent(&buf, payload, "", "  ") != nil {
		buf.Reset()
		buf.Write(payload)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	_, _ = w.Write(buf.Bytes())
}
