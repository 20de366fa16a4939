// Package samtemplate reads the parts of the SAM template (template.yaml) that
// Go code and tests rely on: the parameters, the functions with their routes,
// S3, SQS and schedule events, asynchronous invocation settings, reserved concurrency,
// environment, tracing, log group and IAM grants, the HTTP APIs with their
// authorizers and CORS configuration, the S3 buckets with the functions
// their notifications invoke (as those functions' S3 events), the outputs,
// and the DynamoDB table, from which the local runtime creates its table so
// that local and deployed tables cannot drift. Every resource is also kept
// as written (Resources), its properties as plain values, for the tests of
// what no type here models (alarms, permissions, log groups, the user
// pool).
//
// CloudFormation intrinsics (!Ref, !GetAtt, !Sub, !If, ... and their long
// forms such as {"Ref": "Table"}) are not evaluated: wherever one appears its
// source form is kept as a string, e.g. "!Ref Table".
//
// It is dev-only (make run, make invoke, the generator and the tests); no
// Lambda links it. It is not github.com/awslabs/goformation because
// goformation (v7.14.9, tried on this template) cannot read it: its typed
// properties reject intrinsics where a string is expected when told not to
// evaluate them (Environment.Variables holds !Sub), and when it evaluates
// them, the Number parameter MaxUploadBytes that !Ref puts into an
// environment variable fails to decode into a string. Tests need the
// intrinsics as written anyway (which policy names which ARN, which !Ref
// would make a circular dependency). Template.Resolve evaluates the one the
// local runtime needs, !Ref of a parameter, to the parameter's Default.
package samtemplate

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// Resource types the parser understands.
const (
	typeFunction = "AWS::Serverless::Function"
	typeHTTPAPI  = "AWS::Serverless::HttpApi"
	typeTable    = "AWS::DynamoDB::Table"
	typeBucket   = "AWS::S3::Bucket"
)

// Authorizer types, as SAM derives them from an HttpApi authorizer's
// properties.
const (
	AuthorizerJWT    = "JWT"     // has JwtConfiguration (SAM's OAuth2Authorizer)
	AuthorizerLambda = "REQUEST" // a Lambda authorizer (FunctionArn)
)

// Template is the parsed template.
type Template struct {
	Parameters map[string]Parameter // by name
	Functions  map[string]Function  // by logical id
	HTTPAPIs   map[string]HTTPAPI   // by logical id
	Buckets    map[string]Bucket    // by logical id
	Outputs    map[string]Output    // by logical id
	Table      TableDef
	// Types are the types of all resources, by logical id.
	Types map[string]string
	// Resources are all resources as written (Globals not applied), by
	// logical id.
	Resources map[string]Resource
	// Rules are the template's Rules as written (plain values, see
	// Value), by name.
	Rules map[string]any
}

// Resource is a resource as written: its attributes, and its Metadata and
// Properties as plain values (see Value).
type Resource struct {
	Type           string
	Condition      string
	DependsOn      []string
	DeletionPolicy string
	Metadata       map[string]any
	Properties     map[string]any
}

// Value is a node of the template as a plain value: a mapping is a
// map[string]any, a sequence a []any, a scalar its string, and an
// intrinsic its source form ("!Ref X", "!GetAtt X.Arn", "!If [C, A, B]").
func Value(n *yaml.Node) any {
	n = deref(n)
	switch {
	case n.Kind == 0:
		return nil
	case isIntrinsic(n):
		return render(n)
	case n.Kind == yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = Value(n.Content[i+1])
		}
		return m
	case n.Kind == yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, Value(c))
		}
		return l
	case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
		return Value(n.Content[0])
	}
	return n.Value
}

// Get follows a path of keys (for a map) and indexes (for a list) from v,
// and returns what it ends at, or nil.
func Get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		default:
			return nil
		}
	}
	return v
}

// Function is an AWS::Serverless::Function with Globals.Function applied.
type Function struct {
	LogicalID   string
	CodeURI     string
	BuildMethod string            // Metadata.BuildMethod, e.g. "go1.x"
	Env         map[string]string // Globals and function variables merged; intrinsics as source, e.g. "!Ref Table"
	MemorySize  string            // MB, as written (Globals applied); intrinsics as source
	Timeout     string            // seconds, as written (Globals applied); intrinsics as source
	// ReservedConcurrentExecutions is the function's reserved concurrency,
	// as written (Globals applied); empty when not set (the function draws
	// on the account's unreserved concurrency).
	ReservedConcurrentExecutions string
	// Tracing is the X-Ray tracing mode (Globals applied), e.g. "Active".
	Tracing string
	// LogGroup is LoggingConfig.LogGroup (Globals applied), e.g. "!Ref
	// FunctionLogs"; empty when the function logs to Lambda's default
	// group, which keeps logs forever.
	LogGroup   string
	HTTPRoutes []HTTPRoute // events of type HttpApi, sorted by event name
	// S3Events are the function's events of type S3, sorted by event name,
	// then the notifications of the template's buckets that invoke it
	// (Event is then the bucket's logical id), in their order.
	S3Events       []S3Event
	SQSEvents      []SQSEvent      // events of type SQS, sorted by event name
	ScheduleEvents []ScheduleEvent // events of type Schedule (EventBridge), sorted by event name
	// EventInvokeConfig is the asynchronous invocation configuration, with
	// Globals' merged in as SAM does (the function's keys win); nil when
	// neither sets one.
	EventInvokeConfig *EventInvokeConfig
	// PolicyActions are the IAM actions allowed by the inline statements of
	// Policies, sorted and deduplicated. An Allow statement using NotAction
	// is recorded as "*", as it allows nearly everything.
	PolicyActions []string
	// Grants pair each action of PolicyActions with each resource its Allow
	// statements name, sorted and deduplicated. NotAction is recorded as
	// action "*" and NotResource as resource "*"; a statement without
	// Resource gives resource "".
	Grants []Grant
	// NamedPolicies are the managed policies and SAM policy templates named
	// in Policies; the actions they grant are not expanded.
	NamedPolicies []string
	// References are the resources the function's properties (Globals
	// applied) other than Events refer to with Ref, GetAtt or a ${...} of
	// Sub, and its DependsOn: the resources it depends on directly. Sorted.
	References []string
}

// Grant is one action allowed on one resource by a function's policies.
type Grant struct {
	Action   string
	Resource string // intrinsics as source, e.g. "!GetAtt Table.Arn"
}

