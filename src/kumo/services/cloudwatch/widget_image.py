"""GetMetricWidgetImage: a line chart of the widget's metrics, drawn by kumo as a PNG (png.py).

The widget JSON is AWS's (metrics rows with "." repeating the row above and an options object last,
width/height, period, stat, start/end as ISO 8601 durations relative to now or timestamps).  kumo draws a
white canvas, a light plot frame with horizontal grid lines, and each series as a 2-pixel line in AWS's
palette order (or the row's "color"); a series with one datapoint is a dot.  Text (title, legend, axis
labels) is not drawn.
"""

from __future__ import annotations

import datetime as _dt
import json
import re

from ...aws.errors import AwsError
from . import png
from .metric_api import invalid
from .queries import metric_series
from .runtime import service
from .stats import valid_statistic

PALETTE = ((0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (0x2c, 0xa0, 0x2c), (0xd6, 0x27, 0x28), (0x94, 0x67, 0xbd),
           (0x8c, 0x56, 0x4b), (0xe3, 0x77, 0xc2), (0x7f, 0x7f, 0x7f), (0xbc, 0xbd, 0x22), (0x17, 0xbe, 0xcf))
FRAME, GRID = (0xaa, 0xaa, 0xaa), (0xee, 0xee, 0xee)
MAX_SIDE = 2000
_DURATION = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _when(text, now: float) -> float:
    m = _DURATION.match(str(text))
    if m and any(m.group(i) for i in range(2, 7)):
        w, d, h, mi, s = (int(m.group(i) or 0) for i in range(2, 7))
        seconds = w * 604800 + d * 86400 + h * 3600 + mi * 60 + s
        return now - seconds if m.group(1) != "+" else now + seconds
    try:
        return _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise invalid(f"The value {text} in MetricWidget is not a valid time or ISO 8601 duration.")


def _rows(widget: dict) -> list[tuple[dict, dict]]:
    """(metric, options) of each row, with "." filled from the row above."""
    out, previous = [], []
    for row in widget.get("metrics") or []:
        if not isinstance(row, list):
            raise invalid("Each entry of metrics in MetricWidget must be an array.")
        options = row[-1] if row and isinstance(row[-1], dict) else {}
        names = [x for x in row if not isinstance(x, dict)]
        filled = [previous[i] if x == "." and i < len(previous) else x for i, x in enumerate(names)]
        previous = filled
        if options.get("expression"):
            raise invalid("kumo draws metrics; expressions in a metric widget are not supported.")
        if len(filled) < 2 or len(filled) % 2:
            raise invalid("A metric row must be [namespace, metric name, dimension name, value, ...].")
        dims = [{"Name": filled[i], "Value": filled[i + 1]} for i in range(2, len(filled), 2)]
        out.append(({"Namespace": filled[0], "MetricName": filled[1], "Dimensions": dims}, options))
    return out


def get_metric_widget_image(ctx, p):
    try:
        widget = json.loads(p["MetricWidget"])
    except ValueError:
        raise invalid("The parameter MetricWidget must be a valid JSON object.")
    if not isinstance(widget, dict):
        raise invalid("The parameter MetricWidget must be a valid JSON object.")
    fmt = (p.get("OutputFormat") or "png").lower()
    if fmt != "png":
        raise invalid(f"The value {p.get('OutputFormat')} for parameter OutputFormat is invalid: kumo renders png.")
    width, height = widget.get("width", 600), widget.get("height", 395)
    if not all(isinstance(v, int) and 1 <= v <= MAX_SIDE for v in (width, height)):
        raise invalid(f"width and height in MetricWidget must be whole numbers from 1 to {MAX_SIDE}.")
    rows = _rows(widget)
    if not rows:
        raise AwsError("InvalidParameterValue", "The MetricWidget must have at least one metric.")
    now = ctx.now()
    start, end = _when(widget.get("start", "-PT3H"), now), _when(widget.get("end", "P0D"), now)
    if start >= end:
        raise invalid("The start of MetricWidget must be before its end.")
    period = widget.get("period", 300)
    series = []
    for metric, options in rows:
        stat = options.get("stat") or widget.get("stat") or "Average"
        if not valid_statistic(stat):
            raise invalid(f"The statistic {stat} in MetricWidget is not valid.")
        query = {"Metric": metric, "Period": options.get("period") or period, "Stat": stat}
        points = sorted((t, v) for t, (v, _n) in metric_series(service(ctx).metrics, ctx.scope, query, start,
                                                                  end).items())
        if options.get("visible", True):
            series.append((points, options.get("color")))
    return {"MetricWidgetImage": draw(series, width, height, start, end, widget.get("yAxis") or {})}


def _color(text, i: int):
    if isinstance(text, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        return tuple(int(text[k:k + 2], 16) for k in (1, 3, 5))
    return PALETTE[i % len(PALETTE)]


def draw(series, width: int, height: int, start: float, end: float, y_axis: dict) -> bytes:
    image = png.Raster(width, height)
    left, right, top, bottom = min(40, width // 8), max(width - 10, 1), min(20, height // 8), max(height - 20, 1)
    values = [v for points, _ in series for _, v in points]
    lo = y_axis.get("left", {}).get("min", min(values) if values else 0.0)
    hi = y_axis.get("left", {}).get("max", max(values) if values else 1.0)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    for k in range(1, 5):
        y = top + (bottom - top) * k // 5
        image.line(left, y, right, y, GRID)
    image.line(left, bottom, right, bottom, FRAME)
    image.line(left, top, left, bottom, FRAME)

    def at(t: float, v: float) -> tuple[int, int]:
        x = left + round((t - start) / (end - start) * (right - left))
        y = bottom - round((min(max(v, lo), hi) - lo) / (hi - lo) * (bottom - top))
        return x, y

    for i, (points, color) in enumerate(series):
        rgb = _color(color, i)
        pixels = [at(t, v) for t, v in points]
        if len(pixels) == 1:
            image.line(*pixels[0], *pixels[0], rgb, thickness=3)
        for (x0, y0), (x1, y1) in zip(pixels, pixels[1:]):
            image.line(x0, y0, x1, y1, rgb, thickness=2)
    return image.png()
