package samtemplate_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

// Logical ids of the resources the functions' policies are about.
const (
	tableID  = "Table"
	bucketID = "ImagesBucket"
)

// The table's ARNs as the policies write them.
const (
	tableARN   = "!GetAtt Table.Arn"
	indexesARN = "!Sub ${Table.Arn}/index/*"
)

// dynamoItemActions act on one item (TransactWriteItems is authorised as the
// item actions it contains): the table is their only resource; indexes have
// no items to write or get.
var dynamoItemActions = []string{
	"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
}

// wantS3Objects are, for each function, the key patterns of the images
// bucket each of its S3 actions may act on, sorted. Functions and actions
// not listed get no S3 access.
var wantS3Objects = map[string]map[string][]string{
	// Signs presigned POSTs for uploads/{itemId}/{uploadId}.
	"CreateImageUpload": {"s3:PutObject": {"uploads/*"}},
	// Sign presigned GETs of processed images (originals are copied under
	// thumbnails/ when processed): readers never touch uploads/.
	"GetItem":   {"s3:GetObject": {"thumbnails/*"}},
	"ListItems": {"s3:GetObject": {"thumbnails/*"}},
	// Reads an upload, writes the image under thumbnails/, deletes the
	// upload and replaced images.
	"MakeThumbnails": {
		"s3:GetObject":    {"uploads/*"},
		"s3:PutObject":    {"thumbnails/*"},
		"s3:DeleteObject": {"thumbnails/*", "uploads/*"},
	},
}

// TestResourceScopes checks that every action a function is allowed is
// allowed only on the resources it needs (TestLeastPrivilege checks the
// actions themselves).
func TestResourceScopes(t *testing.T) {
	for _, p := range scopeProblems(repoTemplate(t)) {
		t.Error(p)
	}
}

// TestScopeProblemsCatchBreakage proves scopeProblems fails on what it
// guards against, each case breaking a fresh parse of the real template.
func TestScopeProblemsCatchBreakage(t *testing.T) {
	grant := func(function, action, resource string) func(*samtemplate.Template) {
		return func(tmpl *samtemplate.Template) {
			fn := tmpl.Functions[function]
			fn.Grants = append(slices.Clone(fn.Grants), samtemplate.Grant{Action: action, Resource: resource})
			tmpl.Functions[function] = fn
		}
	}
	objects := func(tmpl *samtemplate.Template, pattern string) string {
		arn, err := objectARN(tmpl, pattern)
		if err != nil {
			t.Fatal(err)
		}
		return arn
	}
	tests := []struct {
		name   string
		mutate func(*samtemplate.Template)
		want   string
	}{
		{"any resource", grant("GetItem", "dynamodb:GetItem", "*"),
			`GetItem: dynamodb:GetItem on "*"`},
		{"no resource", grant("GetItem", "dynamodb:GetItem", ""),
			`GetItem: dynamodb:GetItem on ""`},
		{"item action on the indexes", grant("CreateItem", "dynamodb:PutItem", indexesARN),
			"CreateItem: dynamodb:PutItem on " + indexesARN + ": want only " + tableARN},
		{"query elsewhere", grant("ListItems", "dynamodb:Query", "!GetAtt Other.Arn"),
			"ListItems: dynamodb:Query on !GetAtt Other.Arn: want only the table and its indexes"},
		{"bucket-wide objects", func(tmpl *samtemplate.Template) {
			grant("MakeThumbnails", "s3:GetObject", objects(tmpl, "*"))(tmpl)
		}, "MakeThumbnails: s3:GetObject on every object of the bucket"},
		{"reader of uploads", func(tmpl *samtemplate.Template) {
			grant("GetItem", "s3:GetObject", objects(tmpl, "uploads/*"))(tmpl)
		}, "GetItem: s3:GetObject on [thumbnails/* uploads/*], want [thumbnails/*]"},
		{"writer of thumbnails", func(tmpl *samtemplate.Template) {
			grant("CreateImageUpload", "s3:PutObject", objects(tmpl, "thumbnails/*"))(tmpl)
		}, "CreateImageUpload: s3:PutObject on [thumbnails/* uploads/*], want [uploads/*]"},
		{"S3 action not needed", func(tmpl *samtemplate.Template) {
			grant("UpdateItem", "s3:GetObject", objects(tmpl, "thumbnails/*"))(tmpl)
		}, "UpdateItem: s3:GetObject on [thumbnails/*], want none"},
		{"S3 action missing", func(tmpl *samtemplate.Template) {
			fn := tmpl.Functions["MakeThumbnails"]
			fn.Grants = slices.DeleteFunc(slices.Clone(fn.Grants), func(g samtemplate.Grant) bool { return g.Action == "s3:DeleteObject" })
			tmpl.Functions["MakeThumbnails"] = fn
		}, "MakeThumbnails: s3:DeleteObject on [], want [thumbnails/* uploads/*]"},
		{"bucket by GetAtt", grant("MakeThumbnails", "s3:GetObject", "!Sub ${ImagesBucket.Arn}/uploads/*"),
			"MakeThumbnails: s3:GetObject on !Sub ${ImagesBucket.Arn}/uploads/*: not an object ARN of " + bucketID},
		{"other bucket", grant("GetItem", "s3:GetObject", "arn:aws:s3:::elsewhere/thumbnails/*"),
			"GetItem: s3:GetObject on arn:aws:s3:::elsewhere/thumbnails/*: not an object ARN of " + bucketID},
		{"s3:*", grant("MakeThumbnails", "s3:*", "arn:aws:s3:::elsewhere/*"),
			`MakeThumbnails: s3:* on arn:aws:s3:::elsewhere/*: not an object ARN`},
		{"other service", grant("Health", "sqs:SendMessage", "!GetAtt ThumbnailFailures.Arn"),
			"Health: sqs:SendMessage: no resource rule for this action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := repoTemplate(t)
			tt.mutate(tmpl)
			problems := scopeProblems(tmpl)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("problems %q\nwant one containing %q", problems, tt.want)
			}
		})
	}
}

