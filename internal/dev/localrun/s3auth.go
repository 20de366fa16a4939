package localrun

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Request authentication as S3 does it (AWS Signature Version 4:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html).
//
// gofakes3 checks no signature at all, so this front verifies every request
// before gofakes3 sees it, with the engine's access keys (S3Options.
// Credentials): the Authorization header (AWS4-HMAC-SHA256), the presigned
// query (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
// X-Amz-SignedHeaders, X-Amz-Signature) and, in s3post.go, the signed
// policy of a browser POST. A request with none of them is anonymous and
// refused: the engine's buckets are private, as Depot's bucket is.
//
// The canonicalization is written here rather than delegated to
// aws-sdk-go-v2's aws/signer/v4, which only signs: re-signing a
// reconstructed request with it verifies only requests signed exactly as
// that signer would (it picks the signed headers itself, drops some, adds
// content-length), while S3 must rebuild the canonical request from the
// SignedHeaders the client lists; S3's SignatureDoesNotMatch error carries
// the canonical request and string to sign, which that signer does not
// expose; and aws-chunked chunk signatures and POST policy signatures use
// the same signing key, which it does not export either. The tests use that
// signer (and AWS's published examples) as the independent reference.
//
// Not done: SigV4a (AWS4-ECDSA-P256-SHA256) and Signature Version 2 are
// refused as S3 refuses SigV2 in regions opened since 2014; session tokens
// are refused as the engine's keys are long-term ones.

const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
	scopeService    = "s3"
	scopeTerminal   = "aws4_request"

	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// S3 refuses a request whose time is further than this from its own.
	maxSkew = 15 * time.Minute
	// The longest a presigned URL may be valid, in seconds (a week).
	maxPresignExpires = 7 * 24 * 60 * 60
)

// Default credentials, the ones UseEngines puts in the environment.
const (
	LocalAccessKeyID     = "local"
	LocalSecretAccessKey = "local"
)

// s3Auth verifies requests against the engine's access keys.
type s3Auth struct {
	secrets map[string]string // access key ID -> secret access key
	region  string            // the only region accepted; "" accepts the one a request names
	now     func() time.Time
}

// signing is what a verified request was signed with: it checks the
// signatures of the chunks and trailer of a streaming upload.
type signing struct {
	accessKey string
	key       []byte // the SigV4 signing key of the request's scope
	amzDate   string // the request's time, as it signed it
	scope     string // date/region/s3/aws4_request
	signature string // the request's (seed) signature
	// payload is what the request says of its body: a hex SHA-256,
	// UNSIGNED-PAYLOAD or one of the STREAMING-* values.
	payload string
}

// credential is a parsed X-Amz-Credential: AKID/date/region/service/terminal.
type credential struct {
	accessKey, date, region, service, terminal string
}

func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + c.terminal
}

// credentialErrors words the failures of a credential as S3 does for one
// form of authentication (header, query or POST form).
type credentialErrors struct {
	code, prefix string
	status       int
}

var (
	headerCredErrors = credentialErrors{"AuthorizationHeaderMalformed", "The authorization header is malformed; ", http.StatusBadRequest}
	queryCredErrors  = credentialErrors{"AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; ", http.StatusBadRequest}
	postCredErrors   = credentialErrors{"InvalidArgument", "", http.StatusBadRequest}
)

func (ce credentialErrors) err(format string, args ...any) *s3Error {
	return newS3Error(ce.status, ce.code, ce.prefix+fmt.Sprintf(format, args...))
}

