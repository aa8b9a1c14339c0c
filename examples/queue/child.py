"""The seed program's child, unchanged: it puts 'Python' on the queue.

A Go parent (main.go) starts it through multiprocessing's spawn protocol
with a Go-created Queue as its argument; multiprocessing rebuilds a real
multiprocessing.Queue from it.
"""
import multiprocessing


def f(q):
    print('(%s) child process starts putting data...' % multiprocessing.current_process().pid, flush=True)
    q.put('Python')
