"""CloudWatch's operations; the gateway finds each by its snake_case name."""

from .alarm_put import put_composite_alarm, put_metric_alarm  # noqa: F401
from .alarms import (  # noqa: F401
    delete_alarms, describe_alarm_history, describe_alarms, describe_alarms_for_metric, disable_alarm_actions,
    enable_alarm_actions, set_alarm_state,
)
from .dashboards import (  # noqa: F401
    delete_dashboards, get_dashboard, list_dashboards, list_tags_for_resource, put_dashboard, tag_resource,
    untag_resource,
)
from .data_api import get_metric_data  # noqa: F401
from .metric_api import get_metric_statistics, list_metrics, put_metric_data  # noqa: F401
from .anomaly import delete_anomaly_detector, describe_anomaly_detectors, put_anomaly_detector  # noqa: F401
from .metric_streams import (  # noqa: F401
    delete_metric_stream, get_metric_stream, list_metric_streams, put_metric_stream, start_metric_streams,
    stop_metric_streams,
)
from .widget_image import get_metric_widget_image  # noqa: F401
