package localrun

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// s3Error is S3's XML error document
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html):
// Code and Message, then the elements S3 adds to some errors, then the
// request IDs. Empty elements are left out, as S3 does.
type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`

	BucketName     string `xml:"BucketName,omitempty"`
	ProposedSize   string `xml:"ProposedSize,omitempty"`
	MaxSizeAllowed string `xml:"MaxSizeAllowed,omitempty"`
	MinSizeAllowed string `xml:"MinSizeAllowed,omitempty"`
	Region         string `xml:"Region,omitempty"`
	ArgumentName   string `xml:"ArgumentName,omitempty"`
	ArgumentValue  string `xml:"ArgumentValue,omitempty"`

	// SignatureDoesNotMatch and InvalidAccessKeyId.
	AWSAccessKeyID        string `xml:"AWSAccessKeyId,omitempty"`
	StringToSign          string `xml:"StringToSign,omitempty"`
	SignatureProvided     string `xml:"SignatureProvided,omitempty"`
	StringToSignBytes     string `xml:"StringToSignBytes,omitempty"`
	CanonicalRequest      string `xml:"CanonicalRequest,omitempty"`
	CanonicalRequestBytes string `xml:"CanonicalRequestBytes,omitempty"`

	HeadersNotSigned string `xml:"HeadersNotSigned,omitempty"`

	// RequestTimeTooSkewed and expired presigned URLs.
	XAmzExpires                string `xml:"X-Amz-Expires,omitempty"`
	Expires                    string `xml:"Expires,omitempty"`
	RequestTime                string `xml:"RequestTime,omitempty"`
	ServerTime                 string `xml:"ServerTime,omitempty"`
	MaxAllowedSkewMilliseconds string `xml:"MaxAllowedSkewMilliseconds,omitempty"`

	ClientComputedContentSHA256 string `xml:"ClientComputedContentSHA256,omitempty"`
	S3ComputedContentSHA256     string `xml:"S3ComputedContentSHA256,omitempty"`

	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
	status    int
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

func newS3Error(status int, code, msg string) *s3Error {
	return &s3Error{status: status, Code: code, Message: msg}
}

func accessDenied(msg string) *s3Error {
	return newS3Error(http.StatusForbidden, "AccessDenied", msg)
}

func policyDenied(format string, args ...any) *s3Error {
	return accessDenied("Invalid according to Policy: " + fmt.Sprintf(format, args...))
}

func badRequest(code, msg string) *s3Error {
	return newS3Error(http.StatusBadRequest, code, msg)
}

func invalidPolicy(msg string) *s3Error {
	return badRequest("InvalidPolicyDocument", "Invalid Policy: "+msg)
}

func invalidArgument(msg, name, value string) *s3Error {
	e := badRequest("InvalidArgument", msg)
	e.ArgumentName, e.ArgumentValue = name, value
	return e
}

func incompleteBody() *s3Error {
	return badRequest("IncompleteBody", "The request body terminated unexpectedly")
}

// backendError turns a gofakes3 error into S3's answer.
func backendError(err error) *s3Error {
	var se *s3Error
	if errors.As(err, &se) {
		return se
	}
	var ge gofakes3.Error
	if errors.As(err, &ge) {
		code := ge.ErrorCode()
		msg := err.Error()
		var er *gofakes3.ErrorResponse
		if errors.As(err, &er) && er.Message != "" {
			msg = er.Message
		}
		return newS3Error(code.Status(), string(code), msg)
	}
	return newS3Error(http.StatusInternalServerError, "InternalError", err.Error())
}

// hexBytes renders s as S3 does in StringToSignBytes: each byte as two hex
// digits, separated by spaces.
func hexBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02x", s[i])
	}
	return b.String()
}

// setRequestIDs sets the headers S3 puts on every response and returns the
// request's IDs.
func setRequestIDs(hdr http.Header) (requestID, hostID string) {
	requestID = strings.ToUpper(randomHex(8))
	hostID = base64.StdEncoding.EncodeToString([]byte(randomHex(24)))
	hdr.Set("x-amz-request-id", requestID)
	hdr.Set("x-amz-id-2", hostID)
	hdr.Set("Server", "AmazonS3")
	return requestID, hostID
}

// writeS3Error answers e as S3 does. It first reads what is left of a
// modest body, so that a client still sending reads this answer rather
// than a reset connection.
func writeS3Error(w http.ResponseWriter, r *http.Request, e *s3Error) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 8<<20))
	hdr := w.Header()
	if hdr.Get("x-amz-request-id") == "" {
		setRequestIDs(hdr)
	}
	e.RequestID, e.HostID = hdr.Get("x-amz-request-id"), hdr.Get("x-amz-id-2")
	// Browsers read errors cross-origin too.
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Content-Type", "application/xml")
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(e)
}
