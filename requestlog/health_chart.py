"""A small server-side SVG chart of successes and failures per hour (pure). Its hours read as every Workbench date
does, `2026-12-07 18:00:00 UTC`: the first and last label name their day."""

from datetime import datetime
from html import escape

WIDTH, HEIGHT, BAR_GAP, LABEL_HEIGHT = 480, 120, 2, 16
SUCCESS_COLOUR, FAILURE_COLOUR = "#2e7d32", "#c62828"


def _when(moment: datetime) -> str:
    """The Workbench's one date format (config/formats: "Y-m-d H:i:s T"), in the moment's own time zone."""
    return f"{moment:%Y-%m-%d %H:%M:%S} {moment.tzname() or 'UTC'}"


def health_svg(buckets: list[tuple[datetime, int, int]]) -> str:
    """Stacked bars, one per hour: successes (green) under failures (red); each bar titled with its counts."""
    plot_height = HEIGHT - LABEL_HEIGHT
    peak = max((successes + failures for _, successes, failures in buckets), default=0) or 1
    bar_width = WIDTH / max(len(buckets), 1)
    bars = []
    for index, (hour, successes, failures) in enumerate(buckets):
        x = index * bar_width
        success_height = plot_height * successes / peak
        failure_height = plot_height * failures / peak
        title = escape(f"{_when(hour)}: {successes} succeeded, {failures} failed")
        bars.append(
            f"<g><title>{title}</title>"
            f'<rect x="{x:.1f}" y="{plot_height - success_height:.1f}" width="{bar_width - BAR_GAP:.1f}" '
            f'height="{success_height:.1f}" fill="{SUCCESS_COLOUR}"/>'
            f'<rect x="{x:.1f}" y="{plot_height - success_height - failure_height:.1f}" '
            f'width="{bar_width - BAR_GAP:.1f}" height="{failure_height:.1f}" fill="{FAILURE_COLOUR}"/></g>'
        )
    first, last = (buckets[0][0], buckets[-1][0]) if buckets else (None, None)
    labels = (
        f'<text x="0" y="{HEIGHT - 3}" font-size="11" class="health-first">{escape(_when(first))}</text>'
        f'<text x="{WIDTH - 2}" y="{HEIGHT - 3}" font-size="11" text-anchor="end" class="health-last">'
        f"{escape(_when(last))}</text>"
        if buckets
        else ""
    )
    total_successes = sum(successes for _, successes, _ in buckets)
    total_failures = sum(failures for _, _, failures in buckets)
    summary = escape(f"Last {len(buckets)} hours: {total_successes} succeeded, {total_failures} failed")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" class="outflow-health"><title>{summary}</title>'
        f'<line x1="0" y1="{plot_height}" x2="{WIDTH}" y2="{plot_height}" stroke="#999"/>'
        + "".join(bars)
        + labels
        + "</svg>"
    )
