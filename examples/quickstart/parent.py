import mpwire  # pip install ./python (from a checkout of github.com/mpwire/mpwire)

if __name__ == "__main__":
    ctx = mpwire.get_context()  # "spawn": the Queues of Linux's default "fork" context cannot reach a Go worker
    tasks, results = ctx.Queue(), ctx.Queue()
    worker = mpwire.GoProcess("./worker", args=(tasks, results))  # a Process whose child is a Go program
    worker.start()
    for n in [1, 2, 3, None]:  # None: no more work
        tasks.put(n)
    print([results.get(timeout=10) for _ in range(3)])  # [1, 4, 9]
    worker.join(10)
