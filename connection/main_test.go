package connection_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/mpwire/mpwire/connection"
)

// TestMain doubles as the Go side of conn_pypipe.py: with
// MPWIRE_CONN_HELPER=echo the test binary wraps the fds Python handed it
// (MPWIRE_ECHO_RFD / MPWIRE_ECHO_WFD) and echoes messages until EOF.
func TestMain(m *testing.M) {
	if os.Getenv("MPWIRE_CONN_HELPER") == "echo" {
		if err := echoHelper(); err != nil {
			fmt.Fprintln(os.Stderr, "echo helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func echoHelper() error {
	rfd, err := strconv.Atoi(os.Getenv("MPWIRE_ECHO_RFD"))
	if err != nil {
		return err
	}
	wfd, err := strconv.Atoi(os.Getenv("MPWIRE_ECHO_WFD"))
	if err != nil {
		return err
	}
	var r, w *connection.Conn
	if rfd == wfd {
		if r, err = connection.FromFD(rfd, true, true); err != nil {
			return err
		}
		w = r
	} else {
		if r, err = connection.FromFD(rfd, true, false); err != nil {
			return err
		}
		if w, err = connection.FromFD(wfd, false, true); err != nil {
			return err
		}
	}
	defer r.Close()
	defer w.Close()
	for {
		msg, err := r.RecvBytes(context.Background())
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := w.SendBytes(context.Background(), msg); err != nil {
			return err
		}
	}
}