// EventInvokeConfig is a function's configuration of asynchronous
// invocations (SAM's EventInvokeConfig). Numbers are kept as written.
type EventInvokeConfig struct {
	MaximumRetryAttempts     string // empty when not set
	MaximumEventAgeInSeconds string // empty when not set
	OnSuccess                *Destination
	OnFailure                *Destination
}

// Destination is an OnSuccess or OnFailure destination.
type Destination struct {
	Type        string // SQS, SNS, Lambda, EventBridge or S3
	Destination string // e.g. "!GetAtt Queue.Arn"
}

// HTTPRoute is an HttpApi event.
type HTTPRoute struct {
	Event               string // event name
	APIID               string // e.g. "!Ref HttpApi"
	Method              string // upper case
	Path                string
	Authorizer          string // Auth.Authorizer, e.g. "NONE"; empty means the API's default
	AuthorizationScopes []string
}

// HTTPAPI is an AWS::Serverless::HttpApi with Globals.HttpApi's Auth and
// CorsConfiguration applied.
type HTTPAPI struct {
	LogicalID         string
	DefaultAuthorizer string                // Auth.DefaultAuthorizer; empty when routes are open by default
	Authorizers       map[string]Authorizer // Auth.Authorizers by name
	CORS              *HTTPAPICORS          // CorsConfiguration; nil when CORS is not configured
}

// HTTPAPICORS is an HttpApi's CorsConfiguration (SAM's
// HttpApiCorsConfiguration, API Gateway's Cors). Values are as written,
// intrinsics as source: a list given as a whole by an intrinsic is one
// element, e.g. AllowOrigins ["!Ref AllowedOrigins"].
type HTTPAPICORS struct {
	AllowOrigins []string
	// DeployedOrigins are the origins known only once deployed (the
	// console's CloudFront origin, "!Sub https://${ConsoleDistribution.DomainName}"),
	// which the template joins to AllowOrigins (see origins); nothing
	// serves them locally.
	DeployedOrigins  []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAge           string // seconds; empty when not set
	AllowCredentials string // "true" or "false" as written; empty when not set
}

// Parameter is one of the template's Parameters.
type Parameter struct {
	Type    string // e.g. String, Number, CommaDelimitedList
	Default string // as written; for a list type, comma separated; empty when none
	// HasDefault tells an empty Default from none.
	HasDefault bool
	// AllowedPattern and AllowedValues are the constraints as written
	// (empty when none).
	AllowedPattern string
	AllowedValues  []string
}

// Authorizer is one of an HttpApi's Auth.Authorizers.
type Authorizer struct {
	Name           string
	Type           string // AuthorizerJWT or AuthorizerLambda
	IdentitySource string // JWT: e.g. "$request.header.Authorization"
	// JwtConfiguration, whose keys SAM accepts in any case.
	Issuer   string   // e.g. "!Ref JwtIssuer"
	Audience []string // each e.g. "!Ref UserPoolClient"
	// AuthorizationScopes are the JWT authorizer's default scopes.
	AuthorizationScopes []string
	FunctionARN         string // Lambda authorizer
}

// Output is one of the template's Outputs.
type Output struct {
	Value     string // intrinsics as source
	Condition string
}

// Bucket is an AWS::S3::Bucket.
type Bucket struct {
	LogicalID      string
	Name           string // BucketName; intrinsics as source; empty when CloudFormation names it
	CORSRules      []CORSRule
	LifecycleRules []LifecycleRule
	// Notifications are NotificationConfiguration.LambdaConfigurations.
	Notifications []LambdaNotification
}

// LambdaNotification is one of a bucket's notifications of a function.
type LambdaNotification struct {
	Event    string // e.g. s3:ObjectCreated:*
	Function string // e.g. "!GetAtt MakeThumbnails.Arn"
	Prefix   string // S3Key filter rule "prefix"
	Suffix   string // S3Key filter rule "suffix"
}

// CORSRule is one of a bucket's CorsConfiguration.CorsRules.
type CORSRule struct {
	ID             string
	AllowedMethods []string
	AllowedOrigins []string // e.g. ["!Ref AllowedOrigins"]
	// DeployedOrigins are those known only once deployed, as HTTPAPICORS's.
	DeployedOrigins []string
	AllowedHeaders  []string
	ExposedHeaders  []string
	MaxAge          string
}

// LifecycleRule is one of a bucket's LifecycleConfiguration.Rules.
type LifecycleRule struct {
	ID               string
	Status           string
	Prefix           string // empty: the whole bucket
	ExpirationInDays string // empty when the rule expires nothing
	// AbortIncompleteMultipartUploadDays is AbortIncompleteMultipartUpload's
	// DaysAfterInitiation; empty when not set.
	AbortIncompleteMultipartUploadDays string
}

// S3Event is an S3 event.
type S3Event struct {
	Event  string // event name
	Bucket string // e.g. "!Ref ImagesBucket"
	Events []string
	Prefix string // S3Key filter rule "prefix"
	Suffix string // S3Key filter rule "suffix"
}

// SQSEvent is an SQS event source of a function.
type SQSEvent struct {
	Event          string // event name
	Queue          string // e.g. "!GetAtt ExportQueue.Arn"
	BatchSize      string // as written; "" when not set
	ResponseTypes  []string
	MaxConcurrency string // ScalingConfig.MaximumConcurrency, as written
}

// ScheduleEvent is an EventBridge schedule that invokes a function.
type ScheduleEvent struct {
	Event    string // event name
	Schedule string // e.g. "rate(1 day)"
	Enabled  string // as written; "" when not set (enabled)
}

// TableDef is the definition of the template's AWS::DynamoDB::Table.
type TableDef struct {
	LogicalID              string
	BillingMode            string
	AttributeDefinitions   []AttributeDefinition
	KeySchema              []KeyElement
	GlobalSecondaryIndexes []GlobalSecondaryIndex
	TTLAttribute           string // empty when time to live is not enabled
}

// AttributeDefinition is a key attribute and its type (S, N or B).
type AttributeDefinition struct {
	Name string
	Type string
}

// KeyElement is one attribute of a key schema.
type KeyElement struct {
	AttributeName string
	KeyType       string // HASH or RANGE
}

// GlobalSecondaryIndex is a GSI of the table.
type GlobalSecondaryIndex struct {
	IndexName        string
	KeySchema        []KeyElement
	ProjectionType   string
	NonKeyAttributes []string
}

