package localrun

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/media"
)

// keptEngines are the two embedded engines keeping their data in dir, with
// SDK clients, and a recorder of S3's notifications for uploads/.
type keptEngines struct {
	store *DataStore
	ddb   *dynamodb.Client
	s3    *s3.Client
	s3URL string
	rec   *recorder
	n     *Notifier
	close func()
}

func startKept(t *testing.T, dir string, fresh bool) *keptEngines {
	t.Helper()
	store, err := OpenDataStore(dir, fresh)
	if err != nil {
		t.Fatal(err)
	}
	ddb, err := startDynamoDB(store)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	k := &keptEngines{store: store, rec: &recorder{}}
	s3e, n, err := startS3(S3Options{Notify: k.rec.notify, Prefix: "uploads/", Region: "eu-west-1"}, store)
	if err != nil {
		ddb.Close()
		store.Close()
		t.Fatal(err)
	}
	k.n, k.s3URL = n, s3e.URL
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: LocalAccessKeyID, SecretAccessKey: LocalSecretAccessKey}, nil
	})
	k.ddb = dynamodb.New(dynamodb.Options{Region: "eu-west-1", BaseEndpoint: aws.String(ddb.URL), Credentials: creds})
	k.s3 = s3.New(s3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(s3e.URL), UsePathStyle: true, Credentials: creds})
	closed := false
	k.close = func() {
		if closed {
			return
		}
		closed = true
		if err := errors.Join(ddb.Close(), s3e.Close(), store.Close()); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	t.Cleanup(k.close)
	return k
}

func (k *keptEngines) object(t *testing.T, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := k.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(out.Body); err != nil {
		t.Fatal(err)
	}
	return out, b.Bytes()
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }
func num(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: s} }

