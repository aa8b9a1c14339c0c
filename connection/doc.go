// Package connection implements multiprocessing.connection.Connection's wire
// format: length-prefixed frames over sockets, pipes and inherited file
// descriptors, with Send/Recv of pickled values.
package connection
