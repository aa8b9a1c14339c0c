// Package listener implements multiprocessing.connection.Listener and Client:
// tcp, unix and abstract addresses and both authentication handshakes
// (legacy HMAC-MD5 and the {sha256} scheme of Python 3.12+).
package listener
