// Command initnet is a function that misbehaves at init, for the tests of
// package coldstart: with INITNET=dial it makes an HTTP request to
// AWS_ENDPOINT_URL before lambda.Start (a network call at init, which the
// harness must see), with INITNET=exit it exits with status 3 before ever
// asking for an invocation (an init failure).
package main

import (
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	switch os.Getenv("INITNET") {
	case "dial":
		if resp, err := http.Get(os.Getenv("AWS_ENDPOINT_URL")); err == nil {
			resp.Body.Close()
		}
	case "exit":
		os.Stderr.WriteString("initnet: failing init on purpose\n")
		os.Exit(3)
	}
	lambda.Start(func() error { return nil })
}