// TestDataSurvivesRestart writes to both engines in every way Depot does
// (DynamoDB: table, puts, conditional updates, transactions, deletes; S3:
// bucket, PUT, multipart upload, browser POST upload, delete), some of them
// refused, stops the engines and starts new ones on the same directory:
// they hold the same data, no notification is sent again, and a multipart
// upload begun before the restart completes after it. FRESH empties it.
func TestDataSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	k := startKept(t, dir, false)

	table := aws.String("t")
	if _, err := k.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            table,
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: ddbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	put := func(pk, n string) error {
		_, err := k.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: map[string]ddbtypes.AttributeValue{"PK": str(pk), "n": num(n)},
			ConditionExpression: aws.String("attribute_not_exists(PK)")})
		return err
	}
	for _, pk := range []string{"a", "b", "c"} {
		if err := put(pk, "1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := put("a", "99"); err == nil { // refused: a exists
		t.Fatal("a conditional put over an item succeeded")
	}
	// Each update is conditional on the one before: replayed out of
	// order, or with the refused one, they would not give n = 3.
	for _, from := range []string{"1", "2"} {
		if _, err := k.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: table, Key: map[string]ddbtypes.AttributeValue{"PK": str("a")},
			UpdateExpression: aws.String("SET n = n + :one"), ConditionExpression: aws.String("n = :from"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": num("1"), ":from": num(from)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: table, Item: map[string]ddbtypes.AttributeValue{"PK": str("d"), "n": num("4")}}},
		{Delete: &ddbtypes.Delete{TableName: table, Key: map[string]ddbtypes.AttributeValue{"PK": str("b")}}},
	}}); err != nil {
		t.Fatal(err)
	}

	if _, err := k.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("uploads/put"),
		Body: bytes.NewReader(png(300)), ContentType: aws.String("image/png")}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("gone"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	mpu, err := k.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("exports/e.csv")})
	if err != nil {
		t.Fatal(err)
	}
	part1 := bytes.Repeat([]byte("a,b\n"), 2<<20) // 8 MiB: parts but the last are at least 5
	p1, err := k.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("exports/e.csv"), UploadId: mpu.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(part1)})
	if err != nil {
		t.Fatal(err)
	}
	m := media.New(k.s3, testBucket)
	up := inventory.UploadKey("01JQ8Z6T3V8K2M4N6P8R0S2T4V", "01JQ94V6X8Z0A2C4E6G8J0K2M4")
	post, err := m.PresignUpload(ctx, up, "image/png", 1024, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := postFile(t, post.URL, formFields(post.Fields), png(700)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	if err := k.n.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, evs := k.rec.snapshot(); len(evs) != 2 {
		t.Fatalf("%d notifications before the restart, want 2 (the PUT and the POST)", len(evs))
	}
	before, _ := k.object(t, up)
	listedBefore := k.lastModified(t)
	k.close()

	k = startKept(t, dir, false)
	if r := k.store.Replayed; r.Records < 14 || r.TornBytes != 0 {
		t.Errorf("replayed %+v", r)
	}
	scan, err := k.ddb.Scan(ctx, &dynamodb.ScanInput{TableName: table, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range scan.Items {
		got[it["PK"].(*ddbtypes.AttributeValueMemberS).Value] = it["n"].(*ddbtypes.AttributeValueMemberN).Value
	}
	if want := map[string]string{"a": "3", "c": "1", "d": "4"}; !maps.Equal(got, want) {
		t.Errorf("table after the restart %v, want %v", got, want)
	}
	if _, data := k.object(t, "uploads/put"); !bytes.Equal(data, png(300)) {
		t.Error("the PUT object differs")
	}
	after, data := k.object(t, up)
	if !bytes.Equal(data, png(700)) || aws.ToString(after.ContentType) != "image/png" {
		t.Errorf("the POST object: %d bytes, %q", len(data), aws.ToString(after.ContentType))
	}
	if !aws.ToTime(after.LastModified).Equal(aws.ToTime(before.LastModified)) || aws.ToString(after.ETag) != aws.ToString(before.ETag) {
		t.Errorf("the POST object's Last-Modified or ETag changed: %v %s, was %v %s",
			after.LastModified, aws.ToString(after.ETag), before.LastModified, aws.ToString(before.ETag))
	}
	if got := k.lastModified(t); !maps.Equal(got, listedBefore) {
		t.Errorf("objects' LastModified after the restart %v, before %v", got, listedBefore)
	}
	if _, err := k.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("gone")}); err == nil {
		t.Error("the deleted object is back")
	}
	// The multipart upload begun before the restart goes on after it.
	p2, err := k.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket), Key: aws.String("exports/e.csv"), UploadId: mpu.UploadId,
		PartNumber: aws.Int32(2), Body: strings.NewReader("c,d\n")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String("exports/e.csv"),
		UploadId: mpu.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{
			{ETag: p1.ETag, PartNumber: aws.Int32(1)}, {ETag: p2.ETag, PartNumber: aws.Int32(2)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, data := k.object(t, "exports/e.csv"); !bytes.Equal(data, append(part1, "c,d\n"...)) {
		t.Errorf("the completed upload has %d bytes", len(data))
	}
	if err := k.n.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if attempts, _ := k.rec.snapshot(); attempts != 0 {
		t.Errorf("%d notifications sent again after the restart", attempts)
	}
	k.close()

	// Another restart replays the completed upload too; FRESH empties all.
	k = startKept(t, dir, false)
	if _, data := k.object(t, "exports/e.csv"); len(data) != len(part1)+4 {
		t.Errorf("after a second restart the upload has %d bytes", len(data))
	}
	k.close()
	k = startKept(t, dir, true)
	if r := k.store.Replayed; r.Records != 0 {
		t.Errorf("FRESH replayed %d records", r.Records)
	}
	if _, err := k.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: table}); err == nil {
		t.Error("the table is there after FRESH")
	}
}

// Two processes appending to the same logs would interleave them.
func TestDataStoreLockedForOneProcess(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenDataStore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := OpenDataStore(dir, true); err == nil || !strings.Contains(err.Error(), "another depot-local") {
		t.Fatalf("a second open: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dataLockFile)); err != nil {
		t.Fatal(err)
	}
}

// lastModified lists the bucket: each key's LastModified, as listed
// (millisecond precision).
func (k *keptEngines) lastModified(t *testing.T) map[string]string {
	t.Helper()
	out, err := k.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, o := range out.Contents {
		m[aws.ToString(o.Key)] = aws.ToTime(o.LastModified).Format(time.RFC3339Nano)
	}
	return m
}
