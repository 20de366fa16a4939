// Package lambdafn wires a Depot function: it builds the dependencies from
// the environment the template gives the function and wraps the operation's
// net/http handler in the API Gateway (HTTP API, payload 2.0) adapter.
package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	depot "github.com/depot-inventory/depot"
	"github.com/depot-inventory/depot/internal/dynamo"
	"github.com/depot-inventory/depot/internal/httpapi"
	"github.com/depot-inventory/depot/internal/media"
)

// Handler is what a function's main passes to lambda.Start.
type Handler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// New returns the Lambda handler of the named function.
func New(function string, deps httpapi.Deps) (Handler, error) {
	h, err := httpapi.NewHandler(function, deps)
	if err != nil {
		return nil, err
	}
	return httpadapter.NewV2(h).ProxyWithContext, nil
}

// MustHandler builds the named function from the environment, exiting the
// process (so Lambda reports an init error) when it cannot.
func MustHandler(function string) Handler {
	deps, err := Build(context.Background(), SettingsFromEnv())
	if err == nil {
		var h Handler
		if h, err = New(function, deps); err == nil {
			return h
		}
	}
	slog.Error("init failed", "function", function, "error", err.Error())
	os.Exit(1)
	return nil
}

// Settings are what the template's environment gives a function.
type Settings struct {
	TableName  string
	BucketName string
	LogLevel   string
	RolesClaim string       // the JWT claim with the caller's roles
	MaxUpload  int64        // largest image upload, bytes (0: media.DefaultMaxUploadBytes)
	Logger     *slog.Logger // nil: a JSON logger on stdout at LogLevel
}

// SettingsFromEnv reads TABLE_NAME, BUCKET_NAME, LOG_LEVEL, ROLES_CLAIM and
// MAX_UPLOAD_BYTES.
func SettingsFromEnv() Settings {
	maxUpload, _ := strconv.ParseInt(os.Getenv("MAX_UPLOAD_BYTES"), 10, 64)
	return Settings{
		TableName:  os.Getenv("TABLE_NAME"),
		BucketName: os.Getenv("BUCKET_NAME"),
		LogLevel:   os.Getenv("LOG_LEVEL"),
		RolesClaim: os.Getenv("ROLES_CLAIM"),
		MaxUpload:  maxUpload,
	}
}

// Build makes the HTTP handlers' dependencies from the settings and the AWS
// SDK's own configuration (region, credentials, AWS_ENDPOINT_URL*).
func Build(ctx context.Context, s Settings) (httpapi.Deps, error) {
	c, err := Connect(ctx, s)
	if err != nil {
		return httpapi.Deps{}, err
	}
	return httpapi.Deps{
		Store:      c.Store,
		Media:      c.Media,
		Logger:     c.Logger,
		OpenAPI:    depot.OpenAPIYAML,
		RolesClaim: s.RolesClaim,
	}, nil
}

// Clients are the connections every function makes from its settings.
type Clients struct {
	Store  *dynamo.Store
	Media  *media.Media
	Logger *slog.Logger
}

// Connect makes the clients from the settings and the AWS SDK's own
// configuration (region, credentials, AWS_ENDPOINT_URL*).
func Connect(ctx context.Context, s Settings) (Clients, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Clients{}, fmt.Errorf("load AWS config: %w", err)
	}
	logger := s.Logger
	if logger == nil {
		logger = NewLogger(s.LogLevel)
	}
	maxUpload := s.MaxUpload
	if maxUpload <= 0 {
		maxUpload = media.DefaultMaxUploadBytes
	}
	return Clients{
		Store:  dynamo.New(NewDynamoClient(cfg), s.TableName),
		Media:  media.New(NewS3Client(cfg), s.BucketName, maxUpload),
		Logger: logger,
	}, nil
}

// NewDynamoClient returns a DynamoDB client that counts its calls per request.
func NewDynamoClient(cfg aws.Config, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	opts := append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, dynamo.CountCalls)
	}}, optFns...)
	return dynamodb.NewFromConfig(cfg, opts...)
}

// NewS3Client returns an S3 client; with a custom endpoint (moto, the
// embedded engine, LocalStack) it addresses buckets by path, as those need.
func NewS3Client(cfg aws.Config) *s3.Client {
	custom := os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = custom })
}

// NewLogger returns a JSON logger on stdout at the named level (default info).
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil || level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: l}))
}
