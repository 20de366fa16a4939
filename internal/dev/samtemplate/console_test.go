package samtemplate_test

import (
	"slices"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

// consoleOrigin is the console's origin once deployed (issue 12).
const consoleOrigin = "!Sub https://${ConsoleDistribution.DomainName}"

// TestConsoleIsWired: the console's CloudFront origin is allowed by the
// API's CORS and the images bucket's (besides AllowedOrigins, which the
// local gateway applies), and is where the Cognito hosted UI sends people
// back; its bucket is read by the distribution alone, through origin
// access control.
func TestConsoleIsWired(t *testing.T) {
	tmpl := repoTemplate(t)
	for id, api := range tmpl.HTTPAPIs {
		if !slices.Equal(api.CORS.DeployedOrigins, []string{consoleOrigin}) || !slices.Equal(api.CORS.AllowOrigins, []string{"!Ref AllowedOrigins"}) {
			t.Errorf("%s allows %v and, once deployed, %v; want AllowedOrigins and the console's", id, api.CORS.AllowOrigins, api.CORS.DeployedOrigins)
		}
	}
	images := tmpl.Buckets["ImagesBucket"]
	for _, r := range images.CORSRules {
		if !slices.Equal(r.DeployedOrigins, []string{consoleOrigin}) {
			t.Errorf("images bucket CORS rule %s: deployed origins %v, want the console's", r.ID, r.DeployedOrigins)
		}
	}
	if len(images.CORSRules) == 0 {
		t.Error("the images bucket has no CORS rule")
	}

	client := tmpl.Resources["UserPoolClient"].Properties
	for _, key := range []string{"CallbackURLs", "LogoutURLs"} {
		urls, _ := client[key].([]any)
		if !slices.Contains(urls, any(consoleOrigin+"/")) {
			t.Errorf("UserPoolClient %s %v lack the console's %s/", key, urls, consoleOrigin)
		}
	}
	if flows := samtemplate.Get(client, "AllowedOAuthFlows"); !slices.Equal(flows.([]any), []any{"code"}) {
		t.Errorf("UserPoolClient AllowedOAuthFlows %v, want [code] (with PKCE)", flows)
	}
	if client["GenerateSecret"] != "false" {
		t.Errorf("UserPoolClient GenerateSecret %v: a browser's client is public", client["GenerateSecret"])
	}
	if _, ok := tmpl.Resources["UserPoolDomain"]; !ok {
		t.Error("no UserPoolDomain: the hosted UI needs one")
	}

	origin := samtemplate.Get(tmpl.Resources["ConsoleDistribution"].Properties, "DistributionConfig", "Origins", 0)
	if samtemplate.Get(origin, "OriginAccessControlId") != "!GetAtt ConsoleOriginAccessControl.Id" {
		t.Errorf("the console's origin %v does not use ConsoleOriginAccessControl", origin)
	}
	block := samtemplate.Get(tmpl.Resources["ConsoleBucket"].Properties, "PublicAccessBlockConfiguration")
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if samtemplate.Get(block, k) != "true" {
			t.Errorf("ConsoleBucket %s is not true: %v", k, block)
		}
	}
	allow := samtemplate.Get(tmpl.Resources["ConsoleBucketPolicy"].Properties, "PolicyDocument", "Statement", 0)
	if samtemplate.Get(allow, "Principal", "Service") != "cloudfront.amazonaws.com" || samtemplate.Get(allow, "Action") != "s3:GetObject" ||
		samtemplate.Get(allow, "Condition", "StringEquals", "AWS:SourceArn") == nil {
		t.Errorf("ConsoleBucketPolicy's first statement is not GetObject by this distribution alone: %v", allow)
	}
}

// TestOriginListForms: an origin list is read in either form of the
// intrinsics, its items split into those resolved before deploying and
// those known only once deployed.
func TestOriginListForms(t *testing.T) {
	for name, origins := range map[string]string{
		"short": `!Split [",", !Join [",", [!Sub "https://${Dist.DomainName}", "https://app.example.com", !Join [",", !Ref Origins]]]]`,
		"long": `
          Fn::Split:
            - ","
            - Fn::Join: [",", [{"Fn::Sub": "https://${Dist.DomainName}"}, "https://app.example.com", {"Fn::Join": [",", {Ref: Origins}]}]]`,
	} {
		tmpl, err := samtemplate.Parse([]byte(`
Parameters:
  Origins: {Type: CommaDelimitedList, Default: "http://localhost:3000"}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: ` + origins + `
`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cors := tmpl.HTTPAPIs["Api"].CORS
		if !slices.Equal(cors.AllowOrigins, []string{"https://app.example.com", "!Ref Origins"}) || !slices.Equal(cors.DeployedOrigins, []string{"!Sub https://${Dist.DomainName}"}) {
			t.Errorf("%s: local %q, deployed %q", name, cors.AllowOrigins, cors.DeployedOrigins)
		}
		local, err := tmpl.ResolveList(cors.AllowOrigins)
		if err != nil || !slices.Equal(local, []string{"https://app.example.com", "http://localhost:3000"}) {
			t.Errorf("%s: resolved %q, %v", name, local, err)
		}
	}
}