// Parse parses a SAM template. It fails unless the template declares exactly
// one AWS::DynamoDB::Table.
func Parse(data []byte) (*Template, error) {
	var raw rawTemplate
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(raw.Resources) == 0 {
		return nil, errors.New("parse template: no Resources")
	}

	t := &Template{
		Parameters: map[string]Parameter{},
		Functions:  map[string]Function{}, HTTPAPIs: map[string]HTTPAPI{}, Buckets: map[string]Bucket{},
		Outputs: map[string]Output{}, Types: map[string]string{}, Resources: map[string]Resource{},
		Rules: map[string]any{},
	}
	for name, r := range raw.Rules {
		t.Rules[name] = Value(&r)
	}
	for name, p := range raw.Parameters {
		param := Parameter{Type: string(p.Type), AllowedPattern: string(p.AllowedPattern), AllowedValues: strs(p.AllowedValues)}
		if p.Default != nil {
			param.Default, param.HasDefault = string(*p.Default), true
		}
		t.Parameters[name] = param
	}
	var tables []string
	for _, id := range slices.Sorted(maps.Keys(raw.Resources)) {
		res := raw.Resources[id]
		t.Types[id] = res.Type
		generic := Resource{Type: res.Type, Condition: string(res.Condition), DependsOn: strs(res.DependsOn),
			DeletionPolicy: string(res.DeletionPolicy)}
		generic.Metadata, _ = Value(&res.Metadata).(map[string]any)
		generic.Properties, _ = Value(&res.Properties).(map[string]any)
		t.Resources[id] = generic
		switch res.Type {
		case typeFunction:
			fn, err := parseFunction(id, res, &raw.Globals.Function)
			if err != nil {
				return nil, fmt.Errorf("parse function %s: %w", id, err)
			}
			t.Functions[id] = fn
		case typeHTTPAPI:
			api, err := parseHTTPAPI(id, res, &raw.Globals.HTTPAPI)
			if err != nil {
				return nil, fmt.Errorf("parse HttpApi %s: %w", id, err)
			}
			t.HTTPAPIs[id] = api
		case typeTable:
			table, err := parseTable(id, res)
			if err != nil {
				return nil, fmt.Errorf("parse table %s: %w", id, err)
			}
			t.Table = table
			tables = append(tables, id)
		case typeBucket:
			b, err := parseBucket(id, res)
			if err != nil {
				return nil, fmt.Errorf("parse bucket %s: %w", id, err)
			}
			t.Buckets[id] = b
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.Buckets)) {
		for _, n := range t.Buckets[id].Notifications {
			fnID, ok := functionOf(n.Function)
			fn, exists := t.Functions[fnID]
			if !ok || !exists {
				return nil, fmt.Errorf("parse bucket %s: a notification invokes %q, not !GetAtt <function>.Arn of the template", id, n.Function)
			}
			fn.S3Events = append(fn.S3Events, S3Event{Event: id, Bucket: "!Ref " + id, Events: []string{n.Event},
				Prefix: n.Prefix, Suffix: n.Suffix})
			t.Functions[fnID] = fn
		}
	}
	for id, fn := range t.Functions {
		fn.References = slices.DeleteFunc(fn.References, func(ref string) bool {
			_, ok := raw.Resources[ref]
			return !ok
		})
		t.Functions[id] = fn
	}
	if len(tables) != 1 {
		return nil, fmt.Errorf("parse template: want exactly one %s, found %d %v", typeTable, len(tables), tables)
	}
	for id, o := range raw.Outputs {
		t.Outputs[id] = Output{Value: string(o.Value), Condition: string(o.Condition)}
	}
	return t, nil
}

// functionOf reads the function a notification names: "!GetAtt F.Arn" (or
// its list form) is F.
func functionOf(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "!GetAtt ")
	if !ok {
		return "", false
	}
	rest = strings.Trim(rest, "[]")
	rest = strings.ReplaceAll(strings.ReplaceAll(rest, ", ", "."), ",", ".")
	id, attr, ok := strings.Cut(rest, ".")
	return id, ok && attr == "Arn"
}

// Resolve evaluates a scalar value as written in the template: a literal is
// itself, and "!Ref P" of a parameter P of a scalar type is P's Default.
// Anything else (another intrinsic, a Ref of a resource or of a parameter
// without a Default) has a value only once deployed, and is an error.
func (t *Template) Resolve(value string) (string, error) {
	p, name, err := t.refParameter(value)
	if err != nil || p == nil {
		return value, err
	}
	if isListType(p.Type) {
		return "", fmt.Errorf("%s: parameter %s is a list (%s)", value, name, p.Type)
	}
	return p.Default, nil
}

// ResolveList evaluates a list as written in the template (e.g. the
// AllowOrigins of a CORS configuration), element by element as Resolve
// does, except that "!Ref P" of a list parameter P (CommaDelimitedList,
// List<...>) is P's Default split at its commas, each item trimmed of
// spaces, as CloudFormation splits it.
func (t *Template) ResolveList(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		p, name, err := t.refParameter(v)
		switch {
		case err != nil:
			return nil, err
		case p == nil:
			out = append(out, v)
		case isListType(p.Type):
			for item := range strings.SplitSeq(p.Default, ",") {
				out = append(out, strings.TrimSpace(item))
			}
		default:
			r, err := t.Resolve(v)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", name, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// refParameter returns the parameter value refers to with "!Ref", nil for
// a literal, or an error for any other intrinsic.
func (t *Template) refParameter(value string) (*Parameter, string, error) {
	if !strings.HasPrefix(value, "!") {
		return nil, "", nil
	}
	name, ok := strings.CutPrefix(value, "!Ref ")
	if !ok || strings.ContainsAny(name, " []{},") {
		return nil, "", fmt.Errorf("%s: only a literal or !Ref of a parameter can be resolved before deploying", value)
	}
	p, ok := t.Parameters[name]
	switch {
	case !ok:
		return nil, "", fmt.Errorf("%s: %s is no parameter of the template", value, name)
	case !p.HasDefault:
		return nil, "", fmt.Errorf("%s: parameter %s has no Default", value, name)
	}
	return &p, name, nil
}

func isListType(typ string) bool {
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
}

// CreateTableInput returns the input that creates the table under tableName.
// Billing is always on demand, whatever the template says, as it is meant for
// local and test tables.
func (t TableDef) CreateTableInput(tableName string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(tableName),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keySchema(t.KeySchema),
	}
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.Name),
			AttributeType: types.ScalarAttributeType(a.Type),
		})
	}
	for _, g := range t.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName),
			KeySchema: keySchema(g.KeySchema),
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionType(g.ProjectionType),
				NonKeyAttributes: g.NonKeyAttributes,
			},
		})
	}
	return in
}

