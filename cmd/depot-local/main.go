// Command depot-local is Depot's Docker-free local runtime (make run): the
// HTTP API on 127.0.0.1:3000 (PORT overrides) in front of the functions'
// own Lambda handlers, on embedded DynamoDB and S3 engines, or on the
// engines AWS_ENDPOINT_URL* name.
//
// Started from a terminal (make run), it takes the terminal's foreground in
// a process group of its own (internal/dev/tty), so that Ctrl-C stops it
// alone and make, seeing it exit 0, exits 0 too.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

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
	engines, err := localrun.UseEngines()
	if err != nil {
		return err
	}
	defer engines.Close()
	settings := lambdafn.Settings{
		TableName:  envOr("TABLE_NAME", "depot-local"),
		BucketName: envOr("BUCKET_NAME", "depot-local-images"),
	}
	stateDir := localauth.DefaultStateDir()
	issuer, err := localauth.LoadOrCreate(stateDir)
	if err != nil {
		return err
	}
	data := inMemoryData
	if external {
		data = "in the engines above"
	}
	if abs, err := filepath.Abs(stateDir); err == nil {
		stateDir = abs
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
	srv := &http.Server{Handler: stack.Gateway, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, `Depot local runtime
  API       %s
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
`, url, engines.DynamoDB, settings.TableName, engines.S3, settings.BucketName,
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

// inMemoryData is where the embedded engines keep data, for the banner
// (the README's Local data section says the same; a test keeps them so).
const inMemoryData = "in memory: items and images are gone when this stops"

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
