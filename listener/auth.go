package listener

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"

	"github.com/mpwire/mpwire"
	"github.com/mpwire/mpwire/connection"
)

// ErrAuthentication is wrapped by every handshake failure that Python
// reports as multiprocessing.AuthenticationError: a wrong digest (either
// direction), a malformed challenge or reply, an unsupported digest.
var ErrAuthentication = errors.New("authentication failed")

// ErrClosed is returned (wrapped in a *net.OpError) by Accept after Close.
// It is mpwire.ErrClosed, which also matches net.ErrClosed.
var ErrClosed = mpwire.ErrClosed

// Scheme is the challenge a challenger (DeliverChallenge) sends.
type Scheme string

// Challenge schemes. SchemeSHA256 is what Python 3.12+ sends and what
// mpwire uses by default; every Python from 3.8 answers it (≤3.11 with a raw
// HMAC-MD5 over the whole challenge, which the challenger accepts exactly as
// 3.12+ does). SchemeLegacy is the ≤3.11 challenge: 20 random bytes, no
// digest prefix, answered with raw HMAC-MD5.
const (
	SchemeLegacy  Scheme = "legacy"
	SchemeMD5     Scheme = "md5"
	SchemeSHA256  Scheme = "sha256"
	SchemeSHA384  Scheme = "sha384"
	SchemeSHA3256 Scheme = "sha3_256"
	SchemeSHA3384 Scheme = "sha3_384"
)

// DefaultScheme is the challenge scheme used when none is configured.
const DefaultScheme = SchemeSHA256

// Handshake wire facts (docs/spec.md#handshake), kept in one place.
const (
	challengePrefix = "#CHALLENGE#"
	welcome         = "#WELCOME#"
	failure         = "#FAILURE#"
	// maxHandshakeMessage caps every handshake message, as Python's
	// recv_bytes(256).
	maxHandshakeMessage = 256
	legacyChallengeLen  = 20 // ≤3.11 challenge payload; also "legacy mode" marker
	md5DigestLen        = 16
	modernRandomLen     = 40 // Python 3.12+ MESSAGE_LENGTH
	maxDigestNameLen    = len("sha3_384")
)

// newHash returns the hash constructor for an allowed digest name.
func newHash(name string) (func() hash.Hash, bool) {
	switch name {
	case "md5":
		return md5.New, true
	case "sha256":
		return sha256.New, true
	case "sha384":
		return sha512.New384, true
	}
	return sha3Hash(name)
}

func mac(name string, key, msg []byte) ([]byte, error) {
	h, ok := newHash(name)
	if !ok {
		return nil, fmt.Errorf("%w: digest %q unsupported", ErrAuthentication, name)
	}
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil), nil
}

// digestNameAndPayload mirrors Python 3.12's _get_digest_name_and_payload:
// a 16- or 20-byte message is legacy (name ""), otherwise it must start with
// "{name}" for an allowed digest.
func digestNameAndPayload(msg []byte) (string, []byte, error) {
	if len(msg) == legacyChallengeLen || len(msg) == md5DigestLen {
		return "", msg, nil
	}
	if len(msg) > 0 && msg[0] == '{' {
		end := len(msg)
		if end > maxDigestNameLen+2 {
			end = maxDigestNameLen + 2
		}
		if i := bytes.IndexByte(msg[1:end], '}'); i >= 0 {
			name := string(msg[1 : 1+i])
			if isAllowed(name) {
				return name, msg[2+i:], nil
			}
		}
	}
	return "", nil, fmt.Errorf("%w: unsupported message length, missing digest prefix, or unsupported digest (%d bytes)", ErrAuthentication, len(msg))
}

func isAllowed(name string) bool {
	switch Scheme(name) {
	case SchemeMD5, SchemeSHA256, SchemeSHA384, SchemeSHA3256, SchemeSHA3384:
		return true
	}
	return false
}

// response builds the responder's reply to a challenge payload (Python
// 3.12's _create_response): raw HMAC-MD5 for a legacy challenge, else
// "{name}" + HMAC-name over the whole payload (prefix included).
func response(key, msg []byte) ([]byte, error) {
	name, _, err := digestNameAndPayload(msg)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return mac("md5", key, msg)
	}
	d, err := mac(name, key, msg)
	if err != nil {
		return nil, err
	}
	return append([]byte("{"+name+"}"), d...), nil
}

