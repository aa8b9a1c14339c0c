package python

// ForgetDir makes the next Dir call look at the cache directory again, as a
// new process would.
func ForgetDir() {
	dirOnce.Lock()
	dirOnce.dir = ""
	dirOnce.Unlock()
}
