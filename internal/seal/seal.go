// Package seal keeps secrets that atsgate must be able to use again
// (ERP sources' signing secrets, webhook signing secrets) without storing
// them in clear: each is sealed with AES-256-GCM under the operator's
// ATSGATE_SECRET_KEY, and only the sealed form reaches the database.
//
// A sealed value is "v1:" followed by base64(nonce || ciphertext || tag).
// The version prefix leaves room for a key rotation scheme later.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a sealing key in bytes.
const KeySize = 32

const prefix = "v1:"

// ErrOpen is returned for a sealed value that was not sealed with this
// key, or was altered.
var ErrOpen = errors.New("seal: cannot open: wrong ATSGATE_SECRET_KEY or damaged value")

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct{ aead cipher.AEAD }

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// ParseKey reads an operator's key: 64 hex digits or standard/URL base64
// of 32 bytes (what `openssl rand -base64 32` prints).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("must be %d bytes as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)", KeySize)
}

// DevKey is the fixed key of development mode, when the operator set none.
// It is public (it is in the source), so it protects nothing: prod refuses
// to start without ATSGATE_SECRET_KEY.
func DevKey() []byte {
	k := sha256.Sum256([]byte("atsgate development sealing key; not a secret"))
	return k[:]
}

// Seal encrypts plaintext under a fresh random nonce.
func (b *Box) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, plaintext, nil)
	return prefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal with the same key.
func (b *Box) Open(sealed string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrOpen
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(data) < b.aead.NonceSize()+b.aead.Overhead() {
		return nil, ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, data[:n], data[n:], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
