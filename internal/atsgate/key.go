package atsgate

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
	"time"
)

// APIKey is the stored half of an API key: never the secret, only its hash
// and a short prefix that identifies it in logs and listings.
type APIKey struct {
	ID         int64
	EmployerID int64
	Prefix     string
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while active
}

// keySecretBytes is the entropy of a key's secret. With 256 random bits a
// plain SHA-256 is a safe stored form: there is nothing to brute-force.
const keySecretBytes = 32

// keyPrefixSecretChars is how much of the secret the public prefix shows.
const keyPrefixSecretChars = 4

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewAPIKey returns a fresh key "mjm_<cc>_<secret>" for a country, with the
// hash to store and the prefix to show.
func NewAPIKey(countryCode string) (plain, hash, prefix string, err error) {
	buf := make([]byte, keySecretBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", "", "", err
	}
	n := new(big.Int).SetBytes(buf)
	secret := make([]byte, 0, 43)
	base := big.NewInt(62)
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		secret = append(secret, base62[mod.Int64()])
	}
	for len(secret) < 43 { // fixed length whatever the leading zeros
		secret = append(secret, '0')
	}
	plain = "mjm_" + countryCode + "_" + string(secret)
	return plain, HashAPIKey(plain), KeyPrefix(plain), nil
}

// HashAPIKey is the stored form of a key.
func HashAPIKey(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// KeyPrefix is the part of a key safe to show and log: "mjm_gh_AbCd".
// For anything that is not shaped like a key it returns "".
func KeyPrefix(plain string) string {
	cc, secret, ok := SplitAPIKey(plain)
	if !ok {
		return ""
	}
	return "mjm_" + cc + "_" + secret[:keyPrefixSecretChars]
}

// SplitAPIKey checks the shape "mjm_<cc>_<secret>" and returns its parts.
func SplitAPIKey(plain string) (countryCode, secret string, ok bool) {
	rest, found := strings.CutPrefix(plain, "mjm_")
	if !found || len(rest) < 3+keyPrefixSecretChars || rest[2] != '_' {
		return "", "", false
	}
	cc, secret := rest[:2], rest[3:]
	for i := 0; i < 2; i++ {
		if cc[i] < 'a' || cc[i] > 'z' {
			return "", "", false
		}
	}
	if len(secret) > 128 {
		return "", "", false
	}
	for i := 0; i < len(secret); i++ {
		if strings.IndexByte(base62, secret[i]) < 0 {
			return "", "", false
		}
	}
	return cc, secret, true
}
