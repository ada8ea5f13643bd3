"""The benchmark's table: one column per corpus, each target's PASS/FAIL next to its measurement."""
from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.ann import TARGET_P50_MS, TARGET_RECALL

Row = tuple[str, Callable[[dict], str]]
# Notes: ingest wall is the whole `python -m ingest` process; texts/s is texts encoded over that wall, against the
# bare model (sentence-transformers) and against the ONNX export ingest encodes with, on the same texts. Ratios
# compare answer()'s percentile with the yardstick's same percentile.
# Re-ingest times are the `python -m ingest` process (in brackets: ingest() itself). Medians of --repeat runs.


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _ingest(r: dict) -> str:
    i = r["ingest"]
    return f"{i['seconds']:.1f} s" + (" (cached)" if i.get("reused") else "")


def _throughput(r: dict, yardstick: str = "bare") -> str:
    i, bare = r["ingest"], r["ingest"][yardstick]
    ingest_rate = i["summary"]["encoded"] / i["seconds"]
    ratio = ingest_rate / bare["per_second"]
    return f"{ingest_rate:.1f} / {bare['per_second']:.1f} = {ratio:.2f}" + (
        f" {verdict(ratio >= 0.9)}" if yardstick == "bare" else "")


def _ms(r: dict, key: str) -> str:
    p = r["latency"][key]
    return f"{p['p50']:.0f} / {p['p95']:.0f} / {p['p99']:.0f}"


def _ratio(r: dict, key: str, limits: tuple[float, float] | None) -> str:
    lat = r["latency"]
    p50, p95 = (lat["answer_ms"][p] / lat[key][p] for p in ("p50", "p95"))
    if limits is None:
        return f"{p50:.2f}x / {p95:.2f}x"
    return f"{p50:.2f}x {verdict(p50 <= limits[0])} / {p95:.2f}x {verdict(p95 <= limits[1])}"


def _unchanged(r: dict) -> str:
    runs = [x["unchanged"] for x in r["reingest"]]
    encoded = max(x["encoded"] for x in runs)
    return f"{median(runs, 'seconds'):.2f} s, {encoded} encoded {verdict(encoded == 0)}"


def _edit(r: dict) -> str:
    runs = [x["edit"] for x in r["reingest"]]
    return f"{median(runs, 'seconds'):.1f} s ({median(runs, 'inside_seconds'):.1f} s), {runs[0]['encoded']} encoded"


def _edit_limit(r: dict, kind: str) -> str:
    runs = [x["edit"] for x in r["reingest"]]
    wall = median(runs, "seconds")
    encode = statistics.median(x["article_encode"][f"{kind}_seconds"] for x in runs)
    return f"2 + {encode:.2f} = {2 + encode:.1f} s {verdict(wall <= 2 + encode)}"


def _cold(r: dict, kind: str) -> str:
    runs = r.get("cold_start", {}).get(kind)
    if not runs:
        return "-"
    seconds = median(runs, "seconds")
    extra = f" (box {median(runs, 'box_seconds'):.1f} s)" if kind == "page" else ""
    return f"{seconds:.1f} s{extra} {verdict(seconds <= 5)}"


def _load(r: dict) -> str:
    steps = {"ingest": r["ingest"].get("load"), **r.get("load", {})}
    return ", ".join(f"{name} {s['median']:.1f}" for name, s in steps.items() if s)


