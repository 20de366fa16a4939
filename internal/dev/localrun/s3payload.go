package localrun

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Request bodies, checked as S3 checks them once the request's signature
// holds (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html):
//
//   - a hex x-amz-content-sha256 must be the body's SHA-256
//     (XAmzContentSHA256Mismatch); UNSIGNED-PAYLOAD leaves the body unsigned;
//   - STREAMING-* bodies are aws-chunked
//     (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html):
//     each chunk of STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] carries the
//     signature chained from the request's, and so does the trailer of the
//     -TRAILER form; STREAMING-UNSIGNED-PAYLOAD-TRAILER (what the Go SDK
//     sends over HTTPS with a checksum) has unsigned chunks and trailer;
//   - a checksum, in an x-amz-checksum-<alg> header or trailer, must be the
//     body's (BadDigest).
//
// The body is read whole (gofakes3 keeps objects in memory anyway) and
// handed on decoded, with the headers gofakes3 expects of a plain upload,
// and a trailing checksum moved into its header, so it is stored.

// maxBody caps a request body read: S3's largest single upload.
const maxBody = 5 << 30

// readPayload reads and checks r's body per s, and replaces it by the
// decoded bytes.
func readPayload(r *http.Request, s *signing) *s3Error {
	var data []byte
	var trailers [][2]string
	switch s.payload {
	case streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
		var e *s3Error
		if data, trailers, e = decodeAWSChunked(r.Body, s); e != nil {
			return e
		}
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" && v != strconv.Itoa(len(data)) {
			return incompleteBody()
		}
		if e := checkTrailerDeclared(r.Header.Get("X-Amz-Trailer"), trailers); e != nil {
			return e
		}
	default:
		var err error
		data, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return incompleteBody()
		}
		if len(data) > maxBody {
			return badRequest("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
		}
		if s.payload != unsignedPayload {
			if got := sha256Hex(data); got != s.payload {
				e := badRequest("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
				e.ClientComputedContentSHA256 = s.payload
				e.S3ComputedContentSHA256 = got
				return e
			}
		}
	}
	if e := checkChecksums(r.Header, trailers, data); e != nil {
		return e
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(data))
	if strings.HasPrefix(s.payload, "STREAMING-") {
		// What gofakes3 would see of a plain upload of the same bytes.
		r.ContentLength = int64(len(data))
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", strconv.Itoa(len(data)))
		r.Header.Set("X-Amz-Content-Sha256", sha256Hex(data))
		r.Header.Del("X-Amz-Decoded-Content-Length")
		r.Header.Del("X-Amz-Trailer")
		var enc []string
		for _, v := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
			if v = strings.TrimSpace(v); v != "" && !strings.EqualFold(v, "aws-chunked") {
				enc = append(enc, v)
			}
		}
		if len(enc) > 0 {
			r.Header.Set("Content-Encoding", strings.Join(enc, ","))
		} else {
			r.Header.Del("Content-Encoding")
		}
		for _, t := range trailers {
			r.Header.Set(t[0], t[1])
		}
	}
	return nil
}

func malformedTrailer() *s3Error {
	return badRequest("MalformedTrailerError", "The request contained trailing data that was not well-formed or did not conform to our published schema.")
}

// checkTrailerDeclared checks that the trailers x-amz-trailer declares
// came, and no other.
func checkTrailerDeclared(declared string, trailers [][2]string) *s3Error {
	var want []string
	for _, d := range strings.Split(declared, ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			want = append(want, d)
		}
	}
	if len(want) != len(trailers) {
		return malformedTrailer()
	}
	for i, t := range trailers {
		if t[0] != want[i] {
			return malformedTrailer()
		}
	}
	return nil
}

