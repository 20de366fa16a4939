package localauth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// signSegments signs the compact serialization of header and payload, each
// spelt exactly as given (encoded segments, not JSON), with iss's key.
func signSegments(t *testing.T, iss *Issuer, header, payload string) string {
	t.Helper()
	var key rsa.PrivateKey
	if err := jwk.Export(iss.key, &key); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(header + "." + payload))
	sig, err := rsa.SignPKCS1v15(nil, &key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// spellingToken is a valid token whose three segments each have a partial
// last group (so padding adds '=' and the last character has unused bits)
// and hold the characters '-' or '_' (so standard base64 spells them
// differently). The JSON is padded with spaces, which JSON allows, to get
// the lengths right; "???" encodes to a '_' at any alignment.
func spellingToken(t *testing.T, iss *Issuer) string {
	t.Helper()
	fit := func(json string) string {
		for len(json)%3 == 0 {
			json = json[:len(json)-1] + " }"
		}
		return b64(json)
	}
	for range 20 {
		header := fit(`{"alg":"RS256","typ":"JWT","kid":"` + iss.kid + `","x":"???"}`)
		payload := fit(`{"iss":"` + IssuerURL + `","aud":"` + Audience + `","sub":"s-1","email":"???@example.com",` +
			`"iat":1767225600,"nbf":1767225600,"exp":1767229200}`)
		tok := signSegments(t, iss, header, payload)
		// An RSA-2048 signature is 256 bytes: its last group is always partial.
		if sig := strings.Split(tok, ".")[2]; strings.ContainsAny(sig, "-_") {
			return tok
		}
		iss = newIssuer(t) // a signature without '-' or '_' (p ≈ 2e-5): another key
	}
	t.Fatal("no signature with '-' or '_'")
	return ""
}

// lenient decodes a segment the way jwx's guessing decoder ends up doing:
// either alphabet, padding or not, line breaks skipped.
func lenient(t *testing.T, seg string) []byte {
	t.Helper()
	seg = strings.NewReplacer("+", "-", "/", "_", "=", "", "\r", "", "\n", "", " ", "", "\t", "").Replace(seg)
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("lenient decode of %q: %v", seg, err)
	}
	return data
}

func TestVerifyRefusesOtherSpellings(t *testing.T) {
	iss := newIssuer(t)
	v := verifier(t, iss)
	good := spellingToken(t, iss)
	if _, err := v.Verify(good, t0); err != nil {
		t.Fatalf("canonical token rejected: %v", err)
	}
	parts := strings.Split(good, ".")

	respell := map[string]func(seg string) string{
		"padded": func(seg string) string {
			return base64.URLEncoding.EncodeToString(lenient(t, seg))
		},
		"standard alphabet": func(seg string) string {
			return base64.RawStdEncoding.EncodeToString(lenient(t, seg))
		},
		"standard alphabet, padded": func(seg string) string {
			return base64.StdEncoding.EncodeToString(lenient(t, seg))
		},
		"line feed inside":        func(seg string) string { return seg[:8] + "\n" + seg[8:] },
		"CRLF inside":             func(seg string) string { return seg[:8] + "\r\n" + seg[8:] },
		"line feed at the end":    func(seg string) string { return seg + "\n" },
		"space inside":            func(seg string) string { return seg[:8] + " " + seg[8:] },
		"tab inside":              func(seg string) string { return seg[:8] + "\t" + seg[8:] },
		"padding on a raw length": func(seg string) string { return seg + "=" },
		// The last character's unused low bits set: same bytes, another spelling.
		"non-zero trailing bits": func(seg string) string {
			last := strings.IndexByte(b64url, seg[len(seg)-1])
			return seg[:len(seg)-1] + string(b64url[last|1])
		},
	}
	for n, part := range []string{"header", "payload", "signature"} {
		for how, f := range respell {
			seg := f(parts[n])
			if seg == parts[n] {
				t.Fatalf("%s %s: spelling unchanged", part, how)
			}
			if how != "padding on a raw length" && string(lenient(t, seg)) != string(lenient(t, parts[n])) {
				t.Fatalf("%s %s: not the same bytes", part, how)
			}
			variant := append([]string(nil), parts...)
			variant[n] = seg
			t.Run(part+" "+how, func(t *testing.T) {
				expectRefused(t, v, strings.Join(variant, "."))
			})
			// Signed over the respelt segments, so that the signature is
			// valid for the bytes as sent: still not a JWS.
			if part != "signature" {
				resigned := signSegments(t, iss, variant[0], variant[1])
				t.Run(part+" "+how+", signed as sent", func(t *testing.T) {
					expectRefused(t, v, resigned)
				})
			}
		}
	}
}

func expectRefused(t *testing.T, v *Verifier, token string) {
	t.Helper()
	claims, err := v.Verify(token, t0)
	if err == nil {
		t.Fatalf("accepted %q, claims %v", token, claims)
	}
	if !errors.Is(err, ErrUnauthorized) || claims != nil {
		t.Errorf("error %v, claims %v", err, claims)
	}
}

func TestVerifyNumericDates(t *testing.T) {
	iss := newIssuer(t)
	v := verifier(t, iss)
	sign := func(claims string) string {
		tok, err := jws.Sign([]byte(`{"iss":"`+IssuerURL+`","aud":"`+Audience+`","sub":"s-1",`+claims+`}`),
			jws.WithKey(jwa.RS256(), iss.key)) // adds the key's kid
		if err != nil {
			t.Fatal(err)
		}
		return string(tok)
	}
	tests := []struct {
		name   string
		claims string
		ok     bool
	}{
		{"numbers", `"exp":1767229200,"nbf":1767225600,"iat":1767225600`, true},
		{"exp with a fraction", `"exp":1767229200.5`, true},
		{"exp with an exponent", `"exp":1.7672292e9`, true},
		{"exp a string", `"exp":"1767229200"`, false},
		{"exp a string, nbf and iat numbers", `"exp":"1767229200","nbf":1767225600,"iat":1767225600`, false},
		{"nbf a string", `"exp":1767229200,"nbf":"1767225600"`, false},
		{"iat a string", `"exp":1767229200,"iat":"1767225600"`, false},
		{"exp an RFC 3339 string", `"exp":"2026-01-01T01:00:00Z"`, false},
		{"exp true", `"exp":true`, false},
		{"exp null", `"exp":null`, false},
		{"exp an array", `"exp":[1767229200]`, false},
		{"nbf null", `"exp":1767229200,"nbf":null`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(tt.claims)
			if !tt.ok {
				expectRefused(t, v, tok)
			} else if _, err := v.Verify(tok, t0); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

func TestVerifyRefusesDataAfterPayload(t *testing.T) {
	iss := newIssuer(t)
	v := verifier(t, iss)
	claims := `{"iss":"` + IssuerURL + `","aud":"` + Audience + `","sub":"s-1","exp":1767229200}`
	header := b64(`{"alg":"RS256","typ":"JWT","kid":"` + iss.kid + `"}`)
	if _, err := v.Verify(signSegments(t, iss, header, b64(claims+"\n")), t0); err != nil {
		t.Fatalf("trailing JSON whitespace rejected: %v", err)
	}
	expectRefused(t, v, signSegments(t, iss, header, b64(claims+`{"cognito:groups":["admin"]}`)))
}
