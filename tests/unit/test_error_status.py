"""An error's HTTP status and fault come from its shape in the service's model."""

import botocore.session

from kumo.aws.errors import AwsError

SESSION = botocore.session.get_session()


def test_a_shape_marked_only_fault_is_a_server_error():
    # Logs' InternalServerException carries "fault": true and no "error" block.
    status, sender, shape = AwsError("InternalServerException", "x").resolve(SESSION.get_service_model("logs"))
    assert shape is not None and (status, sender) == (500, False)


def test_an_http_status_in_the_model_wins():
    status, sender, _ = AwsError("InternalError", "x").resolve(SESSION.get_service_model("sns"))
    assert (status, sender) == (500, False)


def test_a_client_error_stays_400():
    status, sender, _ = AwsError("ResourceNotFoundException", "x").resolve(SESSION.get_service_model("logs"))
    assert (status, sender) == (400, True)
