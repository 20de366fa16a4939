package localrun

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// openTestLog opens path and returns the log and the records replayed.
func openTestLog(t *testing.T, path string) (*dataLog, []*logRecord, logReplay) {
	t.Helper()
	var got []*logRecord
	l, stats, err := openDataLog(path, func(r *logRecord) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return l, got, stats
}

func appendSynced(t *testing.T, l *dataLog, recs ...*logRecord) {
	t.Helper()
	for _, r := range recs {
		end, err := l.append(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.sync(end); err != nil {
			t.Fatal(err)
		}
	}
}

func testRecord(i int) *logRecord {
	return &logRecord{
		Time: time.Date(2025, 3, 1, 12, 0, i, 0, time.UTC), Kind: recordS3, Method: "PUT",
		URI: fmt.Sprintf("/bucket/key-%d?x=1", i), Header: map[string][]string{"Content-Type": {"image/png"}},
		// Binary bodies, newlines included, come back byte for byte.
		Body: append([]byte(fmt.Sprintf("body %d\n", i)), 0, 0xff, '\n'),
	}
}

func sameRecords(t *testing.T, got []*logRecord, want ...*logRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) || g.Kind != w.Kind || g.Method != w.Method || g.URI != w.URI ||
			fmt.Sprint(g.Header) != fmt.Sprint(w.Header) || !bytes.Equal(g.Body, w.Body) {
			t.Errorf("record %d: got %+v %q, want %+v %q", i, g, g.Body, w, w.Body)
		}
	}
}

func TestDataLogReplaysInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s3.log")
	l, got, _ := openTestLog(t, path)
	if len(got) != 0 {
		t.Fatalf("a new log replayed %d records", len(got))
	}
	recs := []*logRecord{testRecord(1), testRecord(2), testRecord(3)}
	appendSynced(t, l, recs...)
	l.Close()

	head, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(head), "depot-local-log 1\n") {
		t.Fatalf("the log does not start with its versioned header: %q (%v)", head[:min(len(head), 40)], err)
	}
	l, got, stats := openTestLog(t, path)
	sameRecords(t, got, recs...)
	if stats.Records != 3 || stats.TornBytes != 0 {
		t.Errorf("stats %+v", stats)
	}
	// Appends go after the replayed records.
	appendSynced(t, l, testRecord(4))
	l.Close()
	_, got, _ = openTestLog(t, path)
	sameRecords(t, got, append(recs, testRecord(4))...)
}

// A crash mid-append leaves the last record cut short, partly garbage, or
// the file grown with zeros: the log opens with the records before it, and
// later appends survive the next open.
func TestDataLogTornLastRecordIgnored(t *testing.T) {
	damages := map[string]func(data []byte, last int) []byte{
		"cut in its body":    func(d []byte, _ int) []byte { return d[:len(d)-3] },
		"cut in its frame":   func(d []byte, last int) []byte { return d[:last+5] },
		"garbled body":       func(d []byte, _ int) []byte { d[len(d)-2] ^= 0x55; return d },
		"zeros past its end": func(d []byte, _ int) []byte { return append(d, make([]byte, 4096)...) },
		"zeros for its body": func(d []byte, last int) []byte {
			copy(d[last+recordFrame:], make([]byte, len(d)-last-recordFrame))
			return d
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dynamodb.log")
			l, _, _ := openTestLog(t, path)
			appendSynced(t, l, testRecord(1), testRecord(2))
			last := int(l.end)
			appendSynced(t, l, testRecord(3))
			l.Close()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damaged := damage(data, last)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}

			l, got, stats := openTestLog(t, path)
			want := []*logRecord{testRecord(1), testRecord(2)}
			if name == "zeros past its end" {
				want = append(want, testRecord(3))
			}
			sameRecords(t, got, want...)
			if stats.TornBytes == 0 {
				t.Error("no torn bytes reported")
			}
			appendSynced(t, l, testRecord(5))
			l.Close()
			_, got, stats = openTestLog(t, path)
			sameRecords(t, got, append(want, testRecord(5))...)
			if stats.TornBytes != 0 {
				t.Errorf("torn bytes left behind: %d", stats.TornBytes)
			}
		})
	}
}