// scopeProblems lists the grants of the template's functions that reach
// beyond what the function needs:
//   - no action on "*" (or on nothing);
//   - DynamoDB item actions on the table alone, Query on the table and its
//     indexes, nothing else of DynamoDB;
//   - S3 actions only on the images bucket's objects, each on exactly the key
//     patterns of wantS3Objects, never on every object ("<bucket>/*"); the
//     object ARNs spell out the bucket's BucketName (a !Ref or !GetAtt of the
//     bucket would be a circular dependency, see TestNoCircularDependency);
//   - no other service.
func scopeProblems(tmpl *samtemplate.Template) []string {
	var out []string
	report := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	for _, id := range slices.Sorted(maps.Keys(tmpl.Functions)) {
		fn := tmpl.Functions[id]
		s3Got := map[string][]string{}
		for _, g := range fn.Grants {
			if g.Resource == "" || g.Resource == "*" {
				report("%s: %s on %q: name the resources it needs", id, g.Action, g.Resource)
				continue
			}
			service, _, _ := strings.Cut(g.Action, ":")
			switch {
			case slices.Contains(dynamoItemActions, g.Action):
				if g.Resource != tableARN {
					report("%s: %s on %s: want only %s", id, g.Action, g.Resource, tableARN)
				}
			case g.Action == "dynamodb:Query":
				if g.Resource != tableARN && g.Resource != indexesARN {
					report("%s: %s on %s: want only the table and its indexes (%s, %s)", id, g.Action, g.Resource, tableARN, indexesARN)
				}
			case service == "s3":
				pattern, ok := objectPattern(tmpl, g.Resource)
				switch {
				case !ok:
					report("%s: %s on %s: not an object ARN of %s (%s)", id, g.Action, g.Resource, bucketID, mustObjectARN(tmpl, "<key>"))
				case pattern == "*":
					report("%s: %s on every object of the bucket (%s): scope it to a prefix", id, g.Action, g.Resource)
				default:
					s3Got[g.Action] = append(s3Got[g.Action], pattern)
				}
			default:
				report("%s: %s: no resource rule for this action; add one to scopeProblems", id, g.Action)
			}
		}

		want := wantS3Objects[id]
		for _, action := range slices.Sorted(maps.Keys(joinKeys(s3Got, want))) {
			got := slices.Compact(slices.Sorted(slices.Values(s3Got[action])))
			if w := want[action]; !slices.Equal(got, w) {
				if w == nil {
					report("%s: %s on %v, want none", id, action, got)
				} else {
					report("%s: %s on %v, want %v", id, action, got, w)
				}
			}
		}
	}
	return out
}

// objectPattern returns the key pattern of an object ARN of the images
// bucket, e.g. "uploads/*" of
// "!Sub arn:${AWS::Partition}:s3:::<BucketName>/uploads/*".
func objectPattern(tmpl *samtemplate.Template, resource string) (string, bool) {
	prefix, err := objectARN(tmpl, "")
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(resource, prefix)
}

// objectARN is the ARN of the images bucket's objects matching pattern, as
// the policies write it: the bucket's BucketName (a !Sub) inside a !Sub.
func objectARN(tmpl *samtemplate.Template, pattern string) (string, error) {
	b, ok := tmpl.Buckets[bucketID]
	if !ok {
		return "", fmt.Errorf("template.yaml has no bucket %s", bucketID)
	}
	name, ok := strings.CutPrefix(b.Name, "!Sub ")
	if !ok {
		return "", fmt.Errorf("%s: BucketName = %q, want a !Sub", bucketID, b.Name)
	}
	return "!Sub arn:${AWS::Partition}:s3:::" + name + "/" + pattern, nil
}

func mustObjectARN(tmpl *samtemplate.Template, pattern string) string {
	arn, err := objectARN(tmpl, pattern)
	if err != nil {
		return err.Error()
	}
	return arn
}

// joinKeys returns the union of the keys of a and b.
func joinKeys[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
