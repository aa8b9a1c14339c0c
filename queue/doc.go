// Package queue puts and gets on real multiprocessing Queues, SimpleQueues and
// JoinableQueues: a one-way pipe guarded by named POSIX semaphores shared with
// Python processes.
package queue