// UpdateTimeToLiveInput returns the input that enables time to live on the
// table named tableName, or nil when the template does not enable it.
func (t TableDef) UpdateTimeToLiveInput(tableName string) *dynamodb.UpdateTimeToLiveInput {
	if t.TTLAttribute == "" {
		return nil
	}
	return &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(tableName),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(t.TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	}
}

func keySchema(elems []KeyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(elems))
	for _, k := range elems {
		out = append(out, types.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName),
			KeyType:       types.KeyType(k.KeyType),
		})
	}
	return out
}

// ---------------------------------------------------------------- functions

func parseFunction(id string, res rawResource, globalsNode *yaml.Node) (Function, error) {
	var props, globals rawFunctionProps
	if err := decode(globalsNode, &globals); err != nil {
		return Function{}, fmt.Errorf("decode Globals.Function: %w", err)
	}
	if err := decode(&res.Properties, &props); err != nil {
		return Function{}, fmt.Errorf("decode Properties: %w", err)
	}
	var meta struct {
		BuildMethod text `yaml:"BuildMethod"`
	}
	if err := decode(&res.Metadata, &meta); err != nil {
		return Function{}, fmt.Errorf("decode Metadata: %w", err)
	}

	fn := Function{
		LogicalID:   id,
		CodeURI:     string(cmp.Or(props.CodeURI, globals.CodeURI)),
		BuildMethod: string(meta.BuildMethod),
		MemorySize:  string(cmp.Or(props.MemorySize, globals.MemorySize)),
		Timeout:     string(cmp.Or(props.Timeout, globals.Timeout)),
		Env:         map[string]string{},

		ReservedConcurrentExecutions: string(cmp.Or(props.ReservedConcurrentExecutions, globals.ReservedConcurrentExecutions)),
		Tracing:                      string(cmp.Or(props.Tracing, globals.Tracing)),
		LogGroup:                     string(cmp.Or(props.LoggingConfig.LogGroup, globals.LoggingConfig.LogGroup)),
	}
	for k, v := range globals.Environment.Variables {
		fn.Env[k] = string(v)
	}
	for k, v := range props.Environment.Variables {
		fn.Env[k] = string(v)
	}

	for _, name := range slices.Sorted(maps.Keys(props.Events)) {
		ev := props.Events[name]
		switch ev.Type {
		case "HttpApi":
			r, err := parseHTTPAPIEvent(name, &ev.Properties)
			if err != nil {
				return Function{}, fmt.Errorf("event %s: %w", name, err)
			}
			fn.HTTPRoutes = append(fn.HTTPRoutes, r)
		case "S3":
			s, err := parseS3Event(name, &ev.Properties)
			if err != nil {
				return Function{}, fmt.Errorf("event %s: %w", name, err)
			}
			fn.S3Events = append(fn.S3Events, s)
		case "SQS":
			var p struct {
				Queue         text  `yaml:"Queue"`
				BatchSize     text  `yaml:"BatchSize"`
				ResponseTypes texts `yaml:"FunctionResponseTypes"`
				Scaling       struct {
					MaximumConcurrency text `yaml:"MaximumConcurrency"`
				} `yaml:"ScalingConfig"`
			}
			if err := decode(&ev.Properties, &p); err != nil {
				return Function{}, fmt.Errorf("event %s: decode SQS Properties: %w", name, err)
			}
			fn.SQSEvents = append(fn.SQSEvents, SQSEvent{Event: name, Queue: string(p.Queue), BatchSize: string(p.BatchSize),
				ResponseTypes: strs(p.ResponseTypes), MaxConcurrency: string(p.Scaling.MaximumConcurrency)})
		case "Schedule":
			var p struct {
				Schedule text `yaml:"Schedule"`
				Enabled  text `yaml:"Enabled"`
			}
			if err := decode(&ev.Properties, &p); err != nil {
				return Function{}, fmt.Errorf("event %s: decode Schedule Properties: %w", name, err)
			}
			fn.ScheduleEvents = append(fn.ScheduleEvents, ScheduleEvent{Event: name, Schedule: string(p.Schedule), Enabled: string(p.Enabled)})
		}
	}

	var err error
	if fn.EventInvokeConfig, err = parseEventInvokeConfig(&globals.EventInvokeConfig, &props.EventInvokeConfig); err != nil {
		return Function{}, fmt.Errorf("EventInvokeConfig: %w", err)
	}
	fn.Grants, fn.NamedPolicies, err = parsePolicies(&props.Policies)
	if err != nil {
		return Function{}, fmt.Errorf("Policies: %w", err) // the SAM property, named as written
	}
	for _, g := range fn.Grants {
		fn.PolicyActions = append(fn.PolicyActions, g.Action)
	}
	fn.PolicyActions = slices.Compact(slices.Sorted(slices.Values(fn.PolicyActions)))

	refs := strs(res.DependsOn)
	for _, n := range []*yaml.Node{globalsNode, &res.Properties} {
		n = deref(n)
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value != "Events" {
				refs = references(n.Content[i+1], refs)
			}
		}
	}
	fn.References = slices.Compact(slices.Sorted(slices.Values(refs)))
	return fn, nil
}

// parseEventInvokeConfig decodes Globals' EventInvokeConfig, then the
// function's over it: SAM merges the two mappings, the function's keys
// winning.
func parseEventInvokeConfig(globals, own *yaml.Node) (*EventInvokeConfig, error) {
	if globals.Kind == 0 && own.Kind == 0 {
		return nil, nil
	}
	var raw struct {
		MaximumRetryAttempts     text `yaml:"MaximumRetryAttempts"`
		MaximumEventAgeInSeconds text `yaml:"MaximumEventAgeInSeconds"`
		DestinationConfig        struct {
			OnSuccess *rawDestination `yaml:"OnSuccess"`
			OnFailure *rawDestination `yaml:"OnFailure"`
		} `yaml:"DestinationConfig"`
	}
	for _, n := range []*yaml.Node{globals, own} {
		if err := decode(n, &raw); err != nil {
			return nil, err
		}
	}
	return &EventInvokeConfig{
		MaximumRetryAttempts:     string(raw.MaximumRetryAttempts),
		MaximumEventAgeInSeconds: string(raw.MaximumEventAgeInSeconds),
		OnSuccess:                raw.DestinationConfig.OnSuccess.destination(),
		OnFailure:                raw.DestinationConfig.OnFailure.destination(),
	}, nil
}

