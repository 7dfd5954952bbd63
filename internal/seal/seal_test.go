package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	box, err := New(DevKey())
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("whsec_0123456789abcdef")
	a, err := box.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := box.Seal(secret)
	if a == b {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
	if strings.Contains(a, string(secret)) {
		t.Fatal("sealed value contains the secret")
	}
	got, err := box.Open(a)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}

	other, _ := New(bytes.Repeat([]byte{7}, KeySize))
	if _, err := other.Open(a); err != ErrOpen {
		t.Fatalf("another key opened it: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "v1:"))
	raw[len(raw)-1] ^= 1
	if _, err := box.Open("v1:" + base64.StdEncoding.EncodeToString(raw)); err != ErrOpen {
		t.Fatalf("tampered value opened: %v", err)
	}
	for _, bad := range []string{"", "v1:", "v1:!!", "v2:" + a[3:], a[3:]} {
		if _, err := box.Open(bad); err != ErrOpen {
			t.Errorf("Open(%q) = %v, want ErrOpen", bad, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	k := bytes.Repeat([]byte{0xab}, KeySize)
	for _, s := range []string{hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k), " " + hex.EncodeToString(k) + "\n"} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "short", hex.EncodeToString(k[:16]), base64.StdEncoding.EncodeToString(k[:31])} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
	if _, err := New(k[:16]); err == nil {
		t.Error("New accepted a 16-byte key")
	}
}
