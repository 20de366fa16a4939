package samtemplate_test

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
	"github.com/depot-inventory/depot/internal/httpapi"
)

// The template's hardening (issue 11 §5b), each as the review asked.

// logGroupRetention returns the retention of the log group ref names
// ("!Ref X" or "!GetAtt X.Arn"), or "" when ref is none.
func logGroupRetention(tmpl *samtemplate.Template, ref string) string {
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(ref, "!Ref "), "!GetAtt "), ".Arn")
	r, ok := tmpl.Resources[id]
	if !ok || r.Type != "AWS::Logs::LogGroup" {
		return ""
	}
	return str(r.Properties["RetentionInDays"])
}

// TestFunctionsTraceAndKeepLogs: every function is traced by X-Ray and logs
// to a log group of the stack that keeps its logs for a while, not to
// Lambda's default group, which keeps them forever.
func TestFunctionsTraceAndKeepLogs(t *testing.T) {
	tmpl := repoTemplate(t)
	for _, id := range slices.Sorted(maps.Keys(tmpl.Functions)) {
		fn := tmpl.Functions[id]
		if fn.Tracing != "Active" {
			t.Errorf("%s: Tracing = %q, want Active", id, fn.Tracing)
		}
		if ret := logGroupRetention(tmpl, fn.LogGroup); ret == "" {
			t.Errorf("%s: LoggingConfig.LogGroup = %q, want !Ref of a log group of the stack with a retention", id, fn.LogGroup)
		}
	}
	if p := tmpl.Parameters["LogRetentionDays"]; !p.HasDefault || p.Default == "" {
		t.Errorf("LogRetentionDays = %+v, want a default", p)
	}
	// The request and event lines that carry the metrics are INFO: a
	// higher level would silence the alarms on them.
	if got := tmpl.Parameters["LogLevel"].AllowedValues; !slices.Equal(got, []string{"DEBUG", "INFO"}) {
		t.Errorf("LogLevel allows %v, want DEBUG and INFO only", got)
	}
}

// TestAPIThrottling: every route is throttled by parameters, and the
// public routes (which run a function for anyone, no token needed) more
// tightly.
func TestAPIThrottling(t *testing.T) {
	tmpl := repoTemplate(t)
	api := tmpl.Resources["HttpApi"].Properties
	num := func(value any) (int, bool) {
		name, ok := strings.CutPrefix(str(value), "!Ref ")
		p, found := tmpl.Parameters[name]
		if !ok || !found || p.Type != "Number" {
			return 0, false
		}
		n, err := strconv.Atoi(p.Default)
		return n, err == nil
	}
	limits := func(where string, v any) (burst, rate int) {
		t.Helper()
		b, ok1 := num(samtemplate.Get(v, "ThrottlingBurstLimit"))
		r, ok2 := num(samtemplate.Get(v, "ThrottlingRateLimit"))
		if !ok1 || !ok2 {
			t.Errorf("%s: %v, want ThrottlingBurstLimit and ThrottlingRateLimit, each !Ref of a Number parameter with a default", where, v)
		}
		return b, r
	}
	burst, rate := limits("DefaultRouteSettings", api["DefaultRouteSettings"])
	var public []string
	for _, r := range httpapi.Routes {
		if r.Role == httpapi.RolePublic {
			public = append(public, r.RouteKey())
		}
	}
	routes, _ := api["RouteSettings"].(map[string]any)
	if got := slices.Sorted(maps.Keys(routes)); !slices.Equal(got, slices.Sorted(slices.Values(public))) {
		t.Errorf("RouteSettings for %v, want the public routes %v", got, public)
	}
	for _, key := range public {
		b, r := limits("RouteSettings "+key, routes[key])
		if b >= burst || r >= rate {
			t.Errorf("%s: burst %d, rate %d; want below the other routes' %d, %d", key, b, r, burst, rate)
		}
	}
}

