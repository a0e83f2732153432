"""checklib.py - how every check of the kit ends: each problem on its own line under the
check's name, a summary line, and exit status 1 when there was any problem."""


def finish(name, problems, summary):
    for p in problems:
        print(f"{name}: {p}")
    print(f"{name}: {summary}")
    return 1 if problems else 0
