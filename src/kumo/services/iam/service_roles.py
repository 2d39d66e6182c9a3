"""Service-linked roles: roles a service creates for itself, under /aws-service-role/<service>/.

Names follow AWS's per-service names (AWSServiceRoleFor<Service>); a custom
suffix is taken only by the services that take one, as ``<name>_<suffix>``.
The role trusts only its service, carries the service's AWS managed policy
where kumo's catalogue has it, and only DeleteServiceLinkedRole removes it.
"""

from __future__ import annotations

import json
import uuid

from ...aws.errors import AwsError
from ...core import ids
from .aws_managed import catalogue
from .model import ROLE, table

# service principal -> (role name, AWS managed policy it carries, custom suffix allowed)
SERVICES = {
    "autoscaling.amazonaws.com": ("AWSServiceRoleForAutoScaling", "AutoScalingServiceRolePolicy", True),
    "elasticloadbalancing.amazonaws.com": ("AWSServiceRoleForElasticLoadBalancing",
                                           "AWSElasticLoadBalancingServiceRolePolicy", False),
    "ecs.amazonaws.com": ("AWSServiceRoleForECS", "AmazonECSServiceRolePolicy", False),
    "ssm.amazonaws.com": ("AWSServiceRoleForAmazonSSM", "AmazonSSMServiceRolePolicy", False),
    "spot.amazonaws.com": ("AWSServiceRoleForEC2Spot", "AWSEC2SpotServiceRolePolicy", False),
    "spotfleet.amazonaws.com": ("AWSServiceRoleForEC2SpotFleet", "AWSEC2SpotFleetServiceRolePolicy", False),
    "ec2scheduled.amazonaws.com": ("AWSServiceRoleForEC2Scheduled", "AWSEC2ScheduledInstancesServiceRolePolicy",
                                   False),
    "events.amazonaws.com": ("AWSServiceRoleForCloudWatchEvents", "CloudWatchEventsServiceRolePolicy", False),
    "delivery.logs.amazonaws.com": ("AWSServiceRoleForLogDelivery", "AWSLogDeliveryServiceRolePolicy", False),
    "transitgateway.amazonaws.com": ("AWSServiceRoleForVPCTransitGateway", "AWSVPCTransitGatewayServiceRolePolicy",
                                     False),
    "replicator.lambda.amazonaws.com": ("AWSServiceRoleForLambdaReplicator", "AWSLambdaReplicator", False),
    "acm.amazonaws.com": ("AWSServiceRoleForCertificateManager", "CertificateManagerServiceRolePolicy", False),
    "eks.amazonaws.com": ("AWSServiceRoleForAmazonEKS", "AmazonEKSServiceRolePolicy", False),
    "rds.amazonaws.com": ("AWSServiceRoleForRDS", "AmazonRDSServiceRolePolicy", False),
    "organizations.amazonaws.com": ("AWSServiceRoleForOrganizations", "AWSOrganizationsServiceTrustPolicy", False),
    "elasticbeanstalk.amazonaws.com": ("AWSServiceRoleForElasticBeanstalk",
                                       "AWSElasticBeanstalkServiceRolePolicy", True),
    "ecs.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_ECSService",
                                                  "AWSApplicationAutoscalingECSServicePolicy", False),
    "dynamodb.application-autoscaling.amazonaws.com": ("AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
                                                       "AWSApplicationAutoscalingDynamoDBTablePolicy", False),
    "custom-resource.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_CustomResource",
        "AWSApplicationAutoScalingCustomResourcePolicy", True),
}
DELETION = "iam.slr-deletion"
PATH_PREFIX = "/aws-service-role/"


def is_service_linked(role: dict) -> bool:
    return role.get("Path", "").startswith(PATH_PREFIX)


def refuse_if_service_linked(role: dict) -> None:
    if is_service_linked(role):
        raise AwsError("UnmodifiableEntity", f"Cannot perform the operation on the protected role "
                                              f"'{role['RoleName']}' - this role is only modifiable by AWS")


def create_service_linked_role(ctx, p):
    service = p["AWSServiceName"]
    known = SERVICES.get(service)
    if known is None:
        raise AwsError("InvalidInput", f"Unrecognized service principal: {service}")
    name, policy, suffix_ok = known
    if p.get("CustomSuffix"):
        if not suffix_ok:
            raise AwsError("InvalidInput", f"Custom suffix is not allowed for {service}")
        name = f"{name}_{p['CustomSuffix']}"
    roles = table(ctx.store, ctx.account, ROLE)
    if name in roles:
        raise AwsError("InvalidInput", f"Service role name {name} has been taken in this account, please try a "
                                       "different suffix.")
    path = f"{PATH_PREFIX}{service}/"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": "sts:AssumeRole"}]})
    policy_arn = f"arn:aws:iam::aws:policy/aws-service-role/{policy}"
    role = {"Path": path, "RoleName": name, "RoleId": ids.iam_id("role"),
            "Arn": f"arn:aws:iam::{ctx.account}:role{path}{name}", "CreateDate": ctx.now(),
            "AssumeRolePolicyDocument": trust, "MaxSessionDuration": 3600, "Tags": [], "RoleLastUsed": {},
            "_attached": [policy_arn] if policy_arn in catalogue() else [], "_inline": {}}
    if p.get("Description") is not None:
        role["Description"] = p["Description"]
    roles.put(name, role)
    from .roles import view

    return {"Role": view(role)}


def delete_service_linked_role(ctx, p):
    from .model import find_role

    role = find_role(ctx.store, ctx.account, p["RoleName"])
    if not is_service_linked(role):
        raise AwsError("InvalidInput", f"Role {p['RoleName']} is not a service-linked role.")
    service = role["Path"][len(PATH_PREFIX):-1]
    task_id = f"task{role['Path']}{role['RoleName']}/{uuid.uuid4()}"
    # Nothing in kumo holds a service-linked role (services act as themselves), so the deletion succeeds at once.
    table(ctx.store, ctx.account, ROLE).delete(role["RoleName"])
    table(ctx.store, ctx.account, DELETION).put(task_id, {"Status": "SUCCEEDED", "Service": service,
                                                          "CreateDate": ctx.now()})
    return {"DeletionTaskId": task_id}


def get_service_linked_role_deletion_status(ctx, p):
    task = table(ctx.store, ctx.account, DELETION).get(p["DeletionTaskId"])
    if task is None:
        raise AwsError("NoSuchEntity", f"Deletion task {p['DeletionTaskId']} cannot be found.")
    return {"Status": task["Status"]}
