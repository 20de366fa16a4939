package localrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Local data that survives (make run): the embedded engines keep their data
// in memory, and each also appends every request that changed it to a data
// log (datalog.go) in the data directory; at start the logs are replayed,
// in order, into the new engines, which so come back as they were.
//
//   - What is logged: a request the engine answered with success that is
//     not a read. DynamoDB: every operation but GetItem, Query, Scan,
//     BatchGetItem, TransactGetItems, DescribeTable and ListTables (so
//     PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems,
//     CreateTable, ...). S3: every request but GET, HEAD and OPTIONS (PUT
//     object or part, multipart create/complete/abort, DELETE,
//     DeleteObjects, CreateBucket, ...), and browser POST uploads as the
//     object they stored. A refused request changed nothing and is not
//     logged.
//   - Order and durability: a request is applied and its record appended
//     under one lock per engine, so the log's order is the order the engine
//     applied them in; its response is sent only once its record is on disk
//     (fsync, shared by the writers waiting together). An acknowledged write
//     survives kill -9; an unacknowledged one may or may not.
//   - Replay: each record goes to the engine below the front, as the
//     engine first received it: DynamoDB requests to minidyn; S3 requests
//     to gofakes3 after the front's signature and body checks (a signature's
//     date or a POST policy's expiry would refuse them now), POST uploads
//     straight to the backend. A request that succeeded against a state
//     succeeds again against the same state and leaves the same state
//     (conditions see the same items; multipart upload IDs are gofakes3's
//     counter). The S3 engine's clock reads each record's time while it is
//     applied, live and on replay, so objects keep their Last-Modified. No
//     event notification is sent on replay (the thumbnails exist already).
//     A record that fails on replay stops the start: the data is not what
//     it was, and make run FRESH=1 starts over.
//   - Not done: compaction. The logs only grow; replay reads them whole at
//     start (README, "Local data", has the time for a seeded store).
//     Deliveries under way at a kill (S3 notifications, export and import
//     jobs on their in-process queues) are not logged, as on AWS they would
//     be in Lambda's and SQS's hands: a photo uploaded just before a kill
//     may stay pending, a job queued may stay queued.

// Files of a data directory.
const (
	dynamoDBLogFile = "dynamodb.log"
	s3LogFile       = "s3.log"
	dataLockFile    = "lock"
)

// DataStore is a data directory in use: locked for this process, with the
// engines' logs open.
type DataStore struct {
	Dir string
	// Replayed says what was found and replayed at start.
	Replayed DataReplay

	lock   io.Closer
	dynamo *journal
	s3     *journal
}

// DataReplay is what a start replayed.
type DataReplay struct {
	Records   int           // requests replayed, both engines
	Bytes     int64         // the logs' size
	TornBytes int64         // dropped from the logs' ends (a crash cut a record short)
	Took      time.Duration // replaying them
}

// OpenDataStore takes the data directory dir for this process (another
// depot-local using it is an error), creating it if need be; fresh empties
// it first. The engines' logs are opened, and replayed, as the engines
// start (UseEnginesWith).
func OpenDataStore(dir string, fresh bool) (*DataStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := lockFile(filepath.Join(dir, dataLockFile))
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if fresh {
		for _, name := range []string{dynamoDBLogFile, s3LogFile} {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				lock.Close()
				return nil, err
			}
		}
	}
	return &DataStore{Dir: dir, lock: lock}, nil
}

// Close closes the logs and frees the directory; the engines must have
// stopped.
func (s *DataStore) Close() error {
	var errs []error
	for _, j := range []*journal{s.dynamo, s.s3} {
		if j != nil {
			errs = append(errs, j.log.Close())
		}
	}
	return errors.Join(append(errs, s.lock.Close())...)
}

// open opens one engine's log, replaying it with replay.
func (s *DataStore) open(name string, replay func(*logRecord) error) (*journal, error) {
	start := time.Now()
	log, stats, err := openDataLog(filepath.Join(s.Dir, name), replay)
	if err != nil {
		return nil, err
	}
	s.Replayed.Records += stats.Records
	s.Replayed.Bytes += stats.Bytes + int64(len(dataLogHeader))
	s.Replayed.TornBytes += stats.TornBytes
	s.Replayed.Took += time.Since(start)
	return &journal{log: log}, nil
}

