// Package pickle encodes and decodes Python pickles (protocols 0–5), the
// payload of every multiprocessing message. It knows nothing about sockets.
package pickle
