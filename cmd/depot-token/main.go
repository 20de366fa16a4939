// Command depot-token mints a local ID token that the local API gateway
// accepts, and prints only the token:
//
//	go run ./cmd/depot-token -role editor -email alice@example.com
//	curl -H "Authorization: Bearer $(go run ./cmd/depot-token -role viewer)" ...
//
// The signing key lives in the state directory (-state, default $DEPOT_STATE_DIR
// or .local at the module root) and is created there on first use.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/depot-inventory/depot/internal/dev/localauth"
	"github.com/depot-inventory/depot/internal/httpapi"
)

var roles = []string{string(httpapi.RoleViewer), string(httpapi.RoleEditor), string(httpapi.RoleAdmin)}

func main() {
	role := flag.String("role", string(httpapi.RoleViewer), "role(s), comma-separated: "+strings.Join(roles, ", "))
	email := flag.String("email", "developer@example.com", "email claim (the actor recorded on changes)")
	state := flag.String("state", localauth.DefaultStateDir(), "state directory holding the signing key")
	ttl := flag.Duration("ttl", 12*time.Hour, "token lifetime")
	flag.Parse()
	if flag.NArg() > 0 {
		usage(fmt.Sprintf("unexpected arguments %q", flag.Args()))
	}

	groups, err := parseRoles(*role)
	if err != nil {
		usage(err.Error())
	}
	if *ttl <= 0 {
		usage("-ttl must be positive")
	}
	if strings.TrimSpace(*email) == "" {
		usage("-email must not be empty")
	}

	issuer, err := localauth.LoadOrCreate(*state)
	if err != nil {
		fail(err)
	}
	token, err := issuer.Mint(localauth.Claims{Email: *email, Groups: groups}, *ttl)
	if err != nil {
		fail(err)
	}
	fmt.Println(token)
}

func parseRoles(s string) ([]string, error) {
	var groups []string
	for r := range strings.SplitSeq(s, ",") {
		r = strings.TrimSpace(r)
		if !slices.Contains(roles, r) {
			return nil, fmt.Errorf("unknown role %q (want %s)", r, strings.Join(roles, ", "))
		}
		if !slices.Contains(groups, r) {
			groups = append(groups, r)
		}
	}
	return groups, nil
}

func usage(msg string) {
	fmt.Fprintln(os.Stderr, "depot-token:", msg)
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "depot-token:", err)
	os.Exit(1)
}
