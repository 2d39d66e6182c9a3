"""``resolve:ssm:`` image ids: an SSM parameter names the AMI, resolved when the instance launches.

RunInstances takes ``resolve:ssm:<name>``, ``resolve:ssm:<name>:<version>`` or ``resolve:ssm:<name>:<label>``
in place of an AMI id; launch templates keep the reference as given and resolve it at each launch (and in
DescribeLaunchTemplateVersions with ResolveAlias), as AWS does.  A launch template takes only parameters of
data type aws:ec2:image (or AWS's public ones), checked when the version is created.
"""

from __future__ import annotations

from ...aws.errors import AwsError
from ..ssm import internal as ssm


def is_alias(image_id) -> bool:
    return ssm.is_reference(image_id)


def resolve(ctx, image_id: str, for_template: bool = False) -> str:
    """The AMI id the reference names now, or EC2's SsmInvalidParameter refusal."""
    found = ssm.resolve_reference(ctx.kumo, ctx.account, ctx.region, image_id)
    if found is None:
        raise AwsError("SsmInvalidParameter", f"The following aliases are invalid: {image_id}")
    if found.type != "String":
        raise AwsError("SsmInvalidParameter", f"Unsupported parameter type {found.type}. The following parameter "
                                              f"types are supported: String")
    if for_template and found.data_type != "aws:ec2:image" and not found.public:
        raise AwsError("SsmInvalidParameter", "Unsupported data type. The following parameter data types are "
                                              "supported: aws:ec2:image")
    return found.value
