package localrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	depot "github.com/depot-inventory/depot"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/localauth"
	"github.com/depot-inventory/depot/internal/samtemplate"
)

// Engines are the DynamoDB and S3 endpoints the runtime talks to.
type Engines struct {
	DynamoDB string // description, for the banner
	S3       string
	closers  []func() error
}

// Close stops the embedded engines, if any were started.
func (e *Engines) Close() error {
	var errs []error
	for _, c := range e.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// UseEngines points the AWS SDK of this process at the storage engines:
// the ones AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL_S3
// name, or else embedded ones started here on loopback. It sets the SDK's
// own variables, so every client below is configured exactly as in Lambda.
func UseEngines() (*Engines, error) {
	setDefault("AWS_REGION", "us-east-1")
	external := os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	if external {
		setDefault("AWS_ACCESS_KEY_ID", "test")
		setDefault("AWS_SECRET_ACCESS_KEY", "test")
		return &Engines{DynamoDB: endpointOf("DYNAMODB"), S3: endpointOf("S3")}, nil
	}
	// Embedded engines accept any credentials; never use real ones here.
	os.Setenv("AWS_ACCESS_KEY_ID", "local")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	os.Unsetenv("AWS_SESSION_TOKEN")
	os.Unsetenv("AWS_PROFILE")
	e := &Engines{}
	ddb, err := StartDynamoDB()
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, ddb.Close)
	s3e, err := StartS3()
	if err != nil {
		_ = e.Close()
		return nil, err
	}
	e.closers = append(e.closers, s3e.Close)
	os.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb.URL)
	os.Setenv("AWS_ENDPOINT_URL_S3", s3e.URL)
	e.DynamoDB = ddb.Name + " at " + ddb.URL
	e.S3 = s3e.Name + " at " + s3e.URL
	return e, nil
}

func endpointOf(service string) string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

func setDefault(name, value string) {
	if os.Getenv(name) == "" {
		os.Setenv(name, value)
	}
}

// Stack is the local deployment: the table and bucket exist, and every
// function's Lambda handler sits behind the gateway.
type Stack struct {
	Settings lambdafn.Settings
	Gateway  *Gateway
	Handlers map[string]lambdafn.Handler
}

// Deploy creates the table (from template.yaml) and the bucket if they do
// not exist, and builds every function's handler behind a gateway that
// accepts the issuer's tokens. UseEngines must have run.
func Deploy(ctx context.Context, settings lambdafn.Settings, issuer *localauth.Issuer, logger *slog.Logger) (*Stack, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if err := createTable(ctx, dynamodb.NewFromConfig(cfg), settings.TableName); err != nil {
		return nil, err
	}
	if err := createBucket(ctx, s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), settings.BucketName); err != nil {
		return nil, err
	}
	settings.Logger = logger
	deps, err := lambdafn.Build(ctx, settings)
	if err != nil {
		return nil, err
	}
	handlers := map[string]lambdafn.Handler{}
	for _, r := range httpapi.Routes {
		h, err := lambdafn.New(r.Function, deps)
		if err != nil {
			return nil, err
		}
		handlers[r.Function] = h
	}
	jwks, err := issuer.JWKS()
	if err != nil {
		return nil, err
	}
	verifier, err := localauth.NewVerifier(jwks, localauth.IssuerURL, localauth.Audience)
	if err != nil {
		return nil, err
	}
	return &Stack{Settings: settings, Gateway: NewGateway(handlers, verifier, jwks, logger), Handlers: handlers}, nil
}

func createTable(ctx context.Context, db *dynamodb.Client, name string) error {
	tpl, err := samtemplate.Parse(depot.TemplateYAML)
	if err != nil {
		return fmt.Errorf("parse template.yaml: %w", err)
	}
	_, err = db.CreateTable(ctx, tpl.Table.CreateTableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return nil
}

func createBucket(ctx context.Context, client *s3.Client, name string) error {
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}