type rawDestination struct {
	Type        text `yaml:"Type"`
	Destination text `yaml:"Destination"`
}

func (d *rawDestination) destination() *Destination {
	if d == nil {
		return nil
	}
	return &Destination{Type: string(d.Type), Destination: string(d.Destination)}
}

// references appends to refs the logical ids n refers to: Ref (pseudo
// parameters aside), GetAtt, and the ${Name} and ${Name.Attr} of Sub (but
// not ${!Literal} or the variables Sub's own map defines).
func references(n *yaml.Node, refs []string) []string {
	n = deref(n)
	name, arg := intrinsic(n)
	switch name {
	case "Ref":
		if arg.Kind == yaml.ScalarNode && !strings.Contains(arg.Value, "::") {
			return append(refs, arg.Value)
		}
	case "GetAtt":
		switch {
		case arg.Kind == yaml.ScalarNode:
			id, _, _ := strings.Cut(arg.Value, ".")
			return append(refs, id)
		case arg.Kind == yaml.SequenceNode && len(arg.Content) > 0:
			return append(refs, deref(arg.Content[0]).Value)
		}
	case "Sub":
		str, vars := arg, (*yaml.Node)(nil)
		if arg.Kind == yaml.SequenceNode && len(arg.Content) > 0 {
			str = deref(arg.Content[0])
			if len(arg.Content) > 1 {
				vars = deref(arg.Content[1])
			}
		}
		local := map[string]bool{}
		if vars != nil && vars.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(vars.Content); i += 2 {
				local[vars.Content[i].Value] = true
				refs = references(vars.Content[i+1], refs)
			}
		}
		for _, m := range subVar.FindAllStringSubmatch(str.Value, -1) {
			id, _, _ := strings.Cut(m[1], ".")
			if !strings.HasPrefix(id, "!") && !strings.Contains(id, "::") && !local[id] {
				refs = append(refs, id)
			}
		}
		return refs
	}
	for _, c := range n.Content {
		refs = references(c, refs)
	}
	return refs
}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// intrinsic returns the name of the intrinsic function n is ("Ref",
// "GetAtt", "Sub", ...) and its argument, or "" when n is none. A short
// form's argument is n itself without its tag.
func intrinsic(n *yaml.Node) (string, *yaml.Node) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		bare := *n
		bare.Tag = ""
		switch bare.Kind {
		case yaml.ScalarNode:
			bare.Tag = "!!str"
		case yaml.SequenceNode:
			bare.Tag = "!!seq"
		case yaml.MappingNode:
			bare.Tag = "!!map"
		}
		return strings.TrimPrefix(n.Tag, "!"), &bare
	}
	if isIntrinsic(n) {
		return strings.TrimPrefix(n.Content[0].Value, "Fn::"), deref(n.Content[1])
	}
	return "", nil
}

func parseHTTPAPIEvent(name string, n *yaml.Node) (HTTPRoute, error) {
	var p struct {
		APIID  text `yaml:"ApiId"`
		Method text `yaml:"Method"`
		Path   text `yaml:"Path"`
		Auth   struct {
			Authorizer          text   `yaml:"Authorizer"`
			AuthorizationScopes []text `yaml:"AuthorizationScopes"`
		} `yaml:"Auth"`
	}
	if err := decode(n, &p); err != nil {
		return HTTPRoute{}, fmt.Errorf("decode HttpApi Properties: %w", err)
	}
	return HTTPRoute{
		Event:               name,
		APIID:               string(p.APIID),
		Method:              strings.ToUpper(string(p.Method)),
		Path:                string(p.Path),
		Authorizer:          string(p.Auth.Authorizer),
		AuthorizationScopes: strs(p.Auth.AuthorizationScopes),
	}, nil
}

func parseS3Event(name string, n *yaml.Node) (S3Event, error) {
	var p struct {
		Bucket text  `yaml:"Bucket"`
		Events texts `yaml:"Events"`
		Filter struct {
			S3Key struct {
				Rules []struct {
					Name  text `yaml:"Name"`
					Value text `yaml:"Value"`
				} `yaml:"Rules"`
			} `yaml:"S3Key"`
		} `yaml:"Filter"`
	}
	if err := decode(n, &p); err != nil {
		return S3Event{}, fmt.Errorf("decode S3 Properties: %w", err)
	}
	ev := S3Event{Event: name, Bucket: string(p.Bucket), Events: strs(p.Events)}
	for _, r := range p.Filter.S3Key.Rules {
		switch strings.ToLower(string(r.Name)) {
		case "prefix":
			ev.Prefix = string(r.Value)
		case "suffix":
			ev.Suffix = string(r.Value)
		}
	}
	return ev, nil
}

// parsePolicies reads a function's Policies, which SAM accepts as a managed
// policy name, a policy document, or a list of names, policy templates
// ({TemplateName: {params}}) and policy documents.
func parsePolicies(n *yaml.Node) (grants []Grant, named []string, err error) {
	var entries []*yaml.Node
	switch {
	case n.Kind == 0:
		return nil, nil, nil
	case n.Kind == yaml.SequenceNode:
		entries = n.Content
	default:
		entries = []*yaml.Node{n}
	}

	for i, e := range entries {
		e = deref(e)
		switch {
		case e.Kind == yaml.ScalarNode || isIntrinsic(e):
			named = append(named, render(e))
		case e.Kind == yaml.MappingNode && hasKey(e, "Statement"):
			var doc struct {
				Statement statements `yaml:"Statement"`
			}
			if err := e.Decode(&doc); err != nil {
				return nil, nil, fmt.Errorf("policy %d: %w", i, err)
			}
			for _, s := range doc.Statement {
				if !strings.EqualFold(string(s.Effect), "Allow") {
					continue
				}
				actions := strs(s.Action)
				if len(s.NotAction) > 0 {
					actions = append(actions, "*")
				}
				resources := strs(s.Resource)
				if len(s.NotResource) > 0 {
					resources = append(resources, "*")
				}
				if len(resources) == 0 {
					resources = []string{""}
				}
				for _, a := range actions {
					for _, r := range resources {
						grants = append(grants, Grant{Action: a, Resource: r})
					}
				}
			}
		case e.Kind == yaml.MappingNode:
			for j := 0; j+1 < len(e.Content); j += 2 {
				named = append(named, e.Content[j].Value)
			}
		default:
			return nil, nil, fmt.Errorf("policy %d: unexpected %s", i, kindName(e))
		}
	}
	slices.SortFunc(grants, func(a, b Grant) int {
		return cmp.Or(cmp.Compare(a.Action, b.Action), cmp.Compare(a.Resource, b.Resource))
	})
	return slices.Compact(grants), named, nil
}