// TestAPIAccessLogs: API Gateway logs every request, those the authorizer
// refused included, as one JSON object with who and what, to a log group
// with a retention.
func TestAPIAccessLogs(t *testing.T) {
	tmpl := repoTemplate(t)
	s := samtemplate.Get(tmpl.Resources["HttpApi"].Properties, "AccessLogSettings")
	if ret := logGroupRetention(tmpl, str(samtemplate.Get(s, "DestinationArn"))); ret == "" {
		t.Errorf("AccessLogSettings.DestinationArn = %v, want !GetAtt of a log group with a retention", samtemplate.Get(s, "DestinationArn"))
	}
	format := str(samtemplate.Get(s, "Format"))
	for _, v := range []string{"$context.requestId", "$context.identity.sourceIp", "$context.routeKey", "$context.status",
		"$context.authorizer.error", "$context.authorizer.claims.sub"} {
		if !strings.Contains(format, `"`+v+`"`) {
			t.Errorf("the access log has no %s (as a JSON string)", v)
		}
	}
	// Each variable is replaced by text without quotes or backslashes; the
	// line must then be one JSON object.
	line := regexp.MustCompile(`\$context\.[A-Za-z0-9_.]+`).ReplaceAllString(format, "x")
	var obj map[string]string
	if err := json.Unmarshal([]byte(line), &obj); err != nil || len(obj) == 0 {
		t.Errorf("the access log format is not a JSON object of strings: %v\n%s", err, format)
	}
}

// TestActorCannotBeRewritten: the actor recorded on every change is the ID
// token's email (internal/httpapi's identity), so users may not change
// theirs: no app client lets them write it, and a change takes effect only
// once the new address is verified.
func TestActorCannotBeRewritten(t *testing.T) {
	tmpl := repoTemplate(t)
	pool := tmpl.Resources["UserPool"].Properties
	if got := strs(samtemplate.Get(pool, "UserAttributeUpdateSettings", "AttributesRequireVerificationBeforeUpdate")); !slices.Contains(got, "email") {
		t.Errorf("UserPool: AttributesRequireVerificationBeforeUpdate = %v, want email", got)
	}
	clients := appClients(tmpl)
	if len(clients) == 0 {
		t.Fatal("no app client")
	}
	for _, id := range clients {
		w := strs(tmpl.Resources[id].Properties["WriteAttributes"])
		if len(w) == 0 || slices.Contains(w, "email") {
			t.Errorf("%s: WriteAttributes = %v, want a list without email (no list: every attribute is writable)", id, w)
		}
	}
}

