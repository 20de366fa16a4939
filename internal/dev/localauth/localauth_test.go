package localauth

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// t0 is when test tokens are minted: 2026-01-01T00:00:00Z.
var t0 = time.Unix(1767225600, 0).UTC()

func newIssuer(t *testing.T) *Issuer {
	t.Helper()
	iss, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	iss.now = func() time.Time { return t0 }
	return iss
}

func mint(t *testing.T, iss *Issuer, c Claims, ttl time.Duration) string {
	t.Helper()
	tok, err := iss.Mint(c, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signClaims signs arbitrary claims with iss's key (kid and RS256 included).
func signClaims(t *testing.T, iss *Issuer, claims map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for name, value := range claims {
		if err := tok.Set(name, value); err != nil {
			t.Fatal(err)
		}
	}
	s, err := iss.sign(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims() map[string]any {
	return map[string]any{
		"iss": IssuerURL, "aud": Audience, "sub": "s-1", "email": "bob@example.com",
		"iat": t0, "nbf": t0, "exp": t0.Add(time.Hour),
	}
}

func with(m map[string]any, name string, value any) map[string]any {
	if value == nil {
		delete(m, name)
	} else {
		m[name] = value
	}
	return m
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func verifier(t *testing.T, iss *Issuer) *Verifier {
	t.Helper()
	v, err := iss.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMintedTokenVerifies(t *testing.T) {
	iss := newIssuer(t)
	v := verifier(t, iss)
	tests := []struct {
		name   string
		claims Claims
		want   map[string]string
	}{
		{"editor", Claims{Email: "alice@example.com", Groups: []string{"editor"}}, map[string]string{
			"iss": IssuerURL, "aud": Audience, "email": "alice@example.com",
			"sub": "6613a3fd-c2c4-5bc2-a6de-3dc0b2527dd6", GroupsClaim: "[editor]", "token_use": "id",
			"iat": "1767225600", "nbf": "1767225600", "exp": "1767229200",
		}},
		{"two groups, explicit subject", Claims{Email: "a@example.com", Subject: "u-1", Groups: []string{"editor", "admin"}}, map[string]string{
			"sub": "u-1", GroupsClaim: "[editor admin]",
		}},
		{"no groups", Claims{Email: "a@example.com"}, map[string]string{GroupsClaim: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(mint(t, iss, tt.claims, time.Hour), t0)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("claim %s = %q, want %q", name, got[name], want)
				}
			}
			if got["jti"] == "" {
				t.Error("no jti")
			}
		})
	}
}

func TestVerify(t *testing.T) {
	iss := newIssuer(t)
	v := verifier(t, iss)
	good := mint(t, iss, Claims{Email: "alice@example.com", Groups: []string{"editor"}}, time.Hour)
	parts := strings.Split(good, ".")

	// Another key carrying the same kid: a valid-looking but forged signature.
	forger := newIssuer(t)
	if err := forger.key.Set(jwk.KeyIDKey, iss.kid); err != nil {
		t.Fatal(err)
	}
	forged := mint(t, forger, Claims{Email: "alice@example.com", Groups: []string{"admin"}}, time.Hour)
	unknownKid := mint(t, newIssuer(t), Claims{Email: "alice@example.com"}, time.Hour)

	tampered := parts[0] + "." + b64(`{"iss":"`+IssuerURL+`","aud":"`+Audience+`","sub":"x","cognito:groups":["admin"],"exp":1767229200}`) + "." + parts[2]
	algNone := b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + "."

	// HS256 keyed with the public key's PEM: the RS/HS confusion attack.
	pub, err := iss.key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	var rawPub any
	if err := jwk.Export(pub, &rawPub); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(rawPub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, iss.kid); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseInsecure([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	hs256, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), pubPEM, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	// RS512 with the right key and kid: still not the algorithm the authorizer takes.
	rs512, err := jwt.Sign(tok, jwt.WithKey(jwa.RS512(), iss.key))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		now   time.Time
		ok    bool
	}{
		{"valid", good, t0, true},
		{"expired 10s ago, within skew", good, t0.Add(time.Hour + 10*time.Second), true},
		{"nbf 10s ahead, within skew", good, t0.Add(-10 * time.Second), true},
		{"client_id instead of aud", signClaims(t, iss, with(with(validClaims(), "aud", nil), "client_id", Audience)), t0, true},
		{"aud list containing audience", signClaims(t, iss, with(validClaims(), "aud", []string{"other", Audience})), t0, true},

		{"expired beyond skew", good, t0.Add(time.Hour + 31*time.Second), false},
		{"nbf beyond skew", good, t0.Add(-31 * time.Second), false},
		{"nbf in the future, iat now", signClaims(t, iss, with(validClaims(), "nbf", t0.Add(time.Minute))), t0, false},
		{"no exp", signClaims(t, iss, with(validClaims(), "exp", nil)), t0, false},
		{"wrong issuer", signClaims(t, iss, with(validClaims(), "iss", "https://evil.example")), t0, false},
		{"no issuer", signClaims(t, iss, with(validClaims(), "iss", nil)), t0, false},
		{"wrong audience", signClaims(t, iss, with(validClaims(), "aud", "other-api")), t0, false},
		{"wrong client_id, no aud", signClaims(t, iss, with(with(validClaims(), "aud", nil), "client_id", "other")), t0, false},
		{"bad signature, same kid", forged, t0, false},
		{"tampered payload", tampered, t0, false},
		{"alg none", algNone, t0, false},
		{"alg none with the RS256 signature", b64(`{"alg":"none","typ":"JWT","kid":"`+iss.kid+`"}`) + "." + parts[1] + "." + parts[2], t0, false},
		{"HS256 keyed with the public key PEM", string(hs256), t0, false},
		{"RS512", string(rs512), t0, false},
		{"unknown kid", unknownKid, t0, false},
		{"empty", "", t0, false},
		{"one segment", "garbage", t0, false},
		{"two segments", parts[0] + "." + parts[1], t0, false},
		{"four segments", good + ".x", t0, false},
		{"not base64", "!!!." + parts[1] + "." + parts[2], t0, false},
		{"header not JSON", b64("nope") + "." + parts[1] + "." + parts[2], t0, false},
		{"empty signature", parts[0] + "." + parts[1] + ".", t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := v.Verify(tt.token, tt.now)
			if tt.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if claims["iss"] != IssuerURL {
					t.Errorf("iss = %q", claims["iss"])
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, claims %v", claims)
			}
			if !errors.Is(err, ErrUnauthorized) {
				t.Errorf("error %v does not wrap ErrUnauthorized", err)
			}
			if claims != nil {
				t.Errorf("claims %v returned with an error", claims)
			}
		})
	}
}

func TestLoadOrCreateKeepsKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	first, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, KeyFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", path, got, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only %s", len(entries), KeyFile)
	}

	second, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.KeyID() != second.KeyID() || first.KeyID() == "" {
		t.Fatalf("kid %q then %q", first.KeyID(), second.KeyID())
	}
	token, err := first.Mint(Claims{Email: "alice@example.com", Groups: []string{"viewer"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier(t, second).Verify(token, time.Now()); err != nil {
		t.Fatalf("token of the first load rejected by the second's JWKS: %v", err)
	}
}

func TestJWKSIsPublic(t *testing.T) {
	iss := newIssuer(t)
	data, err := iss.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys in %s", len(set.Keys), data)
	}
	key := set.Keys[0]
	for name, want := range map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": iss.KeyID(), "e": "AQAB"} {
		if key[name] != want {
			t.Errorf("%s = %v, want %s", name, key[name], want)
		}
	}
	if n, _ := key["n"].(string); len(n) < 340 { // 2048 bits in base64url
		t.Errorf("n = %q", n)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := key[private]; ok {
			t.Errorf("JWKS leaks private member %q", private)
		}
	}
}

func TestNewVerifierRejects(t *testing.T) {
	iss := newIssuer(t)
	jwks, err := iss.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		jwks        string
		issuer, aud string
	}{
		{"not JSON", "nope", IssuerURL, Audience},
		{"no keys", `{"keys":[]}`, IssuerURL, Audience},
		{"only an HMAC key", `{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`, IssuerURL, Audience},
		{"no issuer", string(jwks), "", Audience},
		{"no audience", string(jwks), IssuerURL, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier([]byte(tt.jwks), tt.issuer, tt.aud); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestFlatten(t *testing.T) {
	tests := []struct {
		json string
		want string
	}{
		{`"alice"`, "alice"},
		{`1767225600`, "1767225600"},
		{`1.767e9`, "1767000000"},
		{`1.5`, "1.5"},
		{`-3`, "-3"},
		{`true`, "true"},
		{`false`, "false"},
		{`["editor","admin"]`, "[editor admin]"},
		{`[]`, "[]"},
		{`[1,true,"x"]`, "[1 true x]"},
		{`{"b":1,"a":"x"}`, "map[a:x b:1]"},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var v any
			if err := decodeSegment(b64(tt.json), &v); err != nil {
				t.Fatal(err)
			}
			if got := flatten(v); got != tt.want {
				t.Errorf("flatten(%s) = %q, want %q", tt.json, got, tt.want)
			}
		})
	}
}

func TestSubjectFor(t *testing.T) {
	// uuid.uuid5(uuid.NAMESPACE_URL, "mailto:alice@example.com") in Python.
	const want = "6613a3fd-c2c4-5bc2-a6de-3dc0b2527dd6"
	for _, email := range []string{"alice@example.com", " Alice@Example.COM "} {
		if got := SubjectFor(email); got != want {
			t.Errorf("SubjectFor(%q) = %s, want %s", email, got, want)
		}
	}
	if SubjectFor("bob@example.com") == want {
		t.Error("different emails share a subject")
	}
}

func TestMintRejects(t *testing.T) {
	iss := newIssuer(t)
	if _, err := iss.Mint(Claims{}, time.Hour); err == nil {
		t.Error("minted a token with no email or subject")
	}
	if _, err := iss.Mint(Claims{Email: "a@example.com"}, 0); err == nil {
		t.Error("minted a token with no lifetime")
	}
}
