// Package localauth is Depot's local stand-in for the identity side of AWS:
// an Issuer that mints Cognito-like ID tokens (RS256 JWTs) with a signing key
// kept on disk, and a Verifier that checks them the way API Gateway's HTTP
// API JWT authorizer does and flattens their claims the way it hands them to
// a Lambda function (requestContext.authorizer.jwt.claims).
package localauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

const (
	// IssuerURL is the iss claim of local tokens (the JWT authorizer's issuer).
	IssuerURL = "https://issuer.depot.local"
	// Audience is the aud claim of local tokens (the JWT authorizer's audience).
	Audience = "depot-api"
	// GroupsClaim carries the caller's roles, as in Cognito ID tokens.
	GroupsClaim = "cognito:groups"
	// KeyFile is the name of the PEM signing key inside the state directory.
	KeyFile = "jwt-signing-key.pem"
	// StateDirEnv overrides DefaultStateDir.
	StateDirEnv = "DEPOT_STATE_DIR"
)

// Claims describe who a minted token is for.
type Claims struct {
	Email   string
	Subject string   // default: a UUIDv5 derived from the lower-cased email
	Groups  []string // the cognito:groups claim (roles); omitted when empty
}

// Issuer is the local identity provider: it signs tokens with an RSA key.
type Issuer struct {
	key jwk.Key // private, with kid, alg RS256 and use sig
	kid string
	now func() time.Time
}

// LoadOrCreate loads the signing key from stateDir/KeyFile, making the
// directory (0700) and a new RSA 2048 key (file 0600) on first use.
func LoadOrCreate(stateDir string) (*Issuer, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("localauth: state dir: %w", err)
	}
	path := filepath.Join(stateDir, KeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = createKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("localauth: signing key: %w", err)
	}
	iss, err := issuerFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("localauth: signing key %s: %w", path, err)
	}
	return iss, nil
}

// createKeyFile writes a new key to path without ever exposing a partly
// written file; if another process created it first, that key wins.
func createKeyFile(path string) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	tmp, err := os.CreateTemp(filepath.Dir(path), ".jwt-signing-key-*") // mode 0600
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return os.ReadFile(path)
		}
		return nil, err
	}
	return data, nil
}

func issuerFromPEM(data []byte) (*Issuer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var raw any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		raw, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		raw, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	if err != nil {
		return nil, err
	}
	priv, ok := raw.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key (%T)", raw)
	}
	if priv.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key has %d bits, want at least 2048", priv.N.BitLen())
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.RS256()); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
		return nil, err
	}
	if err := jwk.AssignKeyID(key); err != nil { // RFC 7638 thumbprint, SHA-256
		return nil, err
	}
	kid, _ := key.KeyID()
	return &Issuer{key: key, kid: kid, now: time.Now}, nil
}

// KeyID is the kid of the signing key (its RFC 7638 SHA-256 thumbprint).
func (i *Issuer) KeyID() string { return i.kid }

// Mint signs an ID token for c, valid for ttl from now.
func (i *Issuer) Mint(c Claims, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", errors.New("localauth: ttl must be positive")
	}
	sub := c.Subject
	if sub == "" {
		if c.Email == "" {
			return "", errors.New("localauth: email or subject required")
		}
		sub = SubjectFor(c.Email)
	}
	now := i.now().Truncate(time.Second)
	b := jwt.NewBuilder().
		Issuer(IssuerURL).
		Audience([]string{Audience}).
		Subject(sub).
		IssuedAt(now).
		NotBefore(now).
		Expiration(now.Add(ttl)).
		JwtID(rand.Text()).
		Claim("token_use", "id")
	if c.Email != "" {
		b = b.Claim("email", c.Email)
	}
	if len(c.Groups) > 0 {
		b = b.Claim(GroupsClaim, c.Groups)
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("localauth: build token: %w", err)
	}
	tok.Options().Enable(jwt.FlattenAudience) // "aud": "depot-api", as Cognito does
	return i.sign(tok)
}

func (i *Issuer) sign(tok jwt.Token) (string, error) {
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), i.key)) // adds kid and typ JWT
	if err != nil {
		return "", fmt.Errorf("localauth: sign token: %w", err)
	}
	return string(signed), nil
}

// JWKS is the public JWK Set (what the issuer's jwks_uri would serve).
func (i *Issuer) JWKS() ([]byte, error) {
	pub, err := i.key.PublicKey()
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, err
	}
	return json.Marshal(set)
}

// Verifier is a Verifier for this issuer's tokens with IssuerURL and Audience.
func (i *Issuer) Verifier() (*Verifier, error) {
	jwks, err := i.JWKS()
	if err != nil {
		return nil, err
	}
	return NewVerifier(jwks, IssuerURL, Audience)
}

// SubjectFor is the sub claim minted for an email address: the name-based
// (SHA-1, version 5) UUID of "mailto:<lower-cased email>" in the URL
// namespace, so the same person always gets the same sub.
func SubjectFor(email string) string {
	// RFC 9562 namespace ID for URLs: 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte("mailto:" + strings.ToLower(strings.TrimSpace(email))))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	s := hex.EncodeToString(u)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// DefaultStateDir is where local state lives: $DEPOT_STATE_DIR if set, else
// .local in the module root (the nearest directory at or above the working
// directory that holds go.mod), else .local in the working directory.
func DefaultStateDir() string {
	if dir := os.Getenv(StateDirEnv); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		return ".local"
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".local")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ".local"
		}
		dir = parent
	}
}

// Sign signs arbitrary claims with the issuer's key (RS256, with its kid).
// Tests use it to make tokens that are validly signed but otherwise wrong:
// expired, for another audience, from another issuer.
func (i *Issuer) Sign(claims map[string]any) (string, error) {
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			return "", fmt.Errorf("localauth: claim %s: %w", k, err)
		}
	}
	return i.sign(tok)
}
