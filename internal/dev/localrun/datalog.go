package localrun

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The data log: the file an embedded engine appends every request that
// changed its state to, and replays at start (datastore.go says which
// requests and how). It is written here rather than taken from a library
// because what it needs is small and specific: appends ordered by the
// engine's own lock, one fsync shared by the appends waiting for it (group
// commit), and a torn last record, what a crash mid-append leaves, dropped
// at open rather than refusing to start.
//
// Format, version 1: a header line, then records, each
//
//	length   uint32, big-endian: the payload's size in bytes (at least 2)
//	checksum uint32, big-endian: CRC-32C (Castagnoli) of the payload
//	payload  the record's metadata as one line of JSON (logRecord), '\n',
//	         then its body bytes, as the engine received them
//
// A record is acknowledged (its request answered) only once it and every
// record before it are on disk, so the file is always the acknowledged
// records followed by at most a few that were not, the last possibly torn.

// dataLogHeader starts every data log; the number is the format's version.
// A future format gets a new number, and this build refuses logs of any
// other (FRESH=1 starts over).
const dataLogHeader = "depot-local-log 1\n"

// maxRecordPayload bounds one record (the length field's range).
const maxRecordPayload = 1<<32 - 1

const recordFrame = 8 // length and checksum

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record kinds.
const (
	recordDynamoDB = "dynamodb" // a DynamoDB JSON API request: its X-Amz-Target and body
	recordS3       = "s3"       // an S3 REST request as gofakes3 received it: method, URI, header, body
	recordS3Post   = "s3-post"  // a browser POST upload as stored: bucket, key, metadata, the file
)

// logRecord is one change: the request to replay, and when it was applied.
type logRecord struct {
	Time   time.Time           `json:"time"`
	Kind   string              `json:"kind"`
	Method string              `json:"method,omitempty"`
	URI    string              `json:"uri,omitempty"` // path and query
	Header map[string][]string `json:"header,omitempty"`
	Bucket string              `json:"bucket,omitempty"`
	Key    string              `json:"key,omitempty"`
	Meta   map[string]string   `json:"meta,omitempty"`
	// Body is the payload after the metadata line.
	Body []byte `json:"-"`
}

func (r *logRecord) String() string {
	switch r.Kind {
	case recordDynamoDB:
		return "DynamoDB " + strings.Join(r.Header["X-Amz-Target"], ",")
	case recordS3Post:
		return "S3 POST upload " + r.Bucket + "/" + r.Key
	}
	return "S3 " + r.Method + " " + r.URI
}

func encodeRecord(r *logRecord) ([]byte, error) {
	meta, err := json.Marshal(r) // never holds a raw newline
	if err != nil {
		return nil, err
	}
	n := len(meta) + 1 + len(r.Body)
	if n > maxRecordPayload {
		return nil, fmt.Errorf("%s: a record of %d bytes is larger than a data log holds", r, n)
	}
	buf := make([]byte, recordFrame, recordFrame+n)
	buf = append(append(append(buf, meta...), '\n'), r.Body...)
	binary.BigEndian.PutUint32(buf[0:4], uint32(n))
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(buf[recordFrame:], castagnoli))
	return buf, nil
}

func decodeRecord(payload []byte) (*logRecord, error) {
	meta, body, ok := bytes.Cut(payload, []byte{'\n'})
	if !ok {
		return nil, errors.New("no metadata line")
	}
	r := &logRecord{}
	if err := json.Unmarshal(meta, r); err != nil {
		return nil, err
	}
	r.Body = body
	return r, nil
}

// dataLog is an open data log, positioned at its end for appends.
type dataLog struct {
	path string

	mu   sync.Mutex // the file's end, and the appends
	f    *os.File
	end  int64
	fail error // once a write or an fsync failed: every later append fails too

	syncMu sync.Mutex // one fsync at a time; the others wait for it and may find their record covered
	synced int64      // the end as of the last successful fsync
}

// logReplay is what opening a log found in it.
type logReplay struct {
	Records   int
	Bytes     int64 // of the records replayed
	TornBytes int64 // dropped from the end: a record a crash cut short
}

