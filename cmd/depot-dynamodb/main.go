// Command depot-dynamodb is the embedded DynamoDB (minidyn, as make run
// serves it: localrun.StartDynamoDB) alone, in a process of its own, on a
// loopback port. It prints its URL as the first line of stdout and serves
// until stdin closes (its parent is gone) or it is signalled.
//
// The integration suite runs under the race detector, which slows minidyn
// (a table scan per Query, a table copy per transaction) several times
// over: `make integration` starts this process, built without it, and
// names it in DEPOT_DYNAMODB_URL (tools/with-dynamodb.sh), so the
// detector watches Depot's code and the engine runs at full speed. The
// suite still starts the embedded S3 and its notifications in process.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/depot-inventory/depot/internal/dev/localrun"
)

func main() {
	ddb, err := localrun.StartDynamoDB()
	if err != nil {
		fmt.Fprintln(os.Stderr, "depot-dynamodb:", err)
		os.Exit(1)
	}
	fmt.Println(ddb.URL)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	if err := ddb.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "depot-dynamodb:", err)
	}
}