type statement struct {
	Effect      text  `yaml:"Effect"`
	Action      texts `yaml:"Action"`
	NotAction   texts `yaml:"NotAction"`
	Resource    texts `yaml:"Resource"`
	NotResource texts `yaml:"NotResource"`
}

// statements is a policy's Statement: one statement or a list of them.
type statements []statement

func (s *statements) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var one statement
		if err := n.Decode(&one); err != nil {
			return err
		}
		*s = statements{one}
		return nil
	}
	return n.Decode((*[]statement)(s))
}

// ---------------------------------------------------------------- HTTP APIs

type rawHTTPAPIAuth struct {
	DefaultAuthorizer text                     `yaml:"DefaultAuthorizer"`
	Authorizers       map[string]rawAuthorizer `yaml:"Authorizers"`
}

type rawAuthorizer struct {
	IdentitySource      text      `yaml:"IdentitySource"`
	JwtConfiguration    yaml.Node `yaml:"JwtConfiguration"`
	AuthorizationScopes texts     `yaml:"AuthorizationScopes"`
	FunctionArn         text      `yaml:"FunctionArn"`
}

// parseHTTPAPI reads an HttpApi's Auth and CorsConfiguration.
// Globals.HttpApi applies as SAM merges it: the API's DefaultAuthorizer
// wins, Authorizers are united with the API's own winning on a name clash,
// and the keys of the API's CorsConfiguration win over those of Globals'.
func parseHTTPAPI(id string, res rawResource, globals *yaml.Node) (HTTPAPI, error) {
	var props, glob struct {
		Auth              rawHTTPAPIAuth `yaml:"Auth"`
		CorsConfiguration yaml.Node      `yaml:"CorsConfiguration"`
	}
	if err := decode(&res.Properties, &props); err != nil {
		return HTTPAPI{}, fmt.Errorf("decode Properties: %w", err)
	}
	if err := decode(globals, &glob); err != nil {
		return HTTPAPI{}, fmt.Errorf("decode Globals.HttpApi: %w", err)
	}
	cors, err := parseHTTPAPICORS(&glob.CorsConfiguration, &props.CorsConfiguration)
	if err != nil {
		return HTTPAPI{}, fmt.Errorf("CorsConfiguration: %w", err)
	}

	api := HTTPAPI{
		LogicalID:         id,
		DefaultAuthorizer: string(cmp.Or(props.Auth.DefaultAuthorizer, glob.Auth.DefaultAuthorizer)),
		Authorizers:       map[string]Authorizer{},
		CORS:              cors,
	}
	raws := maps.Clone(glob.Auth.Authorizers)
	if raws == nil {
		raws = map[string]rawAuthorizer{}
	}
	maps.Copy(raws, props.Auth.Authorizers)
	for name, ra := range raws {
		a, err := parseAuthorizer(name, ra)
		if err != nil {
			return HTTPAPI{}, fmt.Errorf("authorizer %s: %w", name, err)
		}
		api.Authorizers[name] = a
	}
	return api, nil
}

// parseHTTPAPICORS decodes Globals' CorsConfiguration, then the API's over
// it. Only the mapping form is read: SAM also takes a string or a boolean
// (shorthands this reader does not expand), which is an error here rather
// than a configuration silently misread.
func parseHTTPAPICORS(globals, own *yaml.Node) (*HTTPAPICORS, error) {
	if globals.Kind == 0 && own.Kind == 0 {
		return nil, nil
	}
	var raw struct {
		AllowOrigins     origins `yaml:"AllowOrigins"`
		AllowMethods     texts   `yaml:"AllowMethods"`
		AllowHeaders     texts   `yaml:"AllowHeaders"`
		ExposeHeaders    texts   `yaml:"ExposeHeaders"`
		MaxAge           text    `yaml:"MaxAge"`
		AllowCredentials text    `yaml:"AllowCredentials"`
	}
	for _, n := range []*yaml.Node{globals, own} {
		if d := deref(n); d.Kind != 0 && (d.Kind != yaml.MappingNode || isIntrinsic(d)) {
			return nil, fmt.Errorf("line %d: want a mapping, got %s (the string and boolean shorthands are not supported)", d.Line, kindName(d))
		}
		if err := decode(n, &raw); err != nil {
			return nil, err
		}
	}
	return &HTTPAPICORS{
		AllowOrigins:     strs(raw.AllowOrigins.local),
		DeployedOrigins:  strs(raw.AllowOrigins.deployed),
		AllowMethods:     strs(raw.AllowMethods),
		AllowHeaders:     strs(raw.AllowHeaders),
		ExposeHeaders:    strs(raw.ExposeHeaders),
		MaxAge:           string(raw.MaxAge),
		AllowCredentials: string(raw.AllowCredentials),
	}, nil
}

func parseAuthorizer(name string, ra rawAuthorizer) (Authorizer, error) {
	a := Authorizer{
		Name:                name,
		Type:                AuthorizerLambda,
		IdentitySource:      string(ra.IdentitySource),
		AuthorizationScopes: strs(ra.AuthorizationScopes),
		FunctionARN:         string(ra.FunctionArn),
	}
	jwt := deref(&ra.JwtConfiguration)
	switch {
	case jwt.Kind == 0:
		return a, nil
	case jwt.Kind != yaml.MappingNode || isIntrinsic(jwt):
		return Authorizer{}, fmt.Errorf("line %d: JwtConfiguration: want a mapping, got %s", jwt.Line, kindName(jwt))
	}
	a.Type = AuthorizerJWT
	// SAM lower-cases JwtConfiguration's keys (issuer, audience).
	for i := 0; i+1 < len(jwt.Content); i += 2 {
		key, val := jwt.Content[i].Value, jwt.Content[i+1]
		switch strings.ToLower(key) {
		case "issuer":
			var v text
			if err := val.Decode(&v); err != nil {
				return Authorizer{}, fmt.Errorf("JwtConfiguration.%s: %w", key, err)
			}
			a.Issuer = string(v)
		case "audience":
			var v texts
			if err := val.Decode(&v); err != nil {
				return Authorizer{}, fmt.Errorf("JwtConfiguration.%s: %w", key, err)
			}
			a.Audience = strs(v)
		}
	}
	return a, nil
}

// ------------------------------------------------------------------ buckets

