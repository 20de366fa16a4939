package samtemplate_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

const sample = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Origins:
    Type: CommaDelimitedList
    Default: "https://a.example, https://b.example:8443"
  Stage:
    Type: String
    Default: dev
  Issuer:
    Type: String
  Empty:
    Type: String
    Default: ""
  Ports:
    Type: List<Number>
    Default: 80,443
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    CodeUri: functions/default/
    MemorySize: 128
    Timeout: 5
    ReservedConcurrentExecutions: 5
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        LOG_LEVEL: INFO
    EventInvokeConfig:
      MaximumRetryAttempts: 0
      DestinationConfig:
        OnFailure:
          Type: SQS
          Destination: !GetAtt Queue.Arn
  HttpApi:
    CorsConfiguration:
      AllowMethods: [GET]
      MaxAge: 300
      AllowCredentials: true
    Auth:
      DefaultAuthorizer: FromGlobals
      Authorizers:
        FromGlobals:
          IdentitySource: $request.header.X-Token
          JwtConfiguration: {Issuer: "https://globals.example", Audience: globals}
        Jwt:
          JwtConfiguration: {issuer: "https://overridden.example", audience: [overridden]}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: !Ref Origins
        AllowHeaders: [Authorization, If-Match]
        ExposeHeaders: ETag
        MaxAge: 600
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            AuthorizationScopes: [read]
            JwtConfiguration:
              issuer: !If [IsProd, !Sub "https://cognito-idp.${AWS::Region}.amazonaws.com/${Pool}", !Ref Issuer]
              audience:
                - !Ref Client
                - other
          Custom:
            FunctionArn: !GetAtt AuthFn.Arn
            Identity:
              Headers: [Authorization]
  Plain:
    Type: AWS::Serverless::HttpApi
  CreateThing:
    Type: AWS::Serverless::Function
    DependsOn: Queue
    Metadata:
      BuildMethod: go1.x
    Properties:
      CodeUri: functions/create-thing/
      MemorySize: 512
      ReservedConcurrentExecutions: 3
      Environment:
        Variables:
          LOG_LEVEL: !If [IsProd, WARN, DEBUG]
          TOPIC: {Ref: Topic}
          QUEUE_ARN: {"Fn::GetAtt": [Queue, Arn]}
          PREFIX: !Sub "${AWS::StackName}-things"
          STAGE: !Ref Stage
          ARCHIVE: !Sub ["${Name}-${AWS::Region}/${!Literal}/${Bucket.Arn}", {Name: !Ref Unknown}]
      Events:
        Post:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: post
            Path: /things
        Ping:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: GET
            Path: /ping
            Auth:
              Authorizer: NONE
      Policies:
        - AWSLambdaVPCAccessExecutionRole
        - DynamoDBReadPolicy:
            TableName: !Ref Table
        - Statement:
            - Effect: Allow
              Action: [dynamodb:PutItem, dynamodb:GetItem]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: dynamodb:GetItem
              Resource: !Sub ${Table.Arn}/index/*
            - Effect: Deny
              Action: "dynamodb:*"
              Resource: "*"
  OnUpload:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Bucket
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - Name: prefix
                    Value: uploads/
                  - Name: suffix
                    Value: .jpg
      EventInvokeConfig:
        MaximumRetryAttempts: 2
        MaximumEventAgeInSeconds: 3600
        DestinationConfig:
          OnSuccess:
            Type: SNS
            Destination: !Ref Topic
      Policies:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          NotAction: iam:*
          Resource: "*"
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
        - {AttributeName: G1PK, AttributeType: S}
        - {AttributeName: G1SK, AttributeType: N}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: G1
          KeySchema:
            - {AttributeName: G1PK, KeyType: HASH}
            - {AttributeName: G1SK, KeyType: RANGE}
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [name]
      TimeToLiveSpecification:
        AttributeName: expiresAt
        Enabled: true
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub ${AWS::StackName}-things-${AWS::AccountId}
      CorsConfiguration:
        CorsRules:
          - Id: Browsers
            AllowedMethods: [POST, GET]
            AllowedOrigins: !Ref Origins
            AllowedHeaders: ["*"]
            ExposedHeaders: [ETag]
            MaxAge: 600
          - AllowedMethods: GET
            AllowedOrigins: ["*"]
      LifecycleConfiguration:
        Rules:
          - Id: Expire
            Status: Enabled
            Prefix: tmp/
            ExpirationInDays: 1
          - Id: Abort
            Status: Disabled
            AbortIncompleteMultipartUpload:
              DaysAfterInitiation: 7
  PlainBucket:
    Type: AWS::S3::Bucket
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  ApiUrl:
    Value: !Sub https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/
  PoolId:
    Condition: IsProd
    Value: {Ref: Pool}
`

func parseSample(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Parse([]byte(sample))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tmpl
}

func TestParseFunctions(t *testing.T) {
	tmpl := parseSample(t)
	if got := len(tmpl.Functions); got != 2 {
		t.Fatalf("got %d functions, want 2: %v", got, tmpl.Functions)
	}

	fn := tmpl.Functions["CreateThing"]
	want := samtemplate.Function{
		LogicalID:   "CreateThing",
		CodeURI:     "functions/create-thing/",
		BuildMethod: "go1.x",
		MemorySize:  "512",
		Timeout:     "5",

		ReservedConcurrentExecutions: "3",
		Env: map[string]string{
			"TABLE_NAME": "!Ref Table",
			"LOG_LEVEL":  "!If [IsProd, WARN, DEBUG]",
			"TOPIC":      "!Ref Topic",
			"QUEUE_ARN":  "!GetAtt [Queue, Arn]",
			"PREFIX":     "!Sub ${AWS::StackName}-things",
			"STAGE":      "!Ref Stage",
			"ARCHIVE":    `!Sub ["${Name}-${AWS::Region}/${!Literal}/${Bucket.Arn}", {Name: !Ref Unknown}]`,
		},
		HTTPRoutes: []samtemplate.HTTPRoute{
			{Event: "Ping", APIID: "!Ref Api", Method: "GET", Path: "/ping", Authorizer: "NONE"},
			{Event: "Post", APIID: "!Ref Api", Method: "POST", Path: "/things"},
		},
		// From Globals alone.
		EventInvokeConfig: &samtemplate.EventInvokeConfig{
			MaximumRetryAttempts: "0",
			OnFailure:            &samtemplate.Destination{Type: "SQS", Destination: "!GetAtt Queue.Arn"},
		},
		PolicyActions: []string{"dynamodb:GetItem", "dynamodb:PutItem"},
		Grants: []samtemplate.Grant{
			{Action: "dynamodb:GetItem", Resource: "!GetAtt Table.Arn"},
			{Action: "dynamodb:GetItem", Resource: "!Sub ${Table.Arn}/index/*"},
			{Action: "dynamodb:PutItem", Resource: "!GetAtt Table.Arn"},
		},
		NamedPolicies: []string{"AWSLambdaVPCAccessExecutionRole", "DynamoDBReadPolicy"},
		// DependsOn, Globals and its own properties, but not its events
		// (Api), parameters (Stage), Sub's own variables (Name) or undeclared
		// names (Unknown).
		References: []string{"Bucket", "Queue", "Table", "Topic"},
	}
	if !reflect.DeepEqual(fn, want) {
		t.Errorf("CreateThing:\n got %+v\nwant %+v", fn, want)
	}
}

func TestParseS3FunctionWithGlobals(t *testing.T) {
	fn := parseSample(t).Functions["OnUpload"]
	if fn.CodeURI != "functions/default/" {
		t.Errorf("CodeURI = %q, want the Globals value", fn.CodeURI)
	}
	wantEnv := map[string]string{"TABLE_NAME": "!Ref Table", "LOG_LEVEL": "INFO"}
	if !reflect.DeepEqual(fn.Env, wantEnv) {
		t.Errorf("Env = %v, want %v", fn.Env, wantEnv)
	}
	if fn.MemorySize != "128" || fn.Timeout != "5" || fn.ReservedConcurrentExecutions != "5" {
		t.Errorf("MemorySize, Timeout, ReservedConcurrentExecutions = %q, %q, %q, want the Globals values 128, 5, 5",
			fn.MemorySize, fn.Timeout, fn.ReservedConcurrentExecutions)
	}
	// The function's EventInvokeConfig merged over Globals'.
	wantInvoke := &samtemplate.EventInvokeConfig{
		MaximumRetryAttempts:     "2",
		MaximumEventAgeInSeconds: "3600",
		OnSuccess:                &samtemplate.Destination{Type: "SNS", Destination: "!Ref Topic"},
		OnFailure:                &samtemplate.Destination{Type: "SQS", Destination: "!GetAtt Queue.Arn"},
	}
	if !reflect.DeepEqual(fn.EventInvokeConfig, wantInvoke) {
		t.Errorf("EventInvokeConfig = %+v, want %+v", fn.EventInvokeConfig, wantInvoke)
	}
	// The S3 event's bucket is no dependency of the function's own.
	if want := []string{"Queue", "Table", "Topic"}; !reflect.DeepEqual(fn.References, want) {
		t.Errorf("References = %v, want %v", fn.References, want)
	}
	wantS3 := []samtemplate.S3Event{{
		Event: "Upload", Bucket: "!Ref Bucket", Events: []string{"s3:ObjectCreated:*"},
		Prefix: "uploads/", Suffix: ".jpg",
	}}
	if !reflect.DeepEqual(fn.S3Events, wantS3) {
		t.Errorf("S3Events = %+v, want %+v", fn.S3Events, wantS3)
	}
	if len(fn.HTTPRoutes) != 0 {
		t.Errorf("HTTPRoutes = %+v, want none", fn.HTTPRoutes)
	}
	// A single policy document whose Allow statement uses NotAction.
	if want := []string{"*"}; !reflect.DeepEqual(fn.PolicyActions, want) {
		t.Errorf("PolicyActions = %v, want %v", fn.PolicyActions, want)
	}
	if want := []samtemplate.Grant{{Action: "*", Resource: "*"}}; !reflect.DeepEqual(fn.Grants, want) {
		t.Errorf("Grants = %v, want %v", fn.Grants, want)
	}
}

func TestParseBuckets(t *testing.T) {
	want := map[string]samtemplate.Bucket{
		"Bucket": {
			LogicalID: "Bucket",
			Name:      "!Sub ${AWS::StackName}-things-${AWS::AccountId}",
			CORSRules: []samtemplate.CORSRule{
				{
					ID: "Browsers", AllowedMethods: []string{"POST", "GET"}, AllowedOrigins: []string{"!Ref Origins"},
					AllowedHeaders: []string{"*"}, ExposedHeaders: []string{"ETag"}, MaxAge: "600",
				},
				{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}},
			},
			LifecycleRules: []samtemplate.LifecycleRule{
				{ID: "Expire", Status: "Enabled", Prefix: "tmp/", ExpirationInDays: "1"},
				{ID: "Abort", Status: "Disabled", AbortIncompleteMultipartUploadDays: "7"},
			},
		},
		"PlainBucket": {LogicalID: "PlainBucket"},
	}
	if got := parseSample(t).Buckets; !reflect.DeepEqual(got, want) {
		t.Errorf("Buckets:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseTypes(t *testing.T) {
	want := map[string]string{
		"Api": "AWS::Serverless::HttpApi", "Plain": "AWS::Serverless::HttpApi",
		"CreateThing": "AWS::Serverless::Function", "OnUpload": "AWS::Serverless::Function",
		"Table": "AWS::DynamoDB::Table", "Bucket": "AWS::S3::Bucket", "PlainBucket": "AWS::S3::Bucket",
		"Queue": "AWS::SQS::Queue", "Topic": "AWS::SNS::Topic",
	}
	if got := parseSample(t).Types; !reflect.DeepEqual(got, want) {
		t.Errorf("Types:\n got %v\nwant %v", got, want)
	}
}

func TestParseHTTPAPIs(t *testing.T) {
	tmpl := parseSample(t)
	fromGlobals := samtemplate.Authorizer{
		Name: "FromGlobals", Type: samtemplate.AuthorizerJWT, IdentitySource: "$request.header.X-Token",
		Issuer: "https://globals.example", Audience: []string{"globals"},
	}
	want := map[string]samtemplate.HTTPAPI{
		"Api": {
			LogicalID:         "Api",
			DefaultAuthorizer: "Jwt",
			Authorizers: map[string]samtemplate.Authorizer{
				"Jwt": {
					Name:                "Jwt",
					Type:                samtemplate.AuthorizerJWT,
					IdentitySource:      "$request.header.Authorization",
					Issuer:              "!If [IsProd, !Sub \"https://cognito-idp.${AWS::Region}.amazonaws.com/${Pool}\", !Ref Issuer]",
					Audience:            []string{"!Ref Client", "other"},
					AuthorizationScopes: []string{"read"},
				},
				"Custom": {
					Name: "Custom", Type: samtemplate.AuthorizerLambda, FunctionARN: "!GetAtt AuthFn.Arn",
				},
				"FromGlobals": fromGlobals,
			},
			// The API's keys over Globals'.
			CORS: &samtemplate.HTTPAPICORS{
				AllowOrigins: []string{"!Ref Origins"}, AllowMethods: []string{"GET"},
				AllowHeaders: []string{"Authorization", "If-Match"}, ExposeHeaders: []string{"ETag"},
				MaxAge: "600", AllowCredentials: "true",
			},
		},
		"Plain": {
			LogicalID:         "Plain",
			DefaultAuthorizer: "FromGlobals",
			Authorizers: map[string]samtemplate.Authorizer{
				"FromGlobals": fromGlobals,
				"Jwt": {
					Name: "Jwt", Type: samtemplate.AuthorizerJWT,
					Issuer: "https://overridden.example", Audience: []string{"overridden"},
				},
			},
			CORS: &samtemplate.HTTPAPICORS{AllowMethods: []string{"GET"}, MaxAge: "300", AllowCredentials: "true"},
		},
	}
	if !reflect.DeepEqual(tmpl.HTTPAPIs, want) {
		t.Errorf("HTTPAPIs:\n got %+v\nwant %+v", tmpl.HTTPAPIs, want)
	}
}

func TestParseParameters(t *testing.T) {
	want := map[string]samtemplate.Parameter{
		"Origins": {Type: "CommaDelimitedList", Default: "https://a.example, https://b.example:8443", HasDefault: true},
		"Stage":   {Type: "String", Default: "dev", HasDefault: true},
		"Issuer":  {Type: "String"},
		"Empty":   {Type: "String", HasDefault: true},
		"Ports":   {Type: "List<Number>", Default: "80,443", HasDefault: true},
	}
	if got := parseSample(t).Parameters; !reflect.DeepEqual(got, want) {
		t.Errorf("Parameters:\n got %+v\nwant %+v", got, want)
	}
}

func TestResolve(t *testing.T) {
	tmpl := parseSample(t)
	tests := []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{[]string{"!Ref Origins"}, []string{"https://a.example", "https://b.example:8443"}, ""},
		{[]string{"!Ref Ports", "8080"}, []string{"80", "443", "8080"}, ""},
		{[]string{"GET", "!Ref Stage", "!Ref Empty"}, []string{"GET", "dev", ""}, ""},
		{nil, nil, ""},
		{[]string{"!Ref Issuer"}, nil, "parameter Issuer has no Default"},
		{[]string{"!Ref Table"}, nil, "Table is no parameter"},
		{[]string{"!Sub ${Stage}-x"}, nil, "only a literal or !Ref of a parameter"},
		{[]string{"!If [IsProd, a, b]"}, nil, "only a literal or !Ref of a parameter"},
	}
	for _, tt := range tests {
		got, err := tmpl.ResolveList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ResolveList(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ResolveList(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if got, err := tmpl.Resolve("!Ref Stage"); got != "dev" || err != nil {
		t.Errorf("Resolve(!Ref Stage) = %q, %v", got, err)
	}
	if got, err := tmpl.Resolve("600"); got != "600" || err != nil {
		t.Errorf("Resolve(600) = %q, %v", got, err)
	}
	if _, err := tmpl.Resolve("!Ref Origins"); err == nil {
		t.Error("Resolve of a list parameter: no error")
	}
}

func TestParseOutputs(t *testing.T) {
	want := map[string]samtemplate.Output{
		"ApiUrl": {Value: "!Sub https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"},
		"PoolId": {Value: "!Ref Pool", Condition: "IsProd"},
	}
	if got := parseSample(t).Outputs; !reflect.DeepEqual(got, want) {
		t.Errorf("Outputs:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseTable(t *testing.T) {
	table := parseSample(t).Table
	want := samtemplate.TableDef{
		LogicalID:   "Table",
		BillingMode: "PAY_PER_REQUEST",
		AttributeDefinitions: []samtemplate.AttributeDefinition{
			{Name: "PK", Type: "S"}, {Name: "SK", Type: "S"}, {Name: "G1PK", Type: "S"}, {Name: "G1SK", Type: "N"},
		},
		KeySchema: []samtemplate.KeyElement{{AttributeName: "PK", KeyType: "HASH"}, {AttributeName: "SK", KeyType: "RANGE"}},
		GlobalSecondaryIndexes: []samtemplate.GlobalSecondaryIndex{{
			IndexName:        "G1",
			KeySchema:        []samtemplate.KeyElement{{AttributeName: "G1PK", KeyType: "HASH"}, {AttributeName: "G1SK", KeyType: "RANGE"}},
			ProjectionType:   "INCLUDE",
			NonKeyAttributes: []string{"name"},
		}},
		TTLAttribute: "expiresAt",
	}
	if !reflect.DeepEqual(table, want) {
		t.Errorf("Table:\n got %+v\nwant %+v", table, want)
	}
}

func TestCreateTableInput(t *testing.T) {
	table := parseSample(t).Table
	in := table.CreateTableInput("things-test")

	if got := aws.ToString(in.TableName); got != "things-test" {
		t.Errorf("TableName = %q", got)
	}
	if in.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("BillingMode = %q", in.BillingMode)
	}
	if len(in.AttributeDefinitions) != 4 || in.AttributeDefinitions[3].AttributeType != types.ScalarAttributeTypeN {
		t.Errorf("AttributeDefinitions = %+v", in.AttributeDefinitions)
	}
	if len(in.KeySchema) != 2 || aws.ToString(in.KeySchema[0].AttributeName) != "PK" || in.KeySchema[1].KeyType != types.KeyTypeRange {
		t.Errorf("KeySchema = %+v", in.KeySchema)
	}
	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("GlobalSecondaryIndexes = %+v", in.GlobalSecondaryIndexes)
	}
	gsi := in.GlobalSecondaryIndexes[0]
	if aws.ToString(gsi.IndexName) != "G1" || gsi.Projection.ProjectionType != types.ProjectionTypeInclude ||
		!reflect.DeepEqual(gsi.Projection.NonKeyAttributes, []string{"name"}) || len(gsi.KeySchema) != 2 {
		t.Errorf("GSI = %+v, projection %+v", gsi, gsi.Projection)
	}

	ttl := table.UpdateTimeToLiveInput("things-test")
	if ttl == nil || aws.ToString(ttl.TimeToLiveSpecification.AttributeName) != "expiresAt" ||
		!aws.ToBool(ttl.TimeToLiveSpecification.Enabled) || aws.ToString(ttl.TableName) != "things-test" {
		t.Errorf("UpdateTimeToLiveInput = %+v", ttl)
	}
	if got := (samtemplate.TableDef{}).UpdateTimeToLiveInput("x"); got != nil {
		t.Errorf("UpdateTimeToLiveInput without TTL = %+v, want nil", got)
	}
}

func TestParseErrors(t *testing.T) {
	const table = `
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
`
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"not yaml", "Resources: [", "parse template"},
		{"no resources", "Transform: AWS::Serverless-2016-10-31\n", "no Resources"},
		{"no table", "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n", "found 0"},
		{"two tables", "Resources:" + table + strings.ReplaceAll(table, "Table:", "Other:"), "found 2"},
		{"table without key", "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n", "no KeySchema"},
		{"method is a list", "Resources:" + table + `
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Api:
          Type: HttpApi
          Properties: {Method: [GET], Path: /x}
`, "function Fn: event Api"},
		{"jwt configuration is a list", "Resources:" + table + `
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          Jwt:
            JwtConfiguration: [issuer]
`, "HttpApi Api: authorizer Jwt: line 13: JwtConfiguration: want a mapping"},
		{"cors configuration shorthand", "Resources:" + table + `
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: true
`, "HttpApi Api: CorsConfiguration: line 10: want a mapping"},
		{"destination config is a list", "Resources:" + table + `
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      EventInvokeConfig:
        DestinationConfig: [SQS]
`, "function Fn: EventInvokeConfig"},
		{"bad statement", "Resources:" + table + `
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement: [[dynamodb:GetItem]]
`, "function Fn: Policies: policy 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := samtemplate.Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestParseRepoTemplate checks the table of the real template against the key
// layout the dynamo package relies on.
func TestParseRepoTemplate(t *testing.T) {
	tmpl := repoTemplate(t)
	table := tmpl.Table
	in := table.CreateTableInput("depot-local")
	if len(in.KeySchema) != 2 || aws.ToString(in.KeySchema[0].AttributeName) != "PK" || aws.ToString(in.KeySchema[1].AttributeName) != "SK" {
		t.Errorf("KeySchema = %+v, want PK HASH, SK RANGE", table.KeySchema)
	}
	if table.TTLAttribute != "expiresAtEpoch" {
		t.Errorf("TTLAttribute = %q, want expiresAtEpoch", table.TTLAttribute)
	}
	if table.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %q, want PAY_PER_REQUEST", table.BillingMode)
	}
	var gsis []string
	for _, g := range table.GlobalSecondaryIndexes {
		gsis = append(gsis, g.IndexName)
		want := []samtemplate.KeyElement{
			{AttributeName: g.IndexName + "PK", KeyType: "HASH"},
			{AttributeName: g.IndexName + "SK", KeyType: "RANGE"},
		}
		if !reflect.DeepEqual(g.KeySchema, want) || g.ProjectionType != "ALL" {
			t.Errorf("%s: KeySchema %+v projection %q, want %+v ALL", g.IndexName, g.KeySchema, g.ProjectionType, want)
		}
	}
	if want := []string{"GSI1", "GSI2", "GSI3", "GSI4"}; !reflect.DeepEqual(gsis, want) {
		t.Errorf("GSIs = %v, want %v", gsis, want)
	}
	for _, a := range table.AttributeDefinitions {
		if a.Type != "S" {
			t.Errorf("attribute %s has type %s, want S", a.Name, a.Type)
		}
	}
}

// repoTemplate parses the repository's template.yaml.
func repoTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	data, err := os.ReadFile(repoRoot + "/template.yaml")
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	tmpl, err := samtemplate.Parse(data)
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	return tmpl
}
