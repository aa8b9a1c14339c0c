"""The seed's writer and reader, unchanged; main.go pairs each with a Go peer."""
import os
import random
import time


def write(q):
    print('Process to write (Python): %s' % os.getpid(), flush=True)
    for value in ['A', 'B', 'C']:
        print('Put %s to queue...' % value, flush=True)
        q.put(value)
        time.sleep(random.random() / 5)


def read(q):
    print('Process to read (Python): %s' % os.getpid(), flush=True)
    while True:
        value = q.get(True)
        print('Get %s from queue.' % value, flush=True)