// Damage followed by more records is no crash's doing: the open fails
// rather than drop acknowledged writes silently.
func TestDataLogDamageInTheMiddleIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s3.log")
	l, _, _ := openTestLog(t, path)
	appendSynced(t, l, testRecord(1))
	second := int(l.end)
	appendSynced(t, l, testRecord(2), testRecord(3))
	l.Close()
	data, _ := os.ReadFile(path)
	data[second+recordFrame+4] ^= 0x01
	os.WriteFile(path, data, 0o600)
	_, _, err := openDataLog(path, func(*logRecord) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "damaged record") || !strings.Contains(err.Error(), "FRESH=1") {
		t.Fatalf("err = %v, want a damaged record error naming FRESH=1", err)
	}

	// So is a zero length followed by data.
	data, _ = os.ReadFile(path)
	data[second+recordFrame+4] ^= 0x01
	binary.BigEndian.PutUint32(data[second:], 0)
	os.WriteFile(path, data, 0o600)
	if _, _, err := openDataLog(path, func(*logRecord) error { return nil }); err == nil {
		t.Fatal("a zero length followed by records opened")
	}
}

func TestDataLogOtherVersionRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s3.log")
	os.WriteFile(path, []byte("depot-local-log 2\nwhatever"), 0o600)
	_, _, err := openDataLog(path, func(*logRecord) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `"depot-local-log 2"`) {
		t.Fatalf("err = %v", err)
	}
}

// A crash while the header was being written leaves a prefix of it: the log
// starts over (it held nothing).
func TestDataLogTornHeaderStartsOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s3.log")
	os.WriteFile(path, []byte("depot-lo"), 0o600)
	l, got, _ := openTestLog(t, path)
	if len(got) != 0 {
		t.Fatal("records from a torn header")
	}
	appendSynced(t, l, testRecord(1))
	l.Close()
	_, got, _ = openTestLog(t, path)
	sameRecords(t, got, testRecord(1))
}

func TestDataLogReplayErrorStopsTheOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s3.log")
	l, _, _ := openTestLog(t, path)
	appendSynced(t, l, testRecord(1), testRecord(2))
	l.Close()
	_, _, err := openDataLog(path, func(r *logRecord) error {
		if r.URI == testRecord(2).URI {
			return fmt.Errorf("boom")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "key-2") {
		t.Fatalf("err = %v", err)
	}
}

// Writers applying changes at once: the log holds them in the order they
// were applied (the journal's lock), and each is on disk when do returns.
func TestJournalOrdersConcurrentChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dynamodb.log")
	l, _, _ := openTestLog(t, path)
	j := &journal{log: l}
	var applied []string // the engine's state: what it applied, in order
	refused := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				err := j.do(func(time.Time) *logRecord {
					name := fmt.Sprintf("w%d-%d", w, i)
					applied = append(applied, name)
					if i%5 == 4 {
						refused[name] = true // the engine refused it: not logged
						return nil
					}
					return &logRecord{Kind: recordDynamoDB, Body: []byte(name)}
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	l.Close()
	_, got, _ := openTestLog(t, path)
	var want []string
	for _, name := range applied {
		if !refused[name] {
			want = append(want, name)
		}
	}
	var names []string
	for _, r := range got {
		names = append(names, string(r.Body))
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("logged order differs from the applied order:\n got %v\nwant %v", names, want)
	}
}

// Once the log fails, nothing more is applied: the engine and its log stay
// in step.
func TestJournalStopsAfterAFailure(t *testing.T) {
	l, _, _ := openTestLog(t, filepath.Join(t.TempDir(), "s3.log"))
	j := &journal{log: l}
	l.f.Close() // the next write fails
	applied := 0
	apply := func(time.Time) *logRecord { applied++; return testRecord(applied) }
	if err := j.do(apply); err == nil {
		t.Fatal("a failed write was acknowledged")
	}
	if err := j.do(apply); err == nil || applied != 1 {
		t.Fatalf("after a failure: err %v, applied %d times (want refused before applying)", err, applied)
	}
}
