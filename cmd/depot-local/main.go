// Command depot-local is Depot's Docker-free local runtime (make run): the
// HTTP API on 127.0.0.1:3000 (PORT overrides) in front of the functions'
// own Lambda handlers, on embedded DynamoDB and S3 engines, or on the
// engines AWS_ENDPOINT_URL* name.
//
// The embedded engines keep their data under the state directory
// ($DEPOT_STATE_DIR, else .local at the module root), in data/, across runs
// (internal/dev/localrun, datastore.go); -fresh (make run FRESH=1) empties
// it first.
//
// Started from a terminal (make run), it takes the terminal's foreground in
// a process group of its own (internal/dev/tty), so that Ctrl-C stops it
// alone and make, seeing it exit 0, exits 0 too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/depot-inventory/depot/internal/dev/console"
	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/dev/localrun"
	"github.com/depot-inventory/depot/internal/dev/runinfo"
	"github.com/depot-inventory/depot/internal/dev/tty"
	"github.com/depot-inventory/depot/internal/lambdafn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "depot-local:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	fresh := flag.Bool("fresh", false, "start with no data: empty the embedded engines' data directory first (make run FRESH=1)")
	consoleDir := flag.String("console", console.DefaultDir(), "the built console (make console) served at /, with the dev sign-in at "+console.SignInPath)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := lambdafn.NewLogger(os.Getenv("LOG_LEVEL"))

	// Ctrl-C for this process alone, not for make (see the package doc);
	// the terminal goes back to make's group on the way out.
	restore, err := tty.TakeForeground(os.Stdin)
	if err != nil {
		logger.Warn("could not take the terminal's foreground; Ctrl-C will stop make too", "error", err)
	}
	defer restore()
	// Ctrl-C while starting up is a stop too, not a failure.
	defer func() {
		if err != nil && ctx.Err() != nil {
			logger.Info("stopped while starting", "error", err)
			err = nil
		}
	}()

	// UseEngines sets these itself when it starts the embedded engines.
	external := os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	stateDir := localauth.DefaultStateDir()
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
	}
	dataDir := filepath.Join(stateDir, dataSubdir)
	if external {
		dataDir = ""
		if *fresh {
			logger.Warn("-fresh (FRESH=1) ignored: the data lives in the engines AWS_ENDPOINT_URL* name")
		}
	}
	engines, err := localrun.UseEnginesWith(localrun.EngineOptions{DataDir: dataDir, Fresh: *fresh})
	if err != nil {
		return err
	}
	defer engines.Close()
	settings := lambdafn.Settings{
		TableName:  envOr("TABLE_NAME", "depot-local"),
		BucketName: envOr("BUCKET_NAME", "depot-local-images"),
	}
	issuer, err := localauth.LoadOrCreate(stateDir)
	if err != nil {
		return err
	}
	data := "in the engines above"
	if d := engines.Data; d != nil {
		r := d.Replayed
		size := fmt.Sprintf("%.1f MB", float64(r.Bytes)/1e6)
		if r.Bytes < 100e3 {
			size = fmt.Sprintf("%d kB", (r.Bytes+999)/1000)
		}
		data = fmt.Sprintf("%s %s (%d changes, %s, replayed in %s; make run FRESH=1 starts empty)",
			keptData, d.Dir, r.Records, size, r.Took.Round(time.Millisecond))
		if r.TornBytes > 0 {
			logger.Warn("dropped the end of a data log: a record cut short by a crash, never acknowledged", "bytes", r.TornBytes)
		}
	}
	stack, err := engines.Deploy(ctx, settings, issuer, logger)
	if err != nil {
		return err
	}
	token, err := issuer.Mint(localauth.Claims{Email: "editor@example.com", Groups: []string{"editor"}}, 12*time.Hour)
	if err != nil {
		return err
	}

	port := envOr("PORT", "3000")
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%s: %w", port, err)
	}
	url := "http://" + ln.Addr().String()
	// Where make audit and make load find this API and its engines.
	dynamoURL, s3URL := runinfo.Endpoints()
	if remove, err := runinfo.Write(stateDir, runinfo.Info{PID: os.Getpid(), API: url, DynamoDB: dynamoURL, S3: s3URL,
		Table: settings.TableName, Bucket: settings.BucketName, Embedded: !external}); err != nil {
		logger.Warn("make audit and make load will not find this API", "error", err)
	} else {
		defer remove()
	}
	// The console on the API's origin, in front of the gateway
	// (internal/dev/console: it takes no path of the API's).
	handler := console.Handler(*consoleDir, issuer, stack.Gateway, logger)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, `Depot local runtime
  API       %s
  Console   %s/ (sign in as any role and email at %s%s)
  DynamoDB  %s (table %s)
  S3        %s (bucket %s)
  JWKS      %s%s (issuer %s, audience %s)
  Data      %s; the signing key stays in %s
An editor token, valid 12 h (more: make token ROLE=viewer|editor|admin EMAIL=you@example.com):
  export TOKEN=%s
Try:
  curl -s -X POST %s/items -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"sku":"WIDGET-1","name":"Widget","quantity":5}'
  curl -s %s/items -H "Authorization: Bearer $TOKEN"
Ctrl-C stops.
`, url, url, url, console.SignInPath, engines.DynamoDB, settings.TableName, engines.S3, settings.BucketName,
		url, localrun.JWKSPath, localauth.IssuerURL, localauth.Audience, data, stateDir, token, url, url)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// dataSubdir is where, in the state directory, the embedded engines keep
// their data.
const dataSubdir = "data"

// keptData starts the banner's Data line with the embedded engines (the
// README's Local data section says the same; a test keeps them so).
const keptData = "kept across restarts in"

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