// journal is an engine's log and the lock that orders its changes.
type journal struct {
	mu  sync.Mutex
	log *dataLog
}

// do runs apply, which changes the engine and returns the record of the
// change (nil when the engine refused it: nothing changed), under the
// journal's lock, appends the record, and returns once it is on disk. An
// error means the change may not survive: the request must fail. Once the
// log has failed, nothing more is applied.
func (j *journal) do(apply func(now time.Time) *logRecord) error {
	j.mu.Lock()
	if err := j.log.failed(); err != nil {
		j.mu.Unlock()
		return err
	}
	now := time.Now().UTC()
	rec := apply(now)
	var end int64
	var err error
	if rec != nil {
		rec.Time = now
		end, err = j.log.append(rec)
	}
	j.mu.Unlock()
	if rec == nil || err != nil {
		return err
	}
	return j.log.sync(end)
}

// dynamoDBReads are the DynamoDB operations that change nothing.
var dynamoDBReads = map[string]bool{
	"GetItem": true, "Query": true, "Scan": true, "BatchGetItem": true, "TransactGetItems": true,
	"DescribeTable": true, "ListTables": true, "DescribeTimeToLive": true, "DescribeContinuousBackups": true,
	"ListTagsOfResource": true, "DescribeEndpoints": true, "DescribeLimits": true,
}

func dynamoDBOperation(r *http.Request) string {
	target := r.Header.Get("X-Amz-Target")
	return target[strings.LastIndexByte(target, '.')+1:]
}

// dynamoDBLogged logs what next (minidyn) applies: every request that is not
// a read and that it answers 200.
func (j *journal) dynamoDBLogged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || dynamoDBReads[dynamoDBOperation(r)] {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client is gone
		}
		resp := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		err = j.do(func(time.Time) *logRecord {
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(resp, r)
			if resp.status != http.StatusOK {
				return nil
			}
			return &logRecord{Kind: recordDynamoDB, Header: pickHeader(r.Header, "X-Amz-Target", "Content-Type", "Content-Encoding"), Body: body}
		})
		if err != nil {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":%q}`, "the local data log failed: "+err.Error())
			return
		}
		resp.writeTo(w)
	})
}

// replayDynamoDB applies a logged request to minidyn.
//
// A transaction is replayed as its writes, one by one, in order: minidyn
// copies the whole table before each transaction (to roll back a failed
// one), which makes replaying thousands of them slow, and a transaction
// that succeeded has nothing to roll back. It comes to the same: its writes
// are to distinct items (DynamoDB refuses two on one item), so none sees
// another's effect, and each condition holds again as it held then (each
// write keeps its condition: a divergence still shows). A ConditionCheck
// writes nothing.
func replayDynamoDB(h http.Handler, rec *logRecord) error {
	if rec.Kind != recordDynamoDB {
		return fmt.Errorf("a %s record in the DynamoDB log", rec.Kind)
	}
	target := rec.Header["X-Amz-Target"]
	if len(target) == 1 && strings.HasSuffix(target[0], ".TransactWriteItems") {
		var tx struct {
			TransactItems []map[string]map[string]json.RawMessage
		}
		if err := json.Unmarshal(rec.Body, &tx); err != nil {
			return fmt.Errorf("decode the transaction: %w", err)
		}
		prefix := strings.TrimSuffix(target[0], "TransactWriteItems")
		for i, item := range tx.TransactItems {
			for kind, op := range item {
				name, ok := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}[kind]
				if !ok {
					continue // ConditionCheck
				}
				delete(op, "ReturnValuesOnConditionCheckFailure")
				body, err := json.Marshal(op)
				if err != nil {
					return err
				}
				header := http.Header{"X-Amz-Target": {prefix + name}, "Content-Type": rec.Header["Content-Type"]}
				if err := replayDynamoDBRequest(h, header, body); err != nil {
					return fmt.Errorf("its write %d (%s): %w", i, kind, err)
				}
			}
		}
		return nil
	}
	return replayDynamoDBRequest(h, rec.Header, rec.Body)
}

func replayDynamoDBRequest(h http.Handler, header http.Header, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, "http://replay/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header
	resp := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(resp, req)
	if resp.status != http.StatusOK {
		return fmt.Errorf("answered %d on replay, where it succeeded: %.300s", resp.status, resp.body.String())
	}
	return nil
}

