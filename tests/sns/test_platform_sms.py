"""Platform applications and endpoints, SMS attributes and sandbox, opt-outs, data protection (nothing sent)."""

import json
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def sns(aws):
    return aws("sns")


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_platform_application_and_endpoint_lifecycle(sns, account):
    app = sns.create_platform_application(Name="mobile", Platform="GCM",
                                          Attributes={"PlatformCredential": "server-key"})["PlatformApplicationArn"]
    assert app == f"arn:aws:sns:us-east-1:{account}:app/GCM/mobile"
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"]
    assert attrs["Enabled"] == "true" and "PlatformCredential" not in attrs  # AWS never answers the credential
    sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={"EventDeliveryFailure": ""})
    assert [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]] == [app]

    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1",
                                            CustomUserData="user 7")["EndpointArn"]
    assert endpoint.startswith(f"arn:aws:sns:us-east-1:{account}:endpoint/GCM/mobile/")
    # The same token again is the same endpoint; with other attributes it is refused.
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1",
                                        CustomUserData="user 7")["EndpointArn"] == endpoint
    with pytest.raises(ClientError) as e:
        sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1", CustomUserData="someone else")
    assert _code(e) == "InvalidParameter" and "already exists with the same Token" in str(e.value)
    assert sns.get_endpoint_attributes(EndpointArn=endpoint)["Attributes"] == {
        "CustomUserData": "user 7", "Token": "device-1", "Enabled": "true"}
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert [x["EndpointArn"] for x in listed] == [endpoint]

    assert sns.publish(TargetArn=endpoint, Message="hello")["MessageId"]
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as e:
        sns.publish(TargetArn=endpoint, Message="hello")
    assert _code(e) == "EndpointDisabled"
    sns.delete_endpoint(EndpointArn=endpoint)
    sns.delete_endpoint(EndpointArn=endpoint)  # idempotent
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_endpoint_attributes(EndpointArn=endpoint)
    with pytest.raises(ClientError) as e:
        sns.create_platform_application(Name="apple", Platform="APNS", Attributes={"PlatformCredential": "k"})
    assert _code(e) == "InvalidParameter"  # APNS needs its PlatformPrincipal too
    with pytest.raises(ClientError):
        sns.create_platform_application(Name="x", Platform="PIGEON", Attributes={"PlatformCredential": "k"})
    sns.delete_platform_application(PlatformApplicationArn=app)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_platform_application_attributes(PlatformApplicationArn=app)


def test_sms_attributes(sns):
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "DefaultSenderID": "kumo1",
                                       "MonthlySpendLimit": "5"})
    assert sns.get_sms_attributes()["attributes"] == {"DefaultSMSType": "Transactional",
                                                       "DefaultSenderID": "kumo1", "MonthlySpendLimit": "5"}
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}
    for bad in ({"DefaultSMSType": "Loud"}, {"Nope": "x"}, {"MonthlySpendLimit": "lots"}):
        with pytest.raises(ClientError) as e:
            sns.set_sms_attributes(attributes=bad)
        assert _code(e) == "InvalidParameter"


def _handset(endpoint, account, number, body=None):
    url = f"{endpoint}/_kumo/sns/sms-sandbox/{account}/us-east-1/{urllib.parse.quote(number)}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_sms_sandbox_with_the_stored_one_time_password(sns, endpoint, account):
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is True
    number = "+15555550100"
    sns.create_sms_sandbox_phone_number(PhoneNumber=number, LanguageCode="en-US")
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [{"PhoneNumber": number, "Status": "Pending"}]
    otp = _handset(endpoint, account, number)["OneTimePassword"]
    with pytest.raises(ClientError) as e:
        sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword="000000" if otp != "000000" else "1")
    assert _code(e) == "VerificationException"
    sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=otp)
    assert sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"] == [{"PhoneNumber": number, "Status": "Verified"}]
    sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    with pytest.raises(ClientError) as e:
        sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    assert _code(e) == "ResourceNotFound"
    with pytest.raises(ClientError) as e:
        sns.create_sms_sandbox_phone_number(PhoneNumber="555-0100")
    assert _code(e) == "InvalidParameter"
    assert sns.list_origination_numbers()["PhoneNumbers"] == []


def test_opt_out_and_opt_in(sns, endpoint, account):
    number = "+15555550111"
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False
    sns.create_sms_sandbox_phone_number(PhoneNumber=number)
    _handset(endpoint, account, number, {"optOut": True})  # the recipient replies STOP
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is True
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == [number]
    sns.opt_in_phone_number(phoneNumber=number)
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False
    assert sns.list_phone_numbers_opted_out()["phoneNumbers"] == []