func parseBucket(id string, res rawResource) (Bucket, error) {
	var p struct {
		BucketName        text `yaml:"BucketName"`
		CorsConfiguration struct {
			CorsRules []struct {
				ID             text    `yaml:"Id"`
				AllowedMethods texts   `yaml:"AllowedMethods"`
				AllowedOrigins origins `yaml:"AllowedOrigins"`
				AllowedHeaders texts   `yaml:"AllowedHeaders"`
				ExposedHeaders texts   `yaml:"ExposedHeaders"`
				MaxAge         text    `yaml:"MaxAge"`
			} `yaml:"CorsRules"`
		} `yaml:"CorsConfiguration"`
		NotificationConfiguration struct {
			LambdaConfigurations []struct {
				Event  text `yaml:"Event"`
				Filter struct {
					S3Key struct {
						Rules []struct {
							Name  text `yaml:"Name"`
							Value text `yaml:"Value"`
						} `yaml:"Rules"`
					} `yaml:"S3Key"`
				} `yaml:"Filter"`
				Function text `yaml:"Function"`
			} `yaml:"LambdaConfigurations"`
		} `yaml:"NotificationConfiguration"`
		LifecycleConfiguration struct {
			Rules []struct {
				ID                             text `yaml:"Id"`
				Status                         text `yaml:"Status"`
				Prefix                         text `yaml:"Prefix"`
				ExpirationInDays               text `yaml:"ExpirationInDays"`
				AbortIncompleteMultipartUpload struct {
					DaysAfterInitiation text `yaml:"DaysAfterInitiation"`
				} `yaml:"AbortIncompleteMultipartUpload"`
			} `yaml:"Rules"`
		} `yaml:"LifecycleConfiguration"`
	}
	if err := decode(&res.Properties, &p); err != nil {
		return Bucket{}, fmt.Errorf("decode Properties: %w", err)
	}
	b := Bucket{LogicalID: id, Name: string(p.BucketName)}
	for _, r := range p.CorsConfiguration.CorsRules {
		b.CORSRules = append(b.CORSRules, CORSRule{
			ID:              string(r.ID),
			AllowedMethods:  strs(r.AllowedMethods),
			AllowedOrigins:  strs(r.AllowedOrigins.local),
			DeployedOrigins: strs(r.AllowedOrigins.deployed),
			AllowedHeaders:  strs(r.AllowedHeaders),
			ExposedHeaders:  strs(r.ExposedHeaders),
			MaxAge:          string(r.MaxAge),
		})
	}
	for _, r := range p.LifecycleConfiguration.Rules {
		b.LifecycleRules = append(b.LifecycleRules, LifecycleRule{
			ID:                                 string(r.ID),
			Status:                             string(r.Status),
			Prefix:                             string(r.Prefix),
			ExpirationInDays:                   string(r.ExpirationInDays),
			AbortIncompleteMultipartUploadDays: string(r.AbortIncompleteMultipartUpload.DaysAfterInitiation),
		})
	}
	for _, c := range p.NotificationConfiguration.LambdaConfigurations {
		n := LambdaNotification{Event: string(c.Event), Function: string(c.Function)}
		for _, r := range c.Filter.S3Key.Rules {
			switch strings.ToLower(string(r.Name)) {
			case "prefix":
				n.Prefix = string(r.Value)
			case "suffix":
				n.Suffix = string(r.Value)
			}
		}
		b.Notifications = append(b.Notifications, n)
	}
	return b, nil
}

// -------------------------------------------------------------------- table

func parseTable(id string, res rawResource) (TableDef, error) {
	var p struct {
		BillingMode          text `yaml:"BillingMode"`
		AttributeDefinitions []struct {
			AttributeName text `yaml:"AttributeName"`
			AttributeType text `yaml:"AttributeType"`
		} `yaml:"AttributeDefinitions"`
		KeySchema              []rawKeyElement `yaml:"KeySchema"`
		GlobalSecondaryIndexes []struct {
			IndexName  text            `yaml:"IndexName"`
			KeySchema  []rawKeyElement `yaml:"KeySchema"`
			Projection struct {
				ProjectionType   text   `yaml:"ProjectionType"`
				NonKeyAttributes []text `yaml:"NonKeyAttributes"`
			} `yaml:"Projection"`
		} `yaml:"GlobalSecondaryIndexes"`
		TimeToLiveSpecification struct {
			AttributeName text `yaml:"AttributeName"`
			Enabled       text `yaml:"Enabled"`
		} `yaml:"TimeToLiveSpecification"`
	}
	if err := decode(&res.Properties, &p); err != nil {
		return TableDef{}, fmt.Errorf("decode Properties: %w", err)
	}
	if len(p.KeySchema) == 0 {
		return TableDef{}, errors.New("no KeySchema")
	}

	t := TableDef{
		LogicalID:   id,
		BillingMode: string(p.BillingMode),
		KeySchema:   keyElements(p.KeySchema),
	}
	for _, a := range p.AttributeDefinitions {
		t.AttributeDefinitions = append(t.AttributeDefinitions, AttributeDefinition{
			Name: string(a.AttributeName),
			Type: string(a.AttributeType),
		})
	}
	for _, g := range p.GlobalSecondaryIndexes {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, GlobalSecondaryIndex{
			IndexName:        string(g.IndexName),
			KeySchema:        keyElements(g.KeySchema),
			ProjectionType:   string(g.Projection.ProjectionType),
			NonKeyAttributes: strs(g.Projection.NonKeyAttributes),
		})
	}
	if ttl := p.TimeToLiveSpecification; strings.EqualFold(string(ttl.Enabled), "true") {
		t.TTLAttribute = string(ttl.AttributeName)
	}
	return t, nil
}

type rawKeyElement struct {
	AttributeName text `yaml:"AttributeName"`
	KeyType       text `yaml:"KeyType"`
}

func keyElements(raw []rawKeyElement) []KeyElement {
	out := make([]KeyElement, 0, len(raw))
	for _, k := range raw {
		out = append(out, KeyElement{AttributeName: string(k.AttributeName), KeyType: string(k.KeyType)})
	}
	return out
}

// --------------------------------------------------------------- raw shapes

type rawTemplate struct {
	Parameters map[string]struct {
		Type           text  `yaml:"Type"`
		Default        *text `yaml:"Default"`
		AllowedPattern text  `yaml:"AllowedPattern"`
		AllowedValues  texts `yaml:"AllowedValues"`
	} `yaml:"Parameters"`
	Globals struct {
		Function yaml.Node `yaml:"Function"`
		HTTPAPI  yaml.Node `yaml:"HttpApi"`
	} `yaml:"Globals"`
	Resources map[string]rawResource `yaml:"Resources"`
	Rules     map[string]yaml.Node   `yaml:"Rules"`
	Outputs   map[string]struct {
		Value     text `yaml:"Value"`
		Condition text `yaml:"Condition"`
	} `yaml:"Outputs"`
}