// s3Changes tells a request that may change the S3 engine's state.
func s3Changes(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
}

// serveLogged hands a request that changes state to gofakes3, logging it
// if it succeeds. r has passed the front's checks (its body is decoded).
func (h *s3Handler) serveLogged(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeS3Error(w, r, incompleteBody())
		return
	}
	resp := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	err = h.journal.do(func(now time.Time) *logRecord {
		h.clock.set(now)
		defer h.clock.set(time.Time{})
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.fake.ServeHTTP(resp, r)
		if resp.status/100 != 2 {
			return nil
		}
		header := r.Header.Clone()
		// gofakes3 reads Content-Length from the header: it stays.
		header.Del("Authorization")
		header.Del("Connection")
		return &logRecord{Kind: recordS3, Method: r.Method, URI: r.URL.RequestURI(), Header: header, Body: body}
	})
	if err != nil {
		writeS3Error(w, r, newS3Error(http.StatusInternalServerError, "InternalError", "the local data log failed: "+err.Error()))
		return
	}
	resp.writeTo(w)
}

// putPost stores a browser POST upload, logged when the engine keeps its
// data.
func (h *s3Handler) putPost(bucket, key string, meta map[string]string, data []byte) (gofakes3.PutObjectResult, string, error) {
	if h.journal == nil {
		return h.backend.put(EventObjectCreatedPost, bucket, key, meta, bytes.NewReader(data), int64(len(data)), nil)
	}
	var result gofakes3.PutObjectResult
	var etag string
	var putErr error
	err := h.journal.do(func(now time.Time) *logRecord {
		h.clock.set(now)
		defer h.clock.set(time.Time{})
		result, etag, putErr = h.backend.put(EventObjectCreatedPost, bucket, key, meta, bytes.NewReader(data), int64(len(data)), nil)
		if putErr != nil {
			return nil
		}
		return &logRecord{Kind: recordS3Post, Bucket: bucket, Key: key, Meta: meta, Body: data}
	})
	if err != nil {
		return result, "", newS3Error(http.StatusInternalServerError, "InternalError", "the local data log failed: "+err.Error())
	}
	return result, etag, putErr
}

// replayS3 applies a logged request to gofakes3 or its backend, with the
// clock at the record's time and no event notification.
func (h *s3Handler) replayS3(rec *logRecord) error {
	h.clock.set(rec.Time)
	defer h.clock.set(time.Time{})
	saved := h.backend.notifier
	h.backend.notifier = &notifiers{}
	defer func() { h.backend.notifier = saved }()
	switch rec.Kind {
	case recordS3Post:
		_, _, err := h.backend.put(EventObjectCreatedPost, rec.Bucket, rec.Key, rec.Meta, bytes.NewReader(rec.Body), int64(len(rec.Body)), nil)
		return err
	case recordS3:
		req, err := http.NewRequest(rec.Method, "http://replay"+rec.URI, bytes.NewReader(rec.Body))
		if err != nil {
			return err
		}
		req.Header = rec.Header
		resp := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		h.fake.ServeHTTP(resp, req)
		if resp.status/100 != 2 {
			return fmt.Errorf("answered %d on replay, where it succeeded: %.300s", resp.status, resp.body.String())
		}
		return nil
	}
	return fmt.Errorf("a %s record in the S3 log", rec.Kind)
}

func pickHeader(h http.Header, names ...string) map[string][]string {
	out := map[string][]string{}
	for _, n := range names {
		if v := h.Values(n); len(v) > 0 {
			out[http.CanonicalHeaderKey(n)] = v
		}
	}
	return out
}

// writeTo sends the buffered response.
func (b *bufferedResponse) writeTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// engineClock is the S3 engine's clock (gofakes3's and its backend's time
// source): the time now, or the time set while a logged change is applied
// (the record's time, so that replay gives objects the same dates).
type engineClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *engineClock) set(at time.Time) {
	c.mu.Lock()
	c.at = at
	c.mu.Unlock()
}

func (c *engineClock) Now() time.Time {
	c.mu.Lock()
	at := c.at
	c.mu.Unlock()
	if at.IsZero() {
		return time.Now()
	}
	return at
}

func (c *engineClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
