// Package thumbfn wires the MakeThumbnails function: S3 event notifications
// in, the ProcessUpload use case with the thumbnail maker. It is apart from
// package lambdafn so that the API functions do not link the image codecs.
package thumbfn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/depot-inventory/depot/internal/access"
	"github.com/depot-inventory/depot/internal/callstats"
	"github.com/depot-inventory/depot/internal/emf"
	"github.com/depot-inventory/depot/internal/inventory"
	"github.com/depot-inventory/depot/internal/lambdafn"
	"github.com/depot-inventory/depot/internal/thumbnail"
	"github.com/depot-inventory/depot/internal/usecase"
)

// Function is MakeThumbnails' logical id in template.yaml.
const Function = "MakeThumbnails"

// Grants are what MakeThumbnails may do: read the item and record its image
// (with activity), read and delete uploads, write and delete thumbnails.
var Grants = access.Grants{
	access.GetItems, access.PutItems,
	access.ReadUploads, access.DeleteUploads, access.WriteThumbnails, access.DeleteThumbnails,
}

// MustHandler builds the MakeThumbnails handler from the environment,
// exiting (a Lambda init error) when it cannot.
func MustHandler() func(context.Context, events.S3Event) error {
	s, err := lambdafn.LoadSettings(Grants, os.Getenv)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	p, err := New(context.Background(), s)
	if err != nil {
		lambdafn.Exit(Function, err)
	}
	return p.Handle
}

// Processor handles S3 ObjectCreated events for uploads.
type Processor struct {
	Service *usecase.Service
}

// New builds the processor MakeThumbnails runs.
func New(ctx context.Context, s lambdafn.Settings) (*Processor, error) {
	svc, err := lambdafn.NewService(ctx, s)
	if err != nil {
		return nil, err
	}
	svc.Thumbnailer = Thumbnailer{}
	if svc.Store != nil {
		svc.Store = outcomes{svc.Store}
	}
	return &Processor{Service: svc}, nil
}

// outcomes counts, for the event's line, the images its changes made
// ready or failed, as they commit (a change that fails, or is retried
// after it committed, counts nothing more).
type outcomes struct{ usecase.Store }

func (o outcomes) SaveItem(ctx context.Context, c inventory.ItemChange) error {
	err := o.Store.SaveItem(ctx, c)
	if err != nil {
		return err
	}
	for _, a := range c.Activity {
		switch a.Type {
		case inventory.ActivityImageReady:
			emf.Add(ctx, emf.ThumbnailsMade, 1)
		case inventory.ActivityImageFailed:
			emf.Add(ctx, emf.ThumbnailsFailed, 1)
		}
	}
	return nil
}

// Handle processes every record of the event, and logs one line for the
// event with the calls it made and its metrics (package emf): the images
// made and failed, and the DynamoDB calls, time and throttled attempts. An
// error makes Lambda retry the whole event, which is safe: every step is
// idempotent.
func (p *Processor) Handle(ctx context.Context, ev events.S3Event) (err error) {
	start := time.Now()
	ctx, stats := callstats.With(ctx)
	ctx, counts := emf.WithCounts(ctx)
	defer func() {
		attrs := []slog.Attr{
			slog.String("function", Function), slog.Int("records", len(ev.Records)),
			slog.Int64(emf.ThumbnailsMade, counts.Get(emf.ThumbnailsMade)),
			slog.Int64(emf.ThumbnailsFailed, counts.Get(emf.ThumbnailsFailed)),
			slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000),
			slog.Int(emf.DDBCalls, stats.Total("DynamoDB")),
			slog.Float64(emf.DDBMs, float64(stats.Elapsed("DynamoDB").Microseconds())/1000),
			slog.Int(emf.DDBThrottles, stats.Throttles("DynamoDB")),
			slog.Any("ddbOps", stats.Calls("DynamoDB")), slog.Any("s3Ops", stats.Calls("S3")),
			slog.Any("grants", stats.Actions()),
			emf.Attr(time.Now(), emf.Thumbnails, emf.DynamoDB),
		}
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelError
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		p.Service.Logger.LogAttrs(ctx, level, "event", attrs...)
	}()
	var errs []error
	for _, rec := range ev.Records {
		key, err := url.QueryUnescape(rec.S3.Object.Key) // S3 sends keys form-encoded
		if err != nil {
			p.Service.Logger.Warn("undecodable key; ignored", "key", rec.S3.Object.Key)
			continue
		}
		if err := p.Service.ProcessUpload(ctx, key); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// Thumbnailer is the thumbnail package as the use cases' Thumbnailer port.
type Thumbnailer struct{}

// Make checks the image and makes its thumbnails.
func (Thumbnailer) Make(data []byte) (inventory.ProcessedImage, error) {
	r, err := thumbnail.Make(data)
	var rejected *thumbnail.RejectedError
	if errors.As(err, &rejected) {
		return inventory.ProcessedImage{}, &inventory.RejectedImageError{Reason: rejected.Reason}
	}
	if err != nil {
		return inventory.ProcessedImage{}, err
	}
	out := inventory.ProcessedImage{ContentType: r.ContentType, Width: r.Width, Height: r.Height}
	for _, t := range r.Thumbnails {
		out.Thumbnails = append(out.Thumbnails, inventory.Rendition{Size: t.Size, Width: t.Width, Height: t.Height,
			ContentType: t.ContentType, Ext: t.Ext, Data: t.Data})
	}
	return out, nil
}