// verify checks a reply against the challenge payload we sent (Python
// 3.12's _verify_challenge), in constant time.
func verify(key, msg, reply []byte) error {
	name, got, err := digestNameAndPayload(reply)
	if err != nil {
		return err
	}
	if name == "" {
		name = "md5"
	}
	want, err := mac(name, key, msg)
	if err != nil {
		return err
	}
	if len(want) != len(got) {
		return fmt.Errorf("%w: expected %q of length %d got %d", ErrAuthentication, name, len(want), len(got))
	}
	if !hmac.Equal(want, got) {
		return fmt.Errorf("%w: digest received was wrong", ErrAuthentication)
	}
	return nil
}

// challengeFor makes a fresh challenge payload for scheme.
func challengeFor(scheme Scheme) ([]byte, error) {
	if scheme == "" {
		scheme = DefaultScheme
	}
	if scheme == SchemeLegacy {
		msg := make([]byte, legacyChallengeLen)
		_, err := rand.Read(msg)
		return msg, err
	}
	if _, ok := newHash(string(scheme)); !ok {
		return nil, fmt.Errorf("listener: unsupported challenge scheme %q", scheme)
	}
	prefix := "{" + string(scheme) + "}"
	msg := make([]byte, len(prefix)+modernRandomLen)
	copy(msg, prefix)
	_, err := rand.Read(msg[len(prefix):])
	return msg, err
}

// DeliverChallenge runs the challenger's half of the handshake (Python's
// deliver_challenge): send a challenge for scheme (DefaultScheme if ""),
// check the reply in constant time, answer #WELCOME# or #FAILURE#. It
// returns an error wrapping ErrAuthentication when the peer's digest is
// wrong or malformed. Only raw bytes are exchanged (nothing is unpickled)
// and every message is capped at 256 bytes (Python: recv_bytes(256)). ctx bounds the
// whole exchange.
func DeliverChallenge(ctx context.Context, c *connection.Conn, authkey []byte, scheme Scheme) error {
	if authkey == nil {
		return errors.New("listener: DeliverChallenge: nil authkey")
	}
	msg, err := challengeFor(scheme)
	if err != nil {
		return err
	}
	if err := c.SendBytes(ctx, append([]byte(challengePrefix), msg...)); err != nil {
		return fmt.Errorf("listener: sending challenge: %w", err)
	}
	reply, err := c.RecvBytesMax(ctx, maxHandshakeMessage)
	if err != nil {
		return fmt.Errorf("listener: receiving challenge reply: %w", err)
	}
	if verr := verify(authkey, msg, reply); verr != nil {
		_ = c.SendBytes(ctx, []byte(failure))
		return fmt.Errorf("listener: %w", verr)
	}
	if err := c.SendBytes(ctx, []byte(welcome)); err != nil {
		return fmt.Errorf("listener: sending welcome: %w", err)
	}
	return nil
}

// AnswerChallenge runs the responder's half (Python 3.12+'s
// answer_challenge): read the challenge, reply with raw HMAC-MD5 to a
// legacy 20-byte challenge or with "{digest}"+HMAC to a prefixed one (md5,
// sha256, sha384, sha3_256, sha3_384), then expect #WELCOME#. A rejected
// digest is an error wrapping ErrAuthentication ("digest sent was
// rejected").
func AnswerChallenge(ctx context.Context, c *connection.Conn, authkey []byte) error {
	if authkey == nil {
		return errors.New("listener: AnswerChallenge: nil authkey")
	}
	m, err := c.RecvBytesMax(ctx, maxHandshakeMessage)
	if err != nil {
		return fmt.Errorf("listener: receiving challenge: %w", err)
	}
	if !bytes.HasPrefix(m, []byte(challengePrefix)) {
		return fmt.Errorf("listener: %w: protocol error, expected challenge (%d bytes)", ErrAuthentication, len(m))
	}
	m = m[len(challengePrefix):]
	if len(m) < legacyChallengeLen {
		return fmt.Errorf("listener: %w: challenge too short: %d bytes", ErrAuthentication, len(m))
	}
	reply, err := response(authkey, m)
	if err != nil {
		return fmt.Errorf("listener: %w", err)
	}
	if err := c.SendBytes(ctx, reply); err != nil {
		return fmt.Errorf("listener: sending challenge reply: %w", err)
	}
	r, err := c.RecvBytesMax(ctx, maxHandshakeMessage)
	if err != nil {
		return fmt.Errorf("listener: receiving welcome: %w", err)
	}
	if string(r) != welcome {
		return fmt.Errorf("listener: %w: digest sent was rejected", ErrAuthentication)
	}
	return nil
}
