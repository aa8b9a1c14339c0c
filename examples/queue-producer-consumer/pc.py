"""The seed's producer and consumer (sleeps shortened); main.go runs them
beside Go producers and consumers on one Go-created Queue(10)."""
import random
import time


def producer(name, queue, pause):
    print(name, flush=True)
    while True:
        new_good = random.randint(1, 10)
        if not queue.full():
            queue.put(new_good)
            print("%s (Python) produced %s" % (name, new_good), flush=True)
        else:
            break
        time.sleep(pause)
    print("%s (Python): the queue is full" % name, flush=True)


def consumer(name, queue, pause):
    print(name, flush=True)
    while True:
        if not queue.empty():
            good = queue.get()
            print("%s (Python) consumed %s" % (name, good), flush=True)
        else:
            break
        time.sleep(pause)
    print("%s (Python): nothing left to consume" % name, flush=True)


def slow_consumer(queue, n, pause):
    for _ in range(n):
        time.sleep(pause)
        # one write per line: Go prints to the same stdout
        print("slow Python consumer got %r\n" % (queue.get(),), end="", flush=True)
