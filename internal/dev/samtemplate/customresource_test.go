package samtemplate_test

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"gopkg.in/yaml.v3"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/dev/gen"
	"github.com/depot-inventory/depot/internal/dev/samtemplate"
	"github.com/depot-inventory/depot/internal/lambdafn/seedfn"
)

// customResource is a CloudFormation custom resource of the template.
type customResource struct {
	LogicalID  string
	Type       string
	Properties map[string]string // intrinsics as source, e.g. "!GetAtt Fn.Arn"
}

// function is the logical id of the function the custom resource's
// ServiceToken names as "!GetAtt <Function>.Arn", or "".
func (c customResource) function() string {
	id, ok := strings.CutPrefix(c.Properties["ServiceToken"], "!GetAtt ")
	if !ok {
		return ""
	}
	id, ok = strings.CutSuffix(id, ".Arn")
	if !ok || strings.ContainsAny(id, " .[]") {
		return ""
	}
	return id
}

// customResources are the template's custom resources (Custom::<Name> or
// AWS::CloudFormation::CustomResource), by logical id.
func customResources(t *testing.T) map[string]customResource {
	t.Helper()
	data, err := os.ReadFile(repoRoot + "/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Resources map[string]struct {
			Type       string               `yaml:"Type"`
			Properties map[string]yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	out := map[string]customResource{}
	for id, r := range raw.Resources {
		if !strings.HasPrefix(r.Type, "Custom::") && r.Type != "AWS::CloudFormation::CustomResource" {
			continue
		}
		c := customResource{LogicalID: id, Type: r.Type, Properties: map[string]string{}}
		for k, v := range r.Properties {
			c.Properties[k] = samtemplate.Render(&v)
		}
		out[id] = c
	}
	return out
}

// customResourceFunctions are the custom resources by the function their
// ServiceToken names.
func customResourceFunctions(t *testing.T) map[string]customResource {
	t.Helper()
	out := map[string]customResource{}
	for _, c := range customResources(t) {
		if fn := c.function(); fn != "" {
			out[fn] = c
		}
	}
	return out
}

// TestCustomResourcesInvokeFunctions: every custom resource is served by a
// function of the template, and only by one of its own.
func TestCustomResourcesInvokeFunctions(t *testing.T) {
	tmpl := repoTemplate(t)
	served := map[string]string{}
	for _, id := range slices.Sorted(maps.Keys(customResources(t))) {
		c := customResources(t)[id]
		fn := c.function()
		if fn == "" {
			t.Errorf("%s: ServiceToken = %q, want !GetAtt <Function>.Arn of a function of the template", id, c.Properties["ServiceToken"])
			continue
		}
		if _, ok := tmpl.Functions[fn]; !ok {
			t.Errorf("%s: ServiceToken names %s, which is no function of the template", id, fn)
		}
		if other, ok := served[fn]; ok {
			t.Errorf("%s and %s are both served by %s", other, id, fn)
		}
		served[fn] = id
	}
}

// TestDefaultLocationCustomResource: a deployment seeds the default
// location through the DefaultLocation custom resource, served by
// SeedDefaultLocation, whose policy is exactly its grants on the table.
func TestDefaultLocationCustomResource(t *testing.T) {
	tmpl := repoTemplate(t)
	c, ok := customResources(t)[seedfn.ResourceLogicalID]
	if !ok {
		t.Fatalf("template.yaml has no custom resource %s", seedfn.ResourceLogicalID)
	}
	if c.Type != seedfn.ResourceType {
		t.Errorf("%s: Type = %q, want %q", c.LogicalID, c.Type, seedfn.ResourceType)
	}
	if want := "!GetAtt " + seedfn.Function + ".Arn"; c.Properties["ServiceToken"] != want {
		t.Errorf("%s: ServiceToken = %q, want %q", c.LogicalID, c.Properties["ServiceToken"], want)
	}
	// A replaced table has a new name: the property changes, and
	// CloudFormation sends an Update that seeds the new table.
	if want := "!Ref " + tmpl.Table.LogicalID; c.Properties["TableName"] != want {
		t.Errorf("%s: TableName = %q, want %q, so that a new table is seeded", c.LogicalID, c.Properties["TableName"], want)
	}

	fn, ok := tmpl.Functions[seedfn.Function]
	if !ok {
		t.Fatalf("template.yaml has no function %s", seedfn.Function)
	}
	if len(fn.HTTPRoutes) != 0 || len(fn.S3Events) != 0 {
		t.Errorf("%s: has events (routes %+v, S3 %+v); only CloudFormation invokes it", seedfn.Function, fn.HTTPRoutes, fn.S3Events)
	}
	if want := "!Ref " + tmpl.Table.LogicalID; fn.Env["TABLE_NAME"] != want {
		t.Errorf("%s: TABLE_NAME = %q, want %q", seedfn.Function, fn.Env["TABLE_NAME"], want)
	}
	var want []samtemplate.Grant
	for _, st := range gen.PolicyOf(seedfn.Grants) {
		if st.Resource != gen.ResourceARN(access.Table) {
			t.Errorf("%s: grants reach %s; it only seeds the table", seedfn.Function, st.Resource)
		}
		for _, a := range st.Actions {
			want = append(want, samtemplate.Grant{Action: a, Resource: st.Resource})
		}
	}
	got := slices.Clone(fn.Grants)
	sortGrants(got)
	sortGrants(want)
	if !slices.Equal(got, want) || len(fn.NamedPolicies) > 0 {
		t.Errorf("%s: policy allows %v (named policies %v), want exactly %v", seedfn.Function, got, fn.NamedPolicies, want)
	}
	// Seeding gives up ResponseMargin before the timeout; what is left
	// must be enough for the SDK's retries.
	timeout, err := strconv.Atoi(fn.Timeout)
	if err != nil {
		t.Fatalf("%s: Timeout %q: %v", seedfn.Function, fn.Timeout, err)
	}
	if left := time.Duration(timeout)*time.Second - seedfn.ResponseMargin; left < 10*time.Second {
		t.Errorf("%s: Timeout %ss leaves %s to seed, want at least 10s", seedfn.Function, fn.Timeout, left)
	}
}

// checkCustomResourceEvent checks the sample event of a function served by
// the custom resource: a CloudFormation Create request for it. It has no
// ResponseURL: invoked locally, the function returns its answer instead
// of sending it to a pre-signed URL that does not exist.
func checkCustomResourceEvent(t *testing.T, id string, c customResource, data []byte) {
	t.Helper()
	var ev cfn.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Errorf("%s: sample event: %v", id, err)
		return
	}
	if ev.RequestType != cfn.RequestCreate {
		t.Errorf("%s: sample RequestType %q, want Create", id, ev.RequestType)
	}
	if ev.ResourceType != c.Type || ev.LogicalResourceID != c.LogicalID {
		t.Errorf("%s: sample event is for %s %s, want %s %s", id, ev.ResourceType, ev.LogicalResourceID, c.Type, c.LogicalID)
	}
	if ev.RequestID == "" || !strings.HasPrefix(ev.StackID, "arn:aws:cloudformation:") || ev.PhysicalResourceID != "" {
		t.Errorf("%s: sample event has RequestId %q, StackId %q, PhysicalResourceId %q; want a Create request's",
			id, ev.RequestID, ev.StackID, ev.PhysicalResourceID)
	}
	if ev.ResponseURL != "" {
		t.Errorf("%s: sample event has a ResponseURL; make invoke would fail to send the answer there", id)
	}
	keys := slices.Sorted(maps.Keys(ev.ResourceProperties))
	if want := slices.Sorted(maps.Keys(c.Properties)); !slices.Equal(keys, want) {
		t.Errorf("%s: sample ResourceProperties %v, want the custom resource's %v", id, keys, want)
	}
	for k, v := range ev.ResourceProperties {
		s, _ := v.(string)
		if s == "" || strings.HasPrefix(s, "!") {
			t.Errorf("%s: sample ResourceProperties.%s = %v, want a deployed value", id, k, v)
		}
	}
	if token, _ := ev.ResourceProperties["ServiceToken"].(string); !strings.Contains(token, ":function:") {
		t.Errorf("%s: sample ServiceToken %q is no Lambda function ARN", id, token)
	}
}
