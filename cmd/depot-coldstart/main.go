// Command depot-coldstart measures the functions' cold starts (make bench;
// issue 11 §6): the time from each function's process start to its first
// request for an invocation (GET /next on a fake Runtime API on loopback),
// against a minimal aws-lambda-go function built with the same flags.
//
//	depot-coldstart [-runs 15] [-trace-runs 3] [-out bin/coldstart] [LogicalId ...]
//
// It builds every function of template.yaml (or those named) as make build
// does but for this machine, the baseline (internal/dev/coldstart/hello)
// and the baseline with the AWS SDK's DynamoDB and S3 clients (hellosdk:
// its excess over hello is the SDK's own cost); starts each cold, -runs rounds in a new random order each, and then
// -trace-runs rounds with GODEBUG=inittrace=1; and prints per function the
// median and p90, the ratio to the baseline's median, the memory at /next
// and what its package inits cost, the verdict against the goal (≤ 1.5×
// the baseline and < 30 ms), and the heaviest package inits. Every AWS
// endpoint points at a loopback port that counts connections: a function
// that makes a network call at init fails the run (exit status 1), as does
// one that does not reach /next.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/depot-inventory/depot/internal/dev/coldstart"
)

func main() {
	opts := coldstart.Options{Progress: os.Stderr}
	flag.StringVar(&opts.Root, "root", ".", "repository root (holds template.yaml)")
	flag.StringVar(&opts.Out, "out", "bin/coldstart", "where to build the bootstraps (<out>/<dir>/bootstrap)")
	flag.IntVar(&opts.Runs, "runs", 15, "timed cold starts of each function and of the baseline")
	flag.IntVar(&opts.TraceRuns, "trace-runs", 3, "cold starts of each with GODEBUG=inittrace=1 (0: no package init costs)")
	timeout := flag.Duration("timeout", 10*time.Minute, "bound on everything: builds and runs")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: depot-coldstart [flags] [LogicalId ...]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	opts.Functions = flag.Args()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rep, err := coldstart.Measure(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "depot-coldstart:", err)
		os.Exit(1)
	}
	rep.Write(os.Stdout)
}
