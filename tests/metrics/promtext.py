"""A strict reader of the Prometheus text exposition format 0.0.4
(https://prometheus.io/docs/instrumenting/exposition_formats/), for the
metrics tests: it refuses what a lenient parser would let through
(a sample before its TYPE, a family split in two, a bad name or escape,
a counter without _total, buckets that are not cumulative or lack +Inf,
a _count that differs from the +Inf bucket, a duplicate series).

parse(text) -> {(name, frozenset(labels.items())): float}, families
where families is {family: {"type": t, "help": h}}. Raises ValueError."""
import math
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def _value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?", text):
        raise ValueError("bad value %r" % text)
    return float(text)


def _labels(text, line):
    """text after '{' up to the end of the line; returns (labels, rest)."""
    labels = {}
    i = 0
    while True:
        if text[i] == "}":
            return labels, text[i + 1:]
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", text[i:])
        if not m:
            raise ValueError("bad label in %r" % line)
        name = m.group(1)
        i += m.end()
        value = []
        while text[i] != '"':
            c = text[i]
            if c == "\\":
                nxt = text[i + 1]
                if nxt not in ('\\', '"', 'n'):
                    raise ValueError("bad escape in %r" % line)
                value.append("\n" if nxt == "n" else nxt)
                i += 2
                continue
            if c == "\n":
                raise ValueError("raw line feed in %r" % line)
            value.append(c)
            i += 1
        i += 1
        if name in labels:
            raise ValueError("label %s twice in %r" % (name, line))
        labels[name] = "".join(value)
        if text[i] == ",":
            i += 1
        elif text[i] != "}":
            raise ValueError("expected , or } in %r" % line)


def _family_of(name, families):
    for suffix in ("_bucket", "_sum", "_count", ""):
        if suffix and not name.endswith(suffix):
            continue
        base = name[:-len(suffix)] if suffix else name
        if base in families and (suffix == "" or families[base]["type"] == "histogram"):
            return base, suffix
    raise ValueError("sample %s before its TYPE" % name)


def parse(text):
    if not text.endswith("\n"):
        raise ValueError("the text must end with a line feed")
    families, samples, done, current = {}, {}, set(), None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], *line[7:].split(" ", 1)
            if not NAME.match(name):
                raise ValueError("bad name %r" % name)
            if name in done:
                raise ValueError("family %s split" % name)
            fam = families.setdefault(name, {})
            if kind == "TYPE":
                if rest not in TYPES or "type" in fam:
                    raise ValueError("bad TYPE line %r" % line)
                if rest == "counter" and not name.endswith("_total"):
                    raise ValueError("counter %s without _total" % name)
                fam["type"] = rest
            else:
                if re.search(r"\\[^\\n]", rest):
                    raise ValueError("bad escape in HELP %r" % line)
                fam["help"] = rest
            if current is not None and current != name:
                done.add(current)
            current = name
            continue
        if line.startswith("#") or not line:
            raise ValueError("unexpected line %r" % line)
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        name = m.group(0) if m else ""
        rest = line[len(name):]
        labels = {}
        if rest.startswith("{"):
            labels, rest = _labels(rest[1:], line)
        if not rest.startswith(" ") or " " in rest[1:]:
            raise ValueError("bad sample line %r (a timestamp is not expected)" % line)
        base, suffix = _family_of(name, families)
        if base != current:
            raise ValueError("sample %s outside its family" % name)
        if "type" not in families[base]:
            raise ValueError("family %s has no TYPE" % base)
        if ("le" in labels) != (suffix == "_bucket"):
            raise ValueError("le label misplaced in %r" % line)
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise ValueError("duplicate series %r" % line)
        samples[key] = _value(rest[1:])
    _check_histograms(samples, families)
    return samples, families


def _check_histograms(samples, families):
    for base, fam in families.items():
        if fam.get("type") != "histogram":
            continue
        series = {}
        for (name, labels), v in samples.items():
            if name == base + "_bucket":
                d = dict(labels)
                le = d.pop("le")
                series.setdefault(frozenset(d.items()), []).append((_value(le), v))
        for labels, buckets in series.items():
            buckets.sort()
            if buckets[-1][0] != math.inf:
                raise ValueError("%s%s has no +Inf bucket" % (base, dict(labels)))
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                raise ValueError("%s buckets not cumulative" % base)
            if samples.get((base + "_count", labels)) != counts[-1]:
                raise ValueError("%s_count differs from the +Inf bucket" % base)
            if (base + "_sum", labels) not in samples:
                raise ValueError("%s_sum missing" % base)