type rawResource struct {
	Type           string    `yaml:"Type"`
	Condition      text      `yaml:"Condition"`
	DependsOn      texts     `yaml:"DependsOn"`
	DeletionPolicy text      `yaml:"DeletionPolicy"`
	Metadata       yaml.Node `yaml:"Metadata"`
	Properties     yaml.Node `yaml:"Properties"`
}

type rawFunctionProps struct {
	CodeURI                      text `yaml:"CodeUri"`
	MemorySize                   text `yaml:"MemorySize"`
	Timeout                      text `yaml:"Timeout"`
	ReservedConcurrentExecutions text `yaml:"ReservedConcurrentExecutions"`
	Tracing                      text `yaml:"Tracing"`
	LoggingConfig                struct {
		LogGroup text `yaml:"LogGroup"`
	} `yaml:"LoggingConfig"`
	Environment struct {
		Variables map[string]text `yaml:"Variables"`
	} `yaml:"Environment"`
	Events map[string]struct {
		Type       string    `yaml:"Type"`
		Properties yaml.Node `yaml:"Properties"`
	} `yaml:"Events"`
	Policies          yaml.Node `yaml:"Policies"`
	EventInvokeConfig yaml.Node `yaml:"EventInvokeConfig"`
}

// text is a value that is either a literal scalar or an intrinsic, which is
// kept in its source form (see render).
type text string

func (t *text) UnmarshalYAML(n *yaml.Node) error {
	n = deref(n)
	if n.Kind != yaml.ScalarNode && !isIntrinsic(n) {
		return fmt.Errorf("line %d: want a scalar or an intrinsic function, got %s", n.Line, kindName(n))
	}
	*t = text(render(n))
	return nil
}

// texts is a value that is one text or a list of them, like a statement's
// Action or an S3 event's Events.
type texts []text

func (ts *texts) UnmarshalYAML(n *yaml.Node) error {
	n = deref(n)
	if n.Kind == yaml.SequenceNode && !isIntrinsic(n) {
		return n.Decode((*[]text)(ts))
	}
	var one text
	if err := n.Decode(&one); err != nil {
		return err
	}
	*ts = texts{one}
	return nil
}

// origins is a CORS origin list: a list, or the !Ref of a list parameter,
// or that joined with origins known only once deployed, as CloudFormation
// spells a list of both (a list parameter is no list item):
//
//	!Split [",", !Join [",", [!Sub "https://${ConsoleDistribution.DomainName}", !Join [",", !Ref AllowedOrigins]]]]
//
// The items that resolve before deploying (literals, "!Join [",", !Ref P]"
// read as "!Ref P") go to local, which the local gateway applies; any other
// intrinsic to deployed.
type origins struct{ local, deployed texts }

func (o *origins) UnmarshalYAML(n *yaml.Node) error {
	n = deref(n)
	split, ok := intrinsicArgs(n, "Split")
	if !ok {
		return n.Decode(&o.local)
	}
	var join []*yaml.Node
	if len(split) == 2 && deref(split[0]).Value == "," {
		join, ok = intrinsicArgs(split[1], "Join")
	}
	if !ok || len(join) != 2 || deref(join[0]).Value != "," || deref(join[1]).Kind != yaml.SequenceNode || isIntrinsic(deref(join[1])) {
		return fmt.Errorf("line %d: an origin list is a list, a !Ref, or !Split [\",\", !Join [\",\", [items]]]", n.Line)
	}
	for _, item := range deref(join[1]).Content {
		item = deref(item)
		if inner, ok := intrinsicArgs(item, "Join"); ok && len(inner) == 2 && deref(inner[0]).Value == "," {
			item = deref(inner[1]) // !Join [",", !Ref P]: P's items
		}
		var t text
		if err := item.Decode(&t); err != nil {
			return err
		}
		if isIntrinsic(item) && !strings.HasPrefix(string(t), "!Ref ") {
			o.deployed = append(o.deployed, t)
		} else {
			o.local = append(o.local, t)
		}
	}
	return nil
}

// intrinsicArgs returns the arguments of n when n is the intrinsic
// function name (Fn::name), in short form (!name [...]) or long form
// ({Fn::name: [...]}) with a list of arguments.
func intrinsicArgs(n *yaml.Node, name string) ([]*yaml.Node, bool) {
	n = deref(n)
	switch {
	case n.Tag == "!"+name && n.Kind == yaml.SequenceNode:
		return n.Content, true
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Fn::"+name && deref(n.Content[1]).Kind == yaml.SequenceNode:
		return deref(n.Content[1]).Content, true
	}
	return nil, false
}

// isIntrinsic reports whether n is a CloudFormation intrinsic function, in
// short form (!Ref Table) or long form ({Ref: Table}, {Fn::GetAtt: [...]}).
func isIntrinsic(n *yaml.Node) bool {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return true
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return false
	}
	k := n.Content[0].Value
	return k == "Ref" || strings.HasPrefix(k, "Fn::")
}

// render returns the source form of n: a literal scalar's value, or an
// intrinsic in short form, e.g. "!Ref Table", "!GetAtt Table.Arn" or
// "!If [IsProd, !Ref A, B]".
func render(n *yaml.Node) string {
	n = deref(n)
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		bare := *n
		bare.Tag = ""
		return n.Tag + " " + render(&bare)
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	if isIntrinsic(n) {
		name := strings.TrimPrefix(n.Content[0].Value, "Fn::")
		return "!" + name + " " + render(n.Content[1])
	}
	return flow(n)
}

// flow renders a collection node on one line in YAML flow style.
func flow(n *yaml.Node) string {
	c := *n
	c.Style = yaml.FlowStyle
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(&c); err != nil {
		return fmt.Sprintf("<%s at line %d>", kindName(n), n.Line)
	}
	_ = enc.Close()
	return strings.TrimSpace(b.String())
}

// deref follows an alias to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// decode decodes n into out; an absent node leaves out untouched.
func decode(n *yaml.Node, out any) error {
	if n.Kind == 0 {
		return nil
	}
	return n.Decode(out)
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.DocumentNode:
		return "document"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "nothing"
}

func strs[T ~string](in []T) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}
