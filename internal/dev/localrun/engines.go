// Package localrun is Depot's Docker-free local runtime: embedded DynamoDB
// and S3 engines speaking the real wire protocols on loopback, and a gateway
// that turns HTTP requests into API Gateway HTTP API (payload 2.0) events
// for the very handlers the Lambda functions run.
package localrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/truora/minidyn/server"
)

// Engine is a storage engine listening on loopback.
type Engine struct {
	Name    string
	URL     string
	srv     *http.Server
	onClose func() error // runs once the server has stopped (nil: nothing)
}

// Close stops the engine (one another process serves: nothing).
func (e *Engine) Close() error {
	if e.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	if e.onClose != nil {
		err = errors.Join(err, e.onClose())
	}
	return err
}

// StartDynamoDB starts the embedded DynamoDB (minidyn) on a loopback port.
func StartDynamoDB() (*Engine, error) {
	return startDynamoDB(nil)
}

// startDynamoDB starts the embedded DynamoDB, keeping its data in store when
// not nil (its log replayed first: datastore.go).
func startDynamoDB(store *DataStore) (*Engine, error) {
	var h http.Handler = server.NewServer()
	if store != nil {
		engine := h
		j, err := store.open(dynamoDBLogFile, func(rec *logRecord) error { return replayDynamoDB(engine, rec) })
		if err != nil {
			return nil, err
		}
		h = j.dynamoDBLogged(engine)
	}
	return serve("minidyn (embedded DynamoDB)", withCRC32(tableLocked(h)))
}

// tableLocked makes minidyn safe for requests on several tables at once
// (the integration suite's tests run in parallel, a table each): its
// CreateTable, UpdateTable and DeleteTable change its map of tables
// without the lock its other operations take, so they run here alone,
// every other request beside the others.
func tableLocked(next http.Handler) http.Handler {
	var mu sync.RWMutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "DynamoDB_20120810.CreateTable", "DynamoDB_20120810.UpdateTable", "DynamoDB_20120810.DeleteTable":
			mu.Lock()
			defer mu.Unlock()
		default:
			mu.RLock()
			defer mu.RUnlock()
		}
		next.ServeHTTP(w, r)
	})
}

// StartS3 starts the embedded S3 (gofakes3, in memory) on a loopback port:
// requests must be signed with the local credentials (LocalAccessKeyID,
// LocalSecretAccessKey) as S3 requires, browser POST uploads are
// policy-checked, objects keep checksums, and no event notifications are
// sent (StartS3WithEvents has them, and other options).
func StartS3() (*Engine, error) {
	e, _, err := StartS3WithEvents(S3Options{})
	return e, err
}

func serve(name string, h http.Handler) (*Engine, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for %s: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("%s stopped: %v", name, err))
		}
	}()
	return &Engine{Name: name, URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

// withCRC32 adds the X-Amz-Crc32 header DynamoDB puts on every response, so
// the SDK's response checksum validation runs locally as it does on AWS.
func withCRC32(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(rec.body.Bytes())), 10))
		w.Header().Set("Content-Length", strconv.Itoa(rec.body.Len()))
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