// checkChecksums verifies the one checksum a write may carry, in a header or
// a trailer, against data.
func checkChecksums(h http.Header, trailers [][2]string, data []byte) *s3Error {
	type sent struct{ name, value, kind string }
	var all []sent
	for name, values := range h {
		if _, ok := checksumValueHeader(name); ok && len(values) > 0 {
			all = append(all, sent{strings.ToLower(name), values[0], "header"})
		}
	}
	for _, t := range trailers {
		if _, ok := checksumValueHeader(t[0]); ok {
			all = append(all, sent{t[0], t[1], "trailing header"})
		}
	}
	if len(all) == 0 {
		return nil
	}
	if len(all) > 1 {
		return badRequest("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	c := all[0]
	alg, _ := checksumValueHeader(c.name)
	if alg == "" {
		return badRequest("InvalidRequest", "The algorithm type you specified in x-amz-checksum- header is invalid.")
	}
	raw, err := base64.StdEncoding.DecodeString(c.value)
	if err != nil || len(raw) != newChecksumHash(alg).Size() {
		return badRequest("InvalidRequest", "Value for "+c.name+" "+c.kind+" is invalid.")
	}
	if checksumOf(alg, data) != c.value {
		return badRequest("BadDigest", "The "+alg+" you specified did not match the calculated checksum.")
	}
	return nil
}

// decodeAWSChunked reads an aws-chunked body: chunks "<hex size>[;chunk-
// signature=<sig>]\r\n<data>\r\n", the final empty chunk, then for the
// -TRAILER modes the trailing headers "name:value\r\n" (signed by a last
// "x-amz-trailer-signature:<sig>\r\n" in STREAMING-AWS4-HMAC-SHA256-
// PAYLOAD-TRAILER), and a closing "\r\n". It returns the data and the
// trailers (names in lower case).
func decodeAWSChunked(body io.Reader, s *signing) ([]byte, [][2]string, *s3Error) {
	signed := s.payload == streamingSigned || s.payload == streamingSignedTrailer
	withTrailer := s.payload == streamingSignedTrailer || s.payload == streamingUnsignedTrailer
	br := bufio.NewReader(io.LimitReader(body, maxBody+64<<10))
	var out bytes.Buffer
	prev := s.signature
	lastSize := -1 // the previous data chunk's size
	for {
		line, err := readCRLFLine(br)
		if err != nil {
			return nil, nil, incompleteBody()
		}
		sizeStr, ext, _ := strings.Cut(line, ";")
		size, err := strconv.ParseInt(sizeStr, 16, 64)
		if err != nil || size < 0 || size > maxBody {
			return nil, nil, incompleteBody()
		}
		if signed && size > 0 && lastSize >= 0 && lastSize < 8<<10 {
			return nil, nil, badRequest("InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes")
		}
		h := sha256.New()
		if _, err := io.CopyN(io.MultiWriter(&out, h), br, size); err != nil {
			return nil, nil, incompleteBody()
		}
		if signed {
			provided, _ := strings.CutPrefix(ext, "chunk-signature=")
			sts := s.stringToSign("AWS4-HMAC-SHA256-PAYLOAD", prev, emptySHA256, hex.EncodeToString(h.Sum(nil)))
			want := hex.EncodeToString(hmacSHA256(s.key, sts))
			if !strings.HasPrefix(ext, "chunk-signature=") || !hmac.Equal([]byte(want), []byte(provided)) {
				return nil, nil, signatureMismatch(s.accessKey, sts, provided)
			}
			prev = want
		}
		if size == 0 {
			break
		}
		if line, err := readCRLFLine(br); err != nil || line != "" {
			return nil, nil, incompleteBody()
		}
		lastSize = int(size)
	}

	// Trailers, up to the closing empty line.
	var trailers [][2]string
	var trailerSig string
	var canonical strings.Builder
	for {
		line, err := readCRLFLine(br)
		if err != nil {
			return nil, nil, incompleteBody()
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if !ok || name == "" || !withTrailer || trailerSig != "" {
			return nil, nil, malformedTrailer()
		}
		if signed && name == "x-amz-trailer-signature" {
			trailerSig = value
			continue
		}
		trailers = append(trailers, [2]string{name, value})
		canonical.WriteString(name + ":" + value + "\n")
	}
	if signed && withTrailer {
		sts := s.stringToSign("AWS4-HMAC-SHA256-TRAILER", prev, sha256Hex([]byte(canonical.String())))
		want := hex.EncodeToString(hmacSHA256(s.key, sts))
		if !hmac.Equal([]byte(want), []byte(trailerSig)) {
			return nil, nil, signatureMismatch(s.accessKey, sts, trailerSig)
		}
	}
	return out.Bytes(), trailers, nil
}

// readCRLFLine reads a line ended by CRLF (at most 4 KiB), without it.
func readCRLFLine(br *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull || len(line) > 4<<10 {
			return "", io.ErrUnexpectedEOF
		}
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", io.ErrUnexpectedEOF
	}
	return string(line[:len(line)-2]), nil
}
