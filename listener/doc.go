// Package listener implements multiprocessing.connection.Listener and
// Client: Listen, Accept and Dial over tcp, unix-path and Linux abstract
// sockets, with Python's mutual authentication (docs/spec.md#handshake,
// docs/spec.md#addresses).
//
// Listen and Dial use the default settings; Config's methods of the same
// names take settings (scheme, handshake limits, the connection.Config of
// every Conn). Accept and Dial take a context and return an error matching
// ctx.Err() when it ends.
//
// # Authentication
//
// With an authkey both sides challenge each other in Python's order (the
// server first). DeliverChallenge sends a {sha256} challenge by default —
// what Python 3.12+ sends — or any of legacy/md5/sha256/sha384/sha3_256/
// sha3_384 (Config.Scheme). Like Python 3.12+, the challenger accepts a
// raw 16-byte HMAC-MD5 reply, which is how Python 3.8–3.11 clients answer.
// AnswerChallenge answers a legacy 20-byte challenge with raw HMAC-MD5 and a
// {digest}-prefixed one with the prefixed MAC. A nil authkey means no
// handshake at all, as Python's authkey=None; a non-nil empty key is a real
// key (Python 3.13 semantics).
//
// # Limits and security
//
// Handshake messages are capped at 256 bytes and nothing is unpickled
// before authentication completes; digests are compared with hmac.Equal.
// Each accepted connection authenticates in its own goroutine under
// Config.HandshakeTimeout (default 20s), at most Config.MaxHandshakes (64)
// at a time, so a client that connects and stalls never blocks Accept for
// others; Accept returns only authenticated connections. A client arriving
// when MaxHandshakes handshakes are in progress waits for one to finish;
// if one has been in progress for longer than EvictAfter (1s), the oldest
// such handshake of the peer host with the most is dropped
// (ErrTooManyHandshakes) to make room. A flood of silent clients thus
// delays an honest one by about EvictAfter per accepted connection rather
// than by the handshake timeout, and a burst of honest clients larger
// than MaxHandshakes (many processes dialing at once) is served, not
// dropped. Config.Logger (a *slog.Logger, nil for silence)
// records rejected and dropped handshakes with the peer's address, as
// Config.OnHandshakeError reports them to code. A wrong key fails
// on both sides at once with ErrAuthentication. The HMAC handshake proves
// knowledge of the key but does not encrypt or protect the traffic that
// follows: use unix sockets or a trusted network.
package listener