POLICY = {"Name": "pii", "Description": "mask emails", "Version": "2021-06-01", "Statement": [
    {"Sid": "audit", "DataDirection": "Inbound", "Principal": ["*"],
     "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
     "Operation": {"Audit": {"SampleRate": "99", "FindingsDestination": {}}}},
    {"Sid": "mask", "DataDirection": "Outbound", "Principal": ["*"],
     "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
     "Operation": {"Deidentify": {"MaskConfig": {"MaskWithCharacter": "#"}}}}]}


def test_data_protection_policy_stored_and_checked(sns):
    topic = sns.create_topic(Name="guarded")["TopicArn"]
    assert sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"] == ""
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=json.dumps(POLICY))
    assert json.loads(sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"]) == POLICY
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DataProtectionPolicy"]) == POLICY
    broken = [dict(POLICY, Version="2012-10-17"), {k: v for k, v in POLICY.items() if k != "Name"},
              dict(POLICY, Statement=[dict(POLICY["Statement"][0], Operation={"Audit": {}, "Deny": {}})]),
              dict(POLICY, Statement=[dict(POLICY["Statement"][0], DataIdentifier=["Passport"])])]
    for doc in broken:
        with pytest.raises(ClientError) as e:
            sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=json.dumps(doc))
        assert _code(e) == "InvalidParameter", doc
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="DataProtectionPolicy",
                                 AttributeValue=json.dumps(broken[0]))
    assert _code(e) == "InvalidParameter"
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_data_protection_policy(ResourceArn=topic + "-missing")


def test_publish_to_a_phone_number_is_kept_with_the_sandbox_outcome(sns, endpoint, account):
    number = "+15555550122"
    first = sns.publish(PhoneNumber=number, Message="not verified yet")["MessageId"]
    sns.create_sms_sandbox_phone_number(PhoneNumber=number)
    sns.verify_sms_sandbox_phone_number(PhoneNumber=number,
                                        OneTimePassword=_handset(endpoint, account, number)["OneTimePassword"])
    second = sns.publish(PhoneNumber=number, Message="your code is 1234", MessageAttributes={
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})["MessageId"]
    _handset(endpoint, account, number, {"optOut": True})
    third = sns.publish(PhoneNumber=number, Message="after STOP")["MessageId"]
    texts = _handset(endpoint, account, number)["Messages"]
    assert [t["MessageId"] for t in texts] == [first, second, third]
    assert [t["Status"].split(":")[0] for t in texts] == ["FAILURE", "SUCCESS", "FAILURE"]
    assert texts[1]["Message"] == "your code is 1234" and texts[1]["SMSType"] == "Transactional"
    assert "opted out" in texts[2]["Status"]
    with pytest.raises(ClientError) as e:
        sns.publish(PhoneNumber="12345", Message="x")
    assert _code(e) == "InvalidParameter"


def test_topic_fans_out_to_application_and_sms_subscribers(sns, endpoint, account, kumo_server):
    from kumo.services.sns import platform

    app = sns.create_platform_application(Name="fan", Platform="GCM",
                                          Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    device = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="tok-fan")["EndpointArn"]
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=device)["SubscriptionArn"]
    assert sub.startswith(topic)  # confirmed at once, as on AWS
    number = "+15555550133"
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=number)
    sns.publish(TopicArn=topic, Message=json.dumps({"default": "plain", "GCM": '{"data": {"k": 1}}',
                                                    "sms": "short"}), MessageStructure="json")
    kept = kumo_server.run(lambda: platform.kept(kumo_server.kumo, device))
    assert [m["Message"] for m in kept] == ['{"data": {"k": 1}}']  # the application's own structure key
    texts = _handset(endpoint, account, number)["Messages"]
    assert [t["Message"] for t in texts] == ["short"] and texts[0]["Status"].startswith("FAILURE")  # not verified
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=topic, Protocol="application", Endpoint="arn:aws:sqs:us-east-1:1:q")
    assert _code(e) == "InvalidParameter"
    with pytest.raises(ClientError) as e:
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="call me")
    assert _code(e) == "InvalidParameter"


def test_publish_to_an_endpoint_with_a_per_platform_structure(sns, kumo_server):
    from kumo.services.sns import platform

    app = sns.create_platform_application(Name="structured", Platform="GCM",
                                          Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    device = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="tok-s")["EndpointArn"]
    sns.publish(TargetArn=device, MessageStructure="json",
                Message=json.dumps({"default": "d", "GCM": json.dumps({"notification": {"title": "hi"}})}))
    sns.publish(TargetArn=device, Message="plain text")
    kept = kumo_server.run(lambda: platform.kept(kumo_server.kumo, device))
    assert [m["Message"] for m in kept] == ['{"notification": {"title": "hi"}}', "plain text"]
    with pytest.raises(ClientError) as e:
        sns.publish(TargetArn=device, MessageStructure="json", Message=json.dumps({"APNS": "x"}))
    assert _code(e) == "InvalidParameter"