func appClients(tmpl *samtemplate.Template) []string {
	var out []string
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::Cognito::UserPoolClient" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// TestSignIn: MFA is on (optional, TOTP); browsers' client signs in by SRP
// only, and password sign-in is the CLI's client's alone; the API accepts
// the tokens of both.
func TestSignIn(t *testing.T) {
	tmpl := repoTemplate(t)
	pool := tmpl.Resources["UserPool"].Properties
	if str(pool["MfaConfiguration"]) != "OPTIONAL" || !slices.Contains(strs(pool["EnabledMfas"]), "SOFTWARE_TOKEN_MFA") {
		t.Errorf("UserPool: MfaConfiguration %v, EnabledMfas %v; want OPTIONAL with SOFTWARE_TOKEN_MFA", pool["MfaConfiguration"], pool["EnabledMfas"])
	}
	flows := func(id string) []string { return strs(tmpl.Resources[id].Properties["ExplicitAuthFlows"]) }
	if got := flows("UserPoolClient"); slices.Contains(got, "ALLOW_USER_PASSWORD_AUTH") || !slices.Contains(got, "ALLOW_USER_SRP_AUTH") {
		t.Errorf("UserPoolClient: flows %v, want SRP and no password", got)
	}
	for _, id := range appClients(tmpl) {
		if id != "CliClient" && slices.Contains(flows(id), "ALLOW_USER_PASSWORD_AUTH") {
			t.Errorf("%s allows password sign-in; only CliClient may", id)
		}
	}
	if !slices.Contains(flows("CliClient"), "ALLOW_USER_PASSWORD_AUTH") {
		t.Errorf("CliClient: flows %v, want password sign-in (docs/auth.md uses it)", flows("CliClient"))
	}
	aud := strings.Join(tmpl.HTTPAPIs["HttpApi"].Authorizers["DepotJwt"].Audience, " ")
	for _, id := range appClients(tmpl) {
		if !strings.Contains(aud, "!Ref "+id) {
			t.Errorf("the authorizer's audience %q lacks %s", aud, id)
		}
	}
}

// TestS3InvokesOnlyFromTheBucket: S3 may invoke a function only for the
// images bucket (SourceArn and SourceAccount), which SAM's S3 events do not
// give; so no function has one, and the bucket waits for the permissions.
func TestS3InvokesOnlyFromTheBucket(t *testing.T) {
	tmpl := repoTemplate(t)
	bucket, err := objectARN(tmpl, "")
	if err != nil {
		t.Fatal(err)
	}
	bucketARN := strings.TrimSuffix(bucket, "/")
	perms := map[string][]string{} // function → permissions
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::Lambda::Permission" || str(r.Properties["Principal"]) != "s3.amazonaws.com" {
			continue
		}
		fn := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(str(r.Properties["FunctionName"]), "!GetAtt "), "!Ref "), ".Arn")
		perms[fn] = append(perms[fn], id)
		if str(r.Properties["SourceArn"]) != bucketARN || str(r.Properties["SourceAccount"]) != "!Ref AWS::AccountId" {
			t.Errorf("%s: SourceArn %v, SourceAccount %v; want %s and !Ref AWS::AccountId", id, r.Properties["SourceArn"], r.Properties["SourceAccount"], bucketARN)
		}
		if !slices.Contains(tmpl.Resources[bucketID].DependsOn, id) {
			t.Errorf("%s does not depend on %s: S3 refuses a notification it may not send", bucketID, id)
		}
	}
	for id, fn := range tmpl.Functions {
		for name, ev := range mapOf(tmpl.Resources[id].Properties["Events"]) {
			if str(samtemplate.Get(ev, "Type")) == "S3" {
				t.Errorf("%s: event %s is SAM's S3 event, whose permission has no SourceArn", id, name)
			}
		}
		if len(fn.S3Events) > 0 && len(perms[id]) != 1 {
			t.Errorf("%s: S3 invokes it, with permissions %v; want one", id, perms[id])
		}
	}
	if len(perms) == 0 {
		t.Error("no function may be invoked by S3")
	}
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// TestDeletionProtection: the table and the user pool refuse deletion.
func TestDeletionProtection(t *testing.T) {
	tmpl := repoTemplate(t)
	if got := str(tmpl.Resources[tmpl.Table.LogicalID].Properties["DeletionProtectionEnabled"]); got != "true" {
		t.Errorf("%s: DeletionProtectionEnabled = %q, want true", tmpl.Table.LogicalID, got)
	}
	if got := str(tmpl.Resources["UserPool"].Properties["DeletionProtection"]); got != "ACTIVE" {
		t.Errorf("UserPool: DeletionProtection = %q, want ACTIVE", got)
	}
}

// cfnPattern compiles a parameter's AllowedPattern as CloudFormation applies
// it: to the whole value.
func cfnPattern(t *testing.T, tmpl *samtemplate.Template, name string) *regexp.Regexp {
	t.Helper()
	p := tmpl.Parameters[name].AllowedPattern
	if p == "" {
		t.Fatalf("parameter %s has no AllowedPattern", name)
	}
	return regexp.MustCompile(`^(?:` + p + `)$`)
}

