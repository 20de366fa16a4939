// Command hello is the smallest aws-lambda-go function: nothing at init but
// the runtime's own, a handler that answers "hello". It is the baseline
// that depot-coldstart (make bench) compares each function's cold start
// with, built with the same flags.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() { lambda.Start(func() (string, error) { return "hello", nil }) }
