"""CPU time of processes from /proc, for the benchmarks' "CPU per message"
figures: bench/milter.py reads the filter's, bench/postfix.py the filter's
and Postfix's. Linux only; figures in seconds, at the kernel's clock-tick
resolution (10 ms at USER_HZ 100), so measure over enough messages."""
import os

TICK = os.sysconf("SC_CLK_TCK")


def _fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    # the command name (field 2) may hold spaces and parentheses
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid, children=False):
    """utime + stime of pid (all its threads), in seconds; with children,
    also what its exited and reaped children used (cutime + cstime). 0.0
    when the process is gone."""
    try:
        f = _fields(pid)
    except (OSError, ValueError):
        return 0.0
    # fields 14-17 of proc(5), counted from 3 after the name
    ticks = int(f[11]) + int(f[12])
    if children:
        ticks += int(f[13]) + int(f[14])
    return ticks / TICK


def user_seconds(pid):
    """utime of pid (all its threads), in seconds: the part of
    cpu_seconds() spent in the program itself rather than the kernel."""
    try:
        return int(_fields(pid)[11]) / TICK
    except (OSError, ValueError):
        return 0.0


def pids_with_env(entry):
    """The pids whose environment holds exactly entry ("NAME=value")."""
    want = entry.encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                if want in f.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            pass
    return found


def group_cpu_seconds(root_pid, env_entry):
    """CPU seconds of a daemon family: root_pid with its reaped children,
    plus every live process marked by env_entry (Postfix's daemons inherit
    MAIL_CONFIG from master). A difference of two readings is exact for
    the family as long as root_pid reaps its children, which master does:
    a child that exits in between moves from "live" to root's cutime."""
    total = cpu_seconds(root_pid, children=True)
    for pid in pids_with_env(env_entry):
        if pid != root_pid:
            total += cpu_seconds(pid)
    return total