// TestAllowedOriginsPattern: each CORS origin is https (no wildcard), or
// http://localhost for development.
func TestAllowedOriginsPattern(t *testing.T) {
	tmpl := repoTemplate(t)
	re := cfnPattern(t, tmpl, "AllowedOrigins")
	defaults, err := tmpl.ResolveList([]string{"!Ref AllowedOrigins"})
	if err != nil {
		t.Fatal(err)
	}
	good := append([]string{"https://app.example.com", "https://example.com:8443", "https://a-b.example.co.uk",
		"http://localhost", "http://localhost:3000"}, defaults...)
	for _, o := range good {
		if !re.MatchString(o) {
			t.Errorf("%q is refused", o)
		}
	}
	for _, o := range []string{"*", "https://*", "https://*.example.com", "http://app.example.com", "https://example.com/",
		"https://example.com/path", "http://localhost.evil.com", "https://", "app.example.com", "https://-x.example.com",
		"http://127.0.0.1:3000", "https://example.com:port", "null"} {
		if re.MatchString(o) {
			t.Errorf("%q is allowed", o)
		}
	}
}

// TestStackNameFitsTheBucketName: the images bucket's name is made from the
// stack's, so the StackName parameter's pattern admits exactly the names
// whose bucket name is valid in every region, and a rule ties it to the
// stack's name; samconfig.toml's stack is its default.
func TestStackNameFitsTheBucketName(t *testing.T) {
	tmpl := repoTemplate(t)
	re := cfnPattern(t, tmpl, "StackName")
	const longestRegion = "ap-southeast-2" // 14 characters, as long as any
	bucketName := func(stack string) string {
		name := strings.TrimPrefix(tmpl.Buckets[bucketID].Name, "!Sub ")
		return strings.NewReplacer("${AWS::StackName}", stack, "${AWS::AccountId}", "123456789012",
			"${AWS::Region}", longestRegion).Replace(name)
	}
	validBucket := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	for n := 1; n <= 40; n++ {
		stack := "d" + strings.Repeat("x", n-1)
		if got, want := re.MatchString(stack), validBucket.MatchString(bucketName(stack)); got != want {
			t.Errorf("a stack name of %d characters: allowed %v, but its bucket name %q is valid: %v", n, got, bucketName(stack), want)
		}
	}
	for _, bad := range []string{"Depot", "depot_1", "1depot", "", "de pot"} {
		if re.MatchString(bad) {
			t.Errorf("stack name %q is allowed", bad)
		}
	}
	rule := tmpl.Rules["StackNameIsTheParameter"]
	got := strings.ReplaceAll(str(samtemplate.Get(rule, "Assertions", 0, "Assert")), "'", "") // yaml quotes AWS::StackName
	if got != "!Equals [!Ref StackName, !Ref AWS::StackName]" {
		t.Errorf("rule StackNameIsTheParameter asserts %q, want that StackName is the stack's name", got)
	}
	conf, err := os.ReadFile(repoRoot + "/samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	if def := tmpl.Parameters["StackName"].Default; !strings.Contains(string(conf), `stack_name = "`+def+`"`) {
		t.Errorf("samconfig.toml's stack_name is not StackName's default %q", def)
	}
}

// TestCheckovSkipsHaveReasons: every check skipped for a resource says why,
// in one line.
func TestCheckovSkipsHaveReasons(t *testing.T) {
	tmpl := repoTemplate(t)
	id := regexp.MustCompile(`^CKV2?_AWS_[0-9]+$`)
	n := 0
	for _, name := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		for _, sk := range asList(samtemplate.Get(tmpl.Resources[name].Metadata, "checkov", "skip")) {
			n++
			c := str(samtemplate.Get(sk, "comment"))
			if !id.MatchString(str(samtemplate.Get(sk, "id"))) || len(c) < 20 || len(c) > 160 || strings.Contains(c, "\n") {
				t.Errorf("%s: skip %v, want a check id and a one-line reason", name, sk)
			}
		}
	}
	if n == 0 {
		t.Error("no skip read: is the Metadata parsed?")
	}
}
