package localrun

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"net/textproto"
	"strings"
)

// Object checksums (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
//
// S3 verifies the checksum a client sends with a write (an
// x-amz-checksum-<algorithm> header, or an aws-chunked trailer) and stores
// it with the object; an object written without one gets a CRC64NVME
// full-object checksum (so since late 2024 every new object has one).
// GetObject and HeadObject return it, as x-amz-checksum-<algorithm> and
// x-amz-checksum-type: FULL_OBJECT, when the request asks with
// x-amz-checksum-mode: ENABLED, which the Go SDK does by default, and then
// validates the body against it.
//
// Here the engine's front verifies a write's checksum against its body
// (s3payload.go), the backend stores the object's checksum under
// checksumMeta with the object's metadata, and the front turns it into
// S3's response headers on a GET or HEAD that asks for it, and hides it
// otherwise.
//
// Simplified: a completed multipart upload gets a CRC64NVME full-object
// checksum of the whole object, where S3 keeps a composite checksum of the
// parts (e.g. CRC32 "...-3", x-amz-checksum-type COMPOSITE) when the upload
// was created with such an algorithm; a copy gets the source's algorithm
// (or the one the copy asks for) computed over its bytes.

// checksumMeta is the metadata key the backend stores an object's checksum
// under, as "ALGORITHM base64-value". gofakes3 hands every X-Amz-* request
// header to the backend as metadata and writes every metadata key back as a
// response header, so the front removes this key from requests and
// responses.
const checksumMeta = "X-Amz-Localrun-Checksum"

// Checksum algorithms S3 and the Go SDK share.
const (
	algCRC32     = "CRC32"
	algCRC32C    = "CRC32C"
	algCRC64NVME = "CRC64NVME"
	algSHA1      = "SHA1"
	algSHA256    = "SHA256"
)

// crc64NVMETable is CRC-64/NVME's (reflected) polynomial, as the SDK uses.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

func newChecksumHash(alg string) hash.Hash {
	switch alg {
	case algCRC32:
		return crc32.NewIEEE()
	case algCRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case algCRC64NVME:
		return crc64.New(crc64NVMETable)
	case algSHA1:
		return sha1.New()
	case algSHA256:
		return sha256.New()
	}
	return nil
}

// checksumOf is data's checksum as S3 writes it: base64 of the digest.
func checksumOf(alg string, data []byte) string {
	h := newChecksumHash(alg)
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// checksumHeader is an algorithm's header, e.g. x-amz-checksum-crc32.
func checksumHeader(alg string) string {
	return "x-amz-checksum-" + strings.ToLower(alg)
}

// checksumValueHeader tells a header carrying a checksum value: every
// x-amz-checksum-* but -mode, -type and -algorithm. It returns the
// algorithm named ("" if S3 supports no such algorithm).
func checksumValueHeader(name string) (alg string, ok bool) {
	rest, found := strings.CutPrefix(strings.ToLower(name), "x-amz-checksum-")
	if !found || rest == "mode" || rest == "type" || rest == "algorithm" {
		return "", false
	}
	alg = strings.ToUpper(rest)
	if newChecksumHash(alg) == nil {
		return "", true
	}
	return alg, true
}

// storedMeta is the metadata S3 keeps of a write: the object's
// representation headers and user metadata, and its checksum (checksumMeta)
// computed over data with alg, or the client's own value when it sent one
// (already verified by the front) and clientChecksum is set. Request-only
// headers that gofakes3 passes along (x-amz-date, x-amz-content-sha256,
// x-amz-checksum-*, ...) are dropped.
func storedMeta(meta map[string]string, data []byte, alg string, clientChecksum bool) map[string]string {
	out := map[string]string{}
	value := ""
	for k, v := range meta {
		k = textproto.CanonicalMIMEHeaderKey(k)
		if a, ok := checksumValueHeader(k); ok {
			if clientChecksum && a != "" {
				alg, value = a, v
			}
			continue
		}
		if keptMeta(k) {
			out[k] = v
		}
	}
	if value == "" {
		if newChecksumHash(alg) == nil {
			alg = algCRC64NVME
		}
		value = checksumOf(alg, data)
	}
	out[checksumMeta] = alg + " " + value
	return out
}

// keptMeta tells the headers S3 stores with an object and returns on reads.
func keptMeta(k string) bool {
	switch k {
	case "Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control", "Expires",
		"Last-Modified", "X-Amz-Website-Redirect-Location", "X-Amz-Storage-Class":
		return true
	}
	return strings.HasPrefix(k, "X-Amz-Meta-") || strings.HasPrefix(k, "X-Amz-Server-Side-Encryption") ||
		strings.HasPrefix(k, "X-Amz-Object-Lock-")
}

// storedAlgorithm is the algorithm of a stored checksumMeta value.
func storedAlgorithm(meta map[string]string) string {
	alg, _, _ := strings.Cut(meta[checksumMeta], " ")
	return alg
}

// checksumWriter turns the stored checksum gofakes3 writes back as a header
// into S3's response headers: x-amz-checksum-<alg> and x-amz-checksum-type
// on a complete (200) GET or HEAD that asked with x-amz-checksum-mode:
// ENABLED, nothing otherwise (a range cannot be checked against the
// object's checksum).
type checksumWriter struct {
	http.ResponseWriter
	enabled bool
	written bool
}

func (c *checksumWriter) WriteHeader(status int) {
	if !c.written {
		c.written = true
		h := c.Header()
		stored := h.Get(checksumMeta)
		h.Del(checksumMeta)
		if alg, value, ok := strings.Cut(stored, " "); ok && c.enabled && status == http.StatusOK {
			h.Set(checksumHeader(alg), value)
			h.Set("x-amz-checksum-type", "FULL_OBJECT")
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *checksumWriter) Write(p []byte) (int, error) {
	if !c.written {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(p)
}

// finish writes the header of a response that wrote nothing (a HEAD, an
// empty object).
func (c *checksumWriter) finish() {
	if !c.written {
		c.WriteHeader(http.StatusOK)
	}
}
