"""Human-readable output: compact aligned tables of the metrics, and the failures."""
from __future__ import annotations

GOLD_ROWS = ("extract_hit@1", "extract_hit@1_95ci", "extract_hit@3", "extract_hit@5", "passage_hit@1", "passage_hit@3",
             "passage_hit@5", "mrr@10", "abstention_precision", "abstention_recall", "false_abstention_rate",
             "mean_extract_chars", "disagreement_precision", "disagreement_recall")
BEIR_COLUMNS = ("ndcg@10", "mrr@10", "recall@10", "recall@100")
HELD_OUT = "holdout"  # the split whose failures the text report counts but does not show


def cell(value: object) -> str:
    """A metric as shown in a table: ratios with 3 decimals, counts and lengths as integers, an interval as its
    two ends, ``-`` for none."""
    if value is None:
        return "-"
    if isinstance(value, (tuple, list)):
        return "–".join(cell(end) for end in value)
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:.0f}"
    return str(value)


def aligned(rows: list[list[str]]) -> str:
    """Rows of cells as a table: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def gold_table(by_system: dict[str, dict]) -> str:
    """One split's metrics: a row per metric, a column per system."""
    names = list(by_system)
    rows = [["metric", *names]]
    for metric in GOLD_ROWS:
        if any(metric in by_system[n] for n in names):
            rows.append([metric, *(cell(by_system[n].get(metric)) for n in names)])
    return aligned(rows)


def failure_lines(failures: list[dict]) -> list[str]:
    """Two lines per failed question: what was asked and why it failed, then what came back."""
    lines = []
    for failure in failures:
        lines.append(f"  {failure['id']}: {failure['question']!r} — {'; '.join(failure['reasons'])}")
        if failure["top_text"] is None:
            lines.append("      got nothing")
        else:
            label = "related" if failure["abstained"] else "got"
            lines.append(f"      {label} [{failure['top_article']}] {failure['top_text']!r}")
    return lines


def gold_text(report: dict, *, failures_of: str = "full") -> str:
    """The whole gold-set report: a table per split, then the failures of one system."""
    parts = [f"index {report.get('index', '?')} (version {report.get('index_version', '?')}), "
             f"questions {report.get('questions', '?')}"]
    for split, by_system in report["splits"].items():
        first = next(iter(by_system.values()))
        parts.append(f"\n{split}: {first['answerable']} answerable + {first['unanswerable']} unanswerable questions")
        parts.append(gold_table(by_system))
    seconds = ", ".join(f"{name} {s:.1f} s" for name, s in report["seconds"].items())
    parts.append(f"\ntime: {seconds} (after encoding the questions once: {report.get('encode_seconds', '?')} s, "
                 "model load included)")
    shown = failures_of if failures_of in report["systems"] else report["systems"][-1]
    for split, by_system in report["failures"].items():
        listed = by_system.get(shown, [])
        if split == HELD_OUT:  # kept out of sight while tuning, so that its figures stay an honest estimate
            parts.append(f"\nfailures of {shown} on {split}: {len(listed)} (not listed: held out; --json has them)")
            continue
        parts.append(f"\nfailures of {shown} on {split} ({len(listed)}; --json lists every system's):")
        parts.extend(failure_lines(listed) or ["  none"])
    return "\n".join(parts)


def beir_text(report: dict) -> str:
    """The BEIR report: a row per system and qrels file, a column per metric."""
    sample = report["sample"]
    parts = [f"BEIR {report['benchmark']}: {sample['queries']} queries over {sample['documents']} documents "
             f"({sample['method']})"]
    rows = [["system", "qrels", *BEIR_COLUMNS, "seconds"]]
    for name, result in report["systems"].items():
        for qrels_name, metrics in result["metrics"].items():
            rows.append([name, qrels_name, *(cell(metrics[m]) for m in BEIR_COLUMNS), f"{result['seconds']:.1f}"])
    parts.append(aligned(rows))
    if report.get("index"):
        parts.append(f"index {report['index']['path']} ({report['index']['status']})")
    return "\n".join(parts)
