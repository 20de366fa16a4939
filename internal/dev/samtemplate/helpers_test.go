package samtemplate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/depot-inventory/depot/internal/dev/gen"
	"github.com/depot-inventory/depot/internal/dev/samtemplate"
)

// bucketID is the images bucket's logical id.
const bucketID = "ImagesBucket"

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

// TestGeneratorSpellsTheBucketName: the generated policies name the images
// bucket exactly as its BucketName does.
func TestGeneratorSpellsTheBucketName(t *testing.T) {
	if got := repoTemplate(t).Buckets[bucketID].Name; got != "!Sub "+gen.ImagesBucketName {
		t.Errorf("%s: BucketName = %q, the generator writes %q", bucketID, got, "!Sub "+gen.ImagesBucketName)
	}
}
