// Package process speaks multiprocessing's spawn start method in both
// directions: Go workers started by Python parents, and Python children
// started by Go.
package process
