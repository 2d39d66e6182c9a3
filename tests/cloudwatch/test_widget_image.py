"""GetMetricWidgetImage draws a real PNG of the widget's metrics (boto3)."""

import json

import pytest
from botocore.exceptions import ClientError

from kumo.services.cloudwatch import png
from kumo.services.cloudwatch.widget_image import PALETTE


def test_widget_image_draws_the_series(cw, kumo_server):
    now = kumo_server.kumo.clock.now()
    cw.put_metric_data(Namespace="W/App", MetricData=[
        {"MetricName": "Requests", "Dimensions": [{"Name": "Site", "Value": "a"}], "Value": v,
         "Timestamp": now - 3000 + i * 300} for i, v in enumerate([5, 9, 3, 12, 7, 10, 4, 8, 6, 11])])
    widget = {"metrics": [["W/App", "Requests", "Site", "a", {"stat": "Sum"}]], "width": 320, "height": 200,
              "start": "-PT1H", "end": "P0D", "period": 300}
    blob = cw.get_metric_widget_image(MetricWidget=json.dumps(widget))["MetricWidgetImage"]
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    image = png.decode(blob)
    assert (image.width, image.height) == (320, 200)
    line = sum(1 for y in range(image.height) for x in range(image.width) if image.get(x, y) == PALETTE[0])
    assert line > 200  # the series' line, in the first colour of the palette
    # The line spans the plot: its pixels reach both the left and the right half.
    xs = [x for y in range(image.height) for x in range(image.width) if image.get(x, y) == PALETTE[0]]
    assert min(xs) < 160 < max(xs)

    empty = png.decode(cw.get_metric_widget_image(MetricWidget=json.dumps(
        {**widget, "metrics": [["W/App", "Nothing"]]}))["MetricWidgetImage"])
    assert not any(empty.get(x, y) == PALETTE[0] for y in range(200) for x in range(320))

    for bad in ("not json", json.dumps({**widget, "width": 5000}), json.dumps({**widget, "metrics": []})):
        with pytest.raises(ClientError) as e:
            cw.get_metric_widget_image(MetricWidget=bad)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