// parseCredential parses and checks a credential's scope: its date must be
// the request's (amzDate's first 8 characters), its region the engine's,
// its service s3.
func (a *s3Auth) parseCredential(s, amzDate string, ce credentialErrors) (credential, *s3Error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[0] == "" {
		return credential{}, ce.err(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
	}
	c := credential{accessKey: parts[0], date: parts[1], region: parts[2], service: parts[3], terminal: parts[4]}
	if _, err := time.Parse(scopeDateLayout, c.date); err != nil {
		return c, ce.err(`incorrect date format %q. This date in the credential must be in the format "yyyyMMdd".`, c.date)
	}
	if a.region != "" && c.region != a.region {
		e := ce.err("the region '%s' is wrong; expecting '%s'", c.region, a.region)
		e.Region = a.region
		return c, e
	}
	if c.service != scopeService {
		return c, ce.err(`incorrect service %q. This endpoint belongs to "s3".`, c.service)
	}
	if c.terminal != scopeTerminal {
		return c, ce.err(`incorrect terminal %q. This endpoint uses "aws4_request".`, c.terminal)
	}
	if len(amzDate) >= 8 && c.date != amzDate[:8] {
		msg := fmt.Sprintf("Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", c.date, amzDate[:8])
		if ce.code == headerCredErrors.code {
			return c, headerCredErrors.err("%s", msg)
		}
		return c, newS3Error(ce.status, ce.code, msg)
	}
	return c, nil
}

// secret returns the secret of an access key, or S3's InvalidAccessKeyId.
func (a *s3Auth) secret(accessKey string) (string, *s3Error) {
	s, ok := a.secrets[accessKey]
	if !ok {
		e := newS3Error(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		e.AWSAccessKeyID = accessKey
		return "", e
	}
	return s, nil
}

func invalidToken() *s3Error {
	return badRequest("InvalidToken", "The provided token is malformed or otherwise invalid.")
}

func unsupportedAuthMechanism() *s3Error {
	return badRequest("InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
}

// verify authenticates a request (all but browser POSTs, which carry their
// signature in the form) and returns what it was signed with.
func (a *s3Auth) verify(r *http.Request) (*signing, *s3Error) {
	query := parseRawQuery(r.URL.RawQuery)
	authz := r.Header.Get("Authorization")
	_, presigned := query["X-Amz-Algorithm"]
	_, v2Query := query["Signature"]
	if _, ok := query["AWSAccessKeyId"]; ok {
		v2Query = true
	}
	switch {
	case authz != "" && (presigned || v2Query):
		return nil, invalidArgument("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
			"Authorization", authz)
	case presigned:
		return a.verifyPresigned(r, query)
	case v2Query:
		return nil, unsupportedAuthMechanism()
	case authz == "":
		return nil, accessDenied("Access Denied")
	case strings.HasPrefix(authz, sigV4Algorithm+" "):
		return a.verifyHeader(r, strings.TrimPrefix(authz, sigV4Algorithm+" "))
	case strings.HasPrefix(authz, "AWS "), strings.HasPrefix(authz, "AWS4-ECDSA-P256-SHA256 "):
		return nil, unsupportedAuthMechanism()
	default:
		return nil, invalidArgument("Unsupported Authorization Type", "Authorization", authz)
	}
}

// verifyHeader checks an Authorization header's signature (the value after
// the algorithm): Credential=..., SignedHeaders=..., Signature=...
func (a *s3Auth) verifyHeader(r *http.Request, value string) (*signing, *s3Error) {
	malformed := headerCredErrors.err
	comps := map[string]string{}
	for _, c := range strings.Split(value, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		k, v, ok := strings.Cut(c, "=")
		if !ok {
			return nil, malformed("the authorization component %q is malformed.", c)
		}
		comps[k] = v
	}
	credStr, okCred := comps["Credential"]
	signedList, okSigned := comps["SignedHeaders"]
	signature, okSig := comps["Signature"]
	switch {
	case !okCred && !okSigned && !okSig:
		return nil, malformed("the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	case !okCred:
		return nil, malformed("missing Credential.")
	case !okSigned:
		return nil, malformed("missing SignedHeaders.")
	case !okSig:
		return nil, malformed("missing Signature.")
	}

	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return nil, badRequest("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
	}
	if !validPayloadHash(payload) {
		return nil, invalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "+
			"STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "+
			"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.", "x-amz-content-sha256", payload)
	}

	// The request's time: x-amz-date, or else the Date header.
	amzDate := r.Header.Get("X-Amz-Date")
	var at time.Time
	var err error
	if amzDate != "" {
		at, err = time.Parse(amzDateLayout, amzDate)
	} else if d := r.Header.Get("Date"); d != "" {
		if at, err = http.ParseTime(d); err == nil {
			amzDate = at.UTC().Format(amzDateLayout)
		}
	} else {
		err = fmt.Errorf("no date")
	}
	if err != nil {
		return nil, accessDenied("AWS authentication requires a valid Date or x-amz-date header")
	}

	cred, e := a.parseCredential(credStr, amzDate, headerCredErrors)
	if e != nil {
		return nil, e
	}
	secret, e := a.secret(cred.accessKey)
	if e != nil {
		return nil, e
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		return nil, invalidToken()
	}
	if now := a.now(); now.Sub(at).Abs() > maxSkew {
		e := newS3Error(http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
		e.RequestTime = amzDate
		e.ServerTime = now.UTC().Format(time.RFC3339)
		e.MaxAllowedSkewMilliseconds = strconv.FormatInt(maxSkew.Milliseconds(), 10)
		return nil, e
	}
	signed := strings.Split(signedList, ";")
	if e := checkSignedHeaders(r, signed); e != nil {
		return nil, e
	}
	s := &signing{accessKey: cred.accessKey, key: signingKey(secret, cred), amzDate: amzDate, scope: cred.scope(),
		signature: signature, payload: payload}
	canonical := canonicalRequest(r, signed, payload, "")
	if e := s.check(canonical, signature); e != nil {
		return nil, e
	}
	return s, nil
}

// verifyPresigned checks a presigned URL: the X-Amz-* query parameters, the
// URL's validity period, and the signature of the request with payload
// UNSIGNED-PAYLOAD.
func (a *s3Auth) verifyPresigned(r *http.Request, query map[string][]string) (*signing, *s3Error) {
	qerr := func(msg string) *s3Error { return badRequest("AuthorizationQueryParametersError", msg) }
	get := func(name string) (string, bool) {
		v, ok := query[name]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	algorithm, ok1 := get("X-Amz-Algorithm")
	credStr, ok2 := get("X-Amz-Credential")
	signature, ok3 := get("X-Amz-Signature")
	amzDate, ok4 := get("X-Amz-Date")
	signedList, ok5 := get("X-Amz-SignedHeaders")
	expiresStr, ok6 := get("X-Amz-Expires")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return nil, qerr("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	if algorithm != sigV4Algorithm {
		return nil, qerr(`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`)
	}
	at, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return nil, qerr(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	expires, err := strconv.ParseInt(expiresStr, 10, 64)
	switch {
	case err != nil:
		return nil, qerr("X-Amz-Expires should be a number")
	case expires < 0:
		return nil, qerr("X-Amz-Expires must be non-negative")
	case expires > maxPresignExpires:
		return nil, qerr("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
	}
	cred, e := a.parseCredential(credStr, amzDate, queryCredErrors)
	if e != nil {
		return nil, e
	}
	secret, e := a.secret(cred.accessKey)
	if e != nil {
		return nil, e
	}
	if _, ok := get("X-Amz-Security-Token"); ok {
		return nil, invalidToken()
	}
	now := a.now()
	if at.Sub(now) > maxSkew {
		return nil, accessDenied("Request is not valid yet")
	}
	if end := at.Add(time.Duration(expires) * time.Second); now.After(end) {
		e := accessDenied("Request has expired")
		e.XAmzExpires = expiresStr
		e.Expires = end.UTC().Format(time.RFC3339)
		e.ServerTime = now.UTC().Format(time.RFC3339)
		return nil, e
	}
	signed := strings.Split(signedList, ";")
	if e := checkSignedHeaders(r, signed); e != nil {
		return nil, e
	}
	// A presigned request's body is not signed, unless it signs an
	// x-amz-content-sha256 header.
	payload := unsignedPayload
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		if !validPayloadHash(v) || strings.HasPrefix(v, "STREAMING-") {
			return nil, invalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.", "x-amz-content-sha256", v)
		}
		payload = v
	}
	s := &signing{accessKey: cred.accessKey, key: signingKey(secret, cred), amzDate: amzDate, scope: cred.scope(),
		signature: signature, payload: payload}
	canonical := canonicalRequest(r, signed, payload, "X-Amz-Signature")
	if e := s.check(canonical, signature); e != nil {
		return nil, e
	}
	return s, nil
}

// verifyPost checks a browser POST's signature fields: the SigV4 signature
// of the base64 policy (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html).
// The policy's own conditions and expiration are checked after
// (checkPolicy).
func (a *s3Auth) verifyPost(form *postForm) *s3Error {
	names := []string{"policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"}
	values := map[string]string{}
	for _, n := range names {
		if v, ok := form.get(n); ok {
			values[n] = v
		}
	}
	if len(values) == 0 {
		// Anonymous: no signature at all (a Signature Version 2 form has
		// AWSAccessKeyId and signature fields, not supported either).
		if _, ok := form.get("awsaccesskeyid"); ok {
			return unsupportedAuthMechanism()
		}
		return accessDenied("Access Denied")
	}
	for _, n := range names {
		if _, ok := values[n]; !ok {
			return invalidArgument(fmt.Sprintf("Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the fields.", n), n, "")
		}
	}
	if alg := values["x-amz-algorithm"]; alg != sigV4Algorithm {
		return invalidArgument("Only AWS4-HMAC-SHA256 is supported", "X-Amz-Algorithm", alg)
	}
	amzDate := values["x-amz-date"]
	if _, err := time.Parse(amzDateLayout, amzDate); err != nil {
		return invalidArgument("X-Amz-Date must be formated via ISO8601 Long format", "X-Amz-Date", amzDate)
	}
	cred, e := a.parseCredential(values["x-amz-credential"], amzDate, postCredErrors)
	if e != nil {
		return e
	}
	secret, e := a.secret(cred.accessKey)
	if e != nil {
		return e
	}
	if _, ok := form.get("x-amz-security-token"); ok {
		return invalidToken()
	}
	policy := values["policy"]
	provided := values["x-amz-signature"]
	want := hex.EncodeToString(hmacSHA256(signingKey(secret, cred), policy))
	if !hmac.Equal([]byte(want), []byte(provided)) {
		e := signatureMismatch(cred.accessKey, policy, provided)
		return e
	}
	return nil
}

func signatureMismatch(accessKey, stringToSign, provided string) *s3Error {
	e := newS3Error(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	e.AWSAccessKeyID = accessKey
	e.StringToSign = stringToSign
	e.SignatureProvided = provided
	e.StringToSignBytes = hexBytes(stringToSign)
	return e
}

// check compares a request's signature with the one its canonical request
// yields.
func (s *signing) check(canonical, provided string) *s3Error {
	sts := s.stringToSign(sigV4Algorithm, sha256Hex([]byte(canonical)))
	want := hex.EncodeToString(hmacSHA256(s.key, sts))
	if !hmac.Equal([]byte(want), []byte(provided)) {
		e := signatureMismatch(s.accessKey, sts, provided)
		e.CanonicalRequest = canonical
		e.CanonicalRequestBytes = hexBytes(canonical)
		return e
	}
	return nil
}

// stringToSign is algorithm, time, scope and the hashes that follow, one a
// line.
func (s *signing) stringToSign(algorithm string, hashes ...string) string {
	return algorithm + "\n" + s.amzDate + "\n" + s.scope + "\n" + strings.Join(hashes, "\n")
}

// checkSignedHeaders enforces what S3 requires be signed: host, and every
// x-amz-* header the request carries.
func checkSignedHeaders(r *http.Request, signed []string) *s3Error {
	var missing []string
	if !slices.Contains(signed, "host") {
		missing = append(missing, "host")
	}
	for name := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") && !slices.Contains(signed, lower) {
			missing = append(missing, lower)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		e := accessDenied("There were headers present in the request which were not signed")
		e.HeadersNotSigned = strings.Join(missing, ", ")
		return e
	}
	return nil
}

// canonicalRequest builds the SigV4 canonical request of r as S3 does:
// method, path, query (without the skipped parameter: the presigned
// signature), the signed headers in the order listed, their list, and the
// payload hash.
func canonicalRequest(r *http.Request, signed []string, payload, skipParam string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, skipParam))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// canonicalURI is the request's path with each segment URI-encoded once:
// S3, unlike other services, neither normalizes the path nor encodes it
// twice. Segments are decoded from the path as sent, so an encoded '/'
// within a key stays encoded.
func canonicalURI(r *http.Request) string {
	raw := r.URL.EscapedPath()
	if r.RequestURI != "" && strings.HasPrefix(r.RequestURI, "/") {
		raw, _, _ = strings.Cut(r.RequestURI, "?")
	}
	if raw == "" {
		return "/"
	}
	segs := strings.Split(raw, "/")
	for i, seg := range segs {
		if dec, err := url.PathUnescape(seg); err == nil {
			seg = dec
		}
		segs[i] = uriEncode(seg, true)
	}
	return strings.Join(segs, "/")
}

// canonicalQuery sorts the query's parameters by name, then value, each
// URI-encoded. Parameters are decoded as gofakes3 decodes them ('+' is a
// space), so what is signed is what is served.
func canonicalQuery(rawQuery, skip string) string {
	var pairs []string
	for _, p := range strings.Split(rawQuery, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if k == skip {
			continue
		}
		pairs = append(pairs, uriEncode(k, true)+"="+uriEncode(v, true))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&")
}

func queryUnescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// parseRawQuery decodes a query string as url.ParseQuery does, keeping
// the parameters it cannot decode.
func parseRawQuery(rawQuery string) map[string][]string {
	q := map[string][]string{}
	for _, p := range strings.Split(rawQuery, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		k = queryUnescape(k)
		q[k] = append(q[k], queryUnescape(v))
	}
	return q
}

// canonicalHeaderValue is a signed header's value: every value of the
// header, trimmed and with inner runs of spaces collapsed, joined by
// commas. Go keeps the Host header out of r.Header.
func canonicalHeaderValue(r *http.Request, name string) string {
	if name == "host" {
		return r.Host
	}
	values := r.Header.Values(name)
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}

// uriEncode encodes every byte but the unreserved characters (A-Z, a-z,
// 0-9, '-', '.', '_', '~') as %XX, and '/' too if encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// validPayloadHash tells the x-amz-content-sha256 values S3 accepts with
// AWS4-HMAC-SHA256: a hex SHA-256, UNSIGNED-PAYLOAD, or a streaming mode
// (the ECDSA ones belong to SigV4a, not supported here).
func validPayloadHash(v string) bool {
	switch v {
	case unsignedPayload, streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
		return true
	}
	if len(v) != 64 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil && strings.ToLower(v) == v
}

// signingKey derives the SigV4 key of a credential's scope.
func signingKey(secret string, c credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.date)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, c.service)
	return hmacSHA256(k, c.terminal)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
