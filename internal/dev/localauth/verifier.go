package localauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// ClockSkew is the leeway allowed on exp, nbf and iat.
const ClockSkew = 30 * time.Second

// ErrUnauthorized is what every Verify failure wraps; the rest of the error
// text is the reason, for logs only (the gateway answers a bare 401).
var ErrUnauthorized = errors.New("unauthorized")

// Verifier checks tokens as API Gateway's HTTP API JWT authorizer does.
type Verifier struct {
	keys     jwk.Set // public RSA keys, each with a kid and alg RS256
	issuer   string
	audience string
}

// NewVerifier accepts tokens whose iss is issuer, whose aud contains
// audience (or whose client_id is audience), signed with RS256 by a key of
// the JWK Set jwks. Keys that are not RSA signing keys with a kid are ignored.
func NewVerifier(jwks []byte, issuer, audience string) (*Verifier, error) {
	if issuer == "" || audience == "" {
		return nil, errors.New("localauth: issuer and audience are required")
	}
	set, err := jwk.Parse(jwks)
	if err != nil {
		return nil, fmt.Errorf("localauth: parse JWKS: %w", err)
	}
	keys := jwk.NewSet()
	for n := range set.Len() {
		key, _ := set.Key(n)
		if key.KeyType() != jwa.RSA() {
			continue
		}
		if _, ok := key.KeyID(); !ok {
			continue
		}
		if use, ok := key.KeyUsage(); ok && use != string(jwk.ForSignature) {
			continue
		}
		if alg, ok := key.Algorithm(); ok && alg.String() != jwa.RS256().String() {
			continue
		}
		pub, err := key.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("localauth: JWKS key: %w", err)
		}
		// jwx verifies with the key's alg, never the token's: pinning RS256
		// here rules out none, HS256 and the rest even without Verify's check.
		if err := pub.Set(jwk.AlgorithmKey, jwa.RS256()); err != nil {
			return nil, err
		}
		if err := keys.AddKey(pub); err != nil {
			return nil, err
		}
	}
	if keys.Len() == 0 {
		return nil, errors.New("localauth: JWKS has no RSA signing key with a kid")
	}
	return &Verifier{keys: keys, issuer: issuer, audience: audience}, nil
}

// Verify checks token at time now (zero means the current time) and returns
// its claims flattened as API Gateway passes them to the integration.
func (v *Verifier) Verify(token string, now time.Time) (map[string]string, error) {
	if now.IsZero() {
		now = time.Now()
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, unauthorized("not a compact JWS", nil)
	}
	// Each part must be spelt exactly as RFC 7515 writes it, so that a
	// token has one spelling only: jwx alone also takes standard base64,
	// padding and line breaks (and verifies the signature of the canonical
	// form), which API Gateway's authorizer does not accept.
	for n, name := range []string{"header", "payload", "signature"} {
		if err := canonicalSegment(parts[n]); err != nil {
			return nil, unauthorized("malformed "+name, err)
		}
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, unauthorized("malformed header", err)
	}
	if header.Alg != jwa.RS256().String() {
		return nil, unauthorized(fmt.Sprintf("alg %q not allowed", header.Alg), nil)
	}
	if _, ok := v.keys.LookupKeyID(header.Kid); !ok {
		return nil, unauthorized(fmt.Sprintf("unknown kid %q", header.Kid), nil)
	}
	var payload map[string]any
	if err := decodeSegment(parts[1], &payload); err != nil {
		return nil, unauthorized("malformed payload", err)
	}
	if err := numericDates(payload); err != nil {
		return nil, unauthorized("malformed payload", err)
	}
	_, err := jwt.Parse([]byte(token),
		jwt.WithKeySet(v.keys, jws.WithRequireKid(true)),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(ClockSkew),
		jwt.WithIssuer(v.issuer),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithValidator(jwt.ValidatorFunc(v.validateAudience)),
	)
	if err != nil {
		return nil, unauthorized("invalid token", err)
	}
	claims := make(map[string]string, len(payload))
	for name, value := range payload {
		if value != nil {
			claims[name] = flatten(value)
		}
	}
	return claims, nil
}

func (v *Verifier) validateAudience(_ context.Context, tok jwt.Token) error {
	if aud, _ := tok.Audience(); slices.Contains(aud, v.audience) {
		return nil
	}
	var clientID string
	if err := tok.Get("client_id", &clientID); err == nil && clientID == v.audience {
		return nil
	}
	return jwt.InvalidAudienceError()
}

func unauthorized(reason string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: %s", ErrUnauthorized, reason)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnauthorized, reason, err)
}

// strictBase64URL decodes base64url without padding and with the unused
// bits of the last character zero (each byte string has one spelling).
var strictBase64URL = base64.RawURLEncoding.Strict()

// canonicalSegment checks that seg is one part of a JWS Compact
// Serialization as RFC 7515 (section 2, "Base64url Encoding") defines it:
// the URL-safe alphabet of RFC 4648 section 5 with "all trailing '='
// characters omitted" and "no line breaks, whitespace, or other additional
// characters". Go's decoder alone would skip CR and LF.
func canonicalSegment(seg string) error {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("byte %d (%q) is not in the base64url alphabet", i, c)
		}
	}
	if _, err := strictBase64URL.DecodeString(seg); err != nil {
		return err
	}
	return nil
}

// decodeSegment decodes a canonical segment holding exactly one JSON value.
func decodeSegment(seg string, v any) error {
	if err := canonicalSegment(seg); err != nil {
		return err
	}
	data, err := strictBase64URL.DecodeString(seg)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// numericDates checks that the time claims, when present, are NumericDate
// values: RFC 7519 (section 2) defines NumericDate as a JSON numeric value.
// jwx alone also parses a string such as "1767229200".
func numericDates(payload map[string]any) error {
	for _, name := range []string{jwt.ExpirationKey, jwt.NotBeforeKey, jwt.IssuedAtKey} {
		value, ok := payload[name]
		if !ok {
			continue
		}
		if _, isNumber := value.(json.Number); !isNumber {
			return fmt.Errorf("claim %s is %s, not a JSON number", name, jsonType(value))
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// flatten renders a claim value the way API Gateway HTTP API does in
// requestContext.authorizer.jwt.claims: strings as is, numbers in plain
// decimal, booleans as true/false, arrays as "[a b c]" (objects, which Depot
// never mints, as "map[k:v]").
func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return v.String()
		}
		if f, err := v.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		items := make([]string, len(v))
		for n, item := range v {
			items[n] = flatten(item)
		}
		return "[" + strings.Join(items, " ") + "]"
	case map[string]any:
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		sort.Strings(names)
		for n, name := range names {
			names[n] = name + ":" + flatten(v[name])
		}
		return "map[" + strings.Join(names, " ") + "]"
	case nil:
		return "<nil>"
	default:
		return fmt.Sprint(v)
	}
}