ROWS: list[Row] = [
    ("articles / chunks / sentences", lambda r: "{articles} / {chunks} / {sentences}".format(**r["ingest"]["summary"])),
    ("ingest: wall, fresh index", _ingest),
    ("  texts encoded", lambda r: str(r["ingest"]["summary"]["encoded"])),
    ("  chunks per second", lambda r: f"{r['ingest']['summary']['chunks'] / r['ingest']['seconds']:.1f}"),
    ("  texts/s: ingest / bare >=0.9", _throughput),
    ("  bare: texts of total, s", lambda r: "{texts} of {total}, {seconds:.1f} s".format(**r["ingest"]["bare"])),
    ("  texts/s: ingest / bare ONNX", lambda r: _throughput(r, "bare_onnx")),
    ("  index size on disk", lambda r: f"{r['ingest']['index_mb']:.1f} MB"),
    ("  peak RSS", lambda r: f"{r['ingest']['max_rss_mb']:.0f} MB"),
    ("answer() ms p50/p95/p99", lambda r: _ms(r, "answer_ms")),
    ("  questions (abstained)", lambda r: "{n} ({a})".format(n=r["latency"]["answer_ms"]["n"],
                                                             a=r["latency"]["abstained"])),
    ("  encoder calls / texts per answer", lambda r: "{c:.2f} / {t:.2f}".format(
        c=r["latency"]["encoder_calls_per_answer"], t=r["latency"]["texts_per_answer"])),
    ("  bare model query encode ms", lambda r: _ms(r, "encode_ms")),
    ("  ONNX query encode ms", lambda r: _ms(r, "query_encode_ms")),
    ("  plain baseline ms", lambda r: _ms(r, "baseline_ms")),
    ("  answer/encode p50<=2 p95<=3", lambda r: _ratio(r, "encode_ms", (2, 3))),
    ("  answer/ONNX encode p50 / p95", lambda r: _ratio(r, "query_encode_ms", None)),
    ("  answer/baseline p50 / p95", lambda r: _ratio(r, "baseline_ms", None)),
    ("re-ingest unchanged", _unchanged),
    ("re-ingest one edit (ingest())", _edit),
    ("  article encode cold / warm", lambda r: "{texts} texts, {c:.1f} / {w:.2f} s".format(
        texts=r["reingest"][0]["edit"]["article_encode"]["texts"],
        c=statistics.median(x["edit"]["article_encode"]["cold_seconds"] for x in r["reingest"]),
        w=statistics.median(x["edit"]["article_encode"]["warm_seconds"] for x in r["reingest"]))),
    ("  edit <= 2 s + cold encode", lambda r: _edit_limit(r, "cold")),
    ("  edit <= 2 s + warm encode", lambda r: _edit_limit(r, "warm")),
    ("cold start CLI <=5 s", lambda r: _cold(r, "cli")),
    ("cold start page <=5 s", lambda r: _cold(r, "page")),
    ("peak RSS: CLI", lambda r: f"{median(r['cold_start']['cli'], 'max_rss_mb'):.0f} MB"),
    ("load avg (1-min median)", _load),
]


def _cell(cell: Callable[[dict], str], result: dict) -> str:
    try:
        return cell(result)
    except (KeyError, TypeError, ZeroDivisionError, IndexError, ValueError, statistics.StatisticsError):
        return "-"


def corpus_table(results: list[dict]) -> str:
    """Rows of measurements, a column per corpus; PASS/FAIL follows each measurement that has a target."""
    rows = [["", *(r["corpus"] for r in results)]]
    rows += [[label, *(_cell(cell, r) for r in results)] for label, cell in ROWS]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join(" | ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip() for row in rows)


def ann_table(results: list[dict]) -> str:
    lines = [f"ANN, k=10, single-query p50; target p50 <= {TARGET_P50_MS:.0f} ms at recall@10 >= {TARGET_RECALL}"]
    for data in results:
        lines.append(f"{data['data']}: n={data['n']}, exact flat p50 {data['exact']['p50_ms']:.0f} ms, "
                     f"process peak RSS {data['peak_rss_mb']:.0f} MB")
        for run in data["runs"]:
            c = run["chosen"]
            passed = run["reached_recall"] and c["p50_ms"] <= TARGET_P50_MS
            setting = "efSearch" if run["index"].startswith("HNSW") else "nprobe"
            lines.append(f"  {run['index']}: build {run['build_seconds']:.0f} s, +{run['memory_mb']:.0f} MB; "
                         f"{setting}={c['value']}: recall {c['recall']:.3f}, p50 {c['p50_ms']:.2f} ms, "
                         f"p95 {c['p95_ms']:.2f} ms {verdict(passed)}")
            own = run.get("index_setting")
            if own:
                lines.append(f"    the index's own nprobe={own['value']}: recall {own['recall']:.3f}, "
                             f"p50 {own['p50_ms']:.2f} ms, p95 {own['p95_ms']:.2f} ms")
            sweep = ", ".join(f"{s['value']}:{s['recall']:.2f}/{s['p50_ms']:.1f}ms" for s in run["sweep"])
            lines.append(f"    sweep ({setting}:recall/p50) {sweep}")
    return "\n".join(lines)