// openDataLog opens (or creates) the log at path, hands each of its records
// to replay in order, drops a torn last record, and returns the log ready
// for appends. A record that is damaged but followed by more data is not a
// crash's doing and fails the open, as does an error of replay.
func openDataLog(path string, replay func(*logRecord) error) (*dataLog, logReplay, error) {
	var stats logReplay
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, stats, err
	}
	l := &dataLog{path: path, f: f}
	fail := func(err error) (*dataLog, logReplay, error) {
		f.Close()
		return nil, stats, fmt.Errorf("data log %s: %w", path, err)
	}
	info, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	head := make([]byte, len(dataLogHeader))
	n, err := io.ReadFull(f, head)
	switch {
	case n == len(head) && string(head) == dataLogHeader:
	case info.Size() <= int64(len(dataLogHeader)) && strings.HasPrefix(dataLogHeader, string(head[:n])):
		// New, or a crash cut its creation short: (re)write the header.
		if err := initDataLog(f); err != nil {
			return fail(err)
		}
		l.end, l.synced = int64(len(dataLogHeader)), int64(len(dataLogHeader))
		return l, stats, nil
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		return fail(err)
	default:
		line, _, _ := strings.Cut(string(head[:n]), "\n")
		return fail(fmt.Errorf("not a data log of this version (it starts %q, want %q); make run FRESH=1 starts over", line, strings.TrimSpace(dataLogHeader)))
	}

	end, torn, err := readRecords(bufio.NewReaderSize(f, 1<<20), int64(len(dataLogHeader)), info.Size(), func(r *logRecord, size int64) error {
		if err := replay(r); err != nil {
			return err
		}
		stats.Records++
		stats.Bytes += size
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if torn {
		stats.TornBytes = info.Size() - end
		if err := f.Truncate(end); err != nil {
			return fail(err)
		}
		if err := f.Sync(); err != nil {
			return fail(err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return fail(err)
	}
	l.end, l.synced = end, end
	return l, stats, nil
}

func initDataLog(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(dataLogHeader), 0); err != nil {
		return err
	}
	if _, err := f.Seek(int64(len(dataLogHeader)), io.SeekStart); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(f.Name()))
}

// readRecords reads the records from offset off of a file of size bytes,
// and returns the end of the last whole one. torn reports that what follows
// it is a record cut short or zeros (a crash mid-append, or a file grown
// before its data was written): the part to drop.
func readRecords(r io.Reader, off, size int64, each func(*logRecord, int64) error) (end int64, torn bool, err error) {
	frame := make([]byte, recordFrame)
	var payload []byte
	for off < size {
		rest := size - off
		if rest < recordFrame {
			return off, true, nil
		}
		if _, err := io.ReadFull(r, frame); err != nil {
			return off, false, err
		}
		n := int64(binary.BigEndian.Uint32(frame[0:4]))
		sum := binary.BigEndian.Uint32(frame[4:8])
		if n < 2 {
			// Zeros where a record should start: the tail of a crash,
			// unless there is data further on.
			if zeros, err := allZeros(r, frame, rest-recordFrame); err != nil || !zeros {
				return off, false, fmt.Errorf("a damaged record at byte %d (its length is %d), followed by more data; make run FRESH=1 starts over", off, n)
			}
			return off, true, nil
		}
		if n > rest-recordFrame {
			return off, true, nil // cut short
		}
		if int64(cap(payload)) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return off, false, err
		}
		if crc32.Checksum(payload, castagnoli) != sum {
			if off+recordFrame+n == size {
				return off, true, nil // the last record, partly written
			}
			return off, false, fmt.Errorf("a damaged record at byte %d (checksum mismatch), followed by more records; make run FRESH=1 starts over", off)
		}
		rec, err := decodeRecord(payload)
		if err != nil {
			return off, false, fmt.Errorf("record at byte %d: %w", off, err)
		}
		// The body is handed on: the next record must not reuse it.
		rec.Body = bytes.Clone(rec.Body)
		if err := each(rec, recordFrame+n); err != nil {
			return off, false, fmt.Errorf("record at byte %d (%s): %w; the data is not what it was: make run FRESH=1 starts over", off, rec, err)
		}
		off += recordFrame + n
	}
	return off, false, nil
}

// allZeros tells whether the frame and the n bytes after it are all zero.
func allZeros(r io.Reader, frame []byte, n int64) (bool, error) {
	if !isZero(frame) {
		return false, nil
	}
	buf := make([]byte, 64<<10)
	for n > 0 {
		k, err := io.ReadFull(r, buf[:min(int64(len(buf)), n)])
		if err != nil {
			return false, err
		}
		if !isZero(buf[:k]) {
			return false, nil
		}
		n -= int64(k)
	}
	return true, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// append writes a record after the others (to the OS, not yet to disk) and
// returns the log's end after it, for sync. Appends are in the order of the
// calls; the caller orders them as the engine applied the requests.
func (l *dataLog) append(r *logRecord) (int64, error) {
	buf, err := encodeRecord(r)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return 0, l.fail
	}
	if _, err := l.f.Write(buf); err != nil {
		// What was written of it is a torn record: nothing may follow.
		l.fail = fmt.Errorf("data log %s: %w", l.path, err)
		return 0, l.fail
	}
	l.end += int64(len(buf))
	return l.end, nil
}

// sync returns once the log is on disk up to end: one fsync covers every
// record appended before it started, so writers waiting together share it.
func (l *dataLog) sync(end int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= end {
		return nil
	}
	l.mu.Lock()
	target, failed := l.end, l.fail
	l.mu.Unlock()
	if failed != nil {
		return failed
	}
	if err := l.f.Sync(); err != nil {
		l.mu.Lock()
		l.fail = fmt.Errorf("data log %s: fsync: %w", l.path, err)
		l.mu.Unlock()
		return l.fail
	}
	l.synced = target
	return nil
}

// failed is the error that stopped the log, if any.
func (l *dataLog) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fail
}

func (l *dataLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail == nil {
		l.fail = fmt.Errorf("data log %s: closed", l.path)
	}
	return l.f.Close()
}

// syncDir makes a directory's entries (a file created in it) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
