"""SQS's query protocol (API version 2012-11-05), restored onto the current json model.

AWS moved SQS to the json protocol in 2023 and botocore's model dropped the
query wire names, but older SDKs and awscli 1.x still speak query
(``Action=SendMessage&MessageAttribute.1.Name=...``) and read XML answers
(``<ReceiveMessageResult><Message>...``).  ``apply`` puts the names back on a
copy of the model (``kumo.aws.specs.query_model``), so the generic query
parser and serializer handle SQS like any other query service.

The json model lost the query error codes as well; AWS still sends them in
``x-amzn-query-error``, so ``apply_to_json`` restores them on both models.  It
also lets ReceiveMessage's deprecated AttributeNames take message system
attribute names (ApproximateReceiveCount ...), which the model types as queue
attribute names but AWS accepts and SDKs send.
"""

from __future__ import annotations

# (error shape, query error code, HTTP status): codes as the 2012-11-05 query model had them,
# statuses as the current API reference gives them (all 400).
ERROR_CODES = [
    ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400),
    ("QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", 400),
    ("QueueNameExists", "QueueAlreadyExists", 400),
    ("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400),
    ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 400),
    ("OverLimit", "OverLimit", 400),
    ("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    ("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400),
    ("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400),
    ("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    ("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    ("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400),
    ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 400),
    ("InvalidAttributeName", "InvalidAttributeName", 400),
    ("InvalidAttributeValue", "InvalidAttributeValue", 400),
    ("InvalidMessageContents", "InvalidMessageContents", 400),
    ("InvalidIdFormat", "InvalidIdFormat", 400),
    ("InvalidAddress", "InvalidAddress", 400),
    ("InvalidSecurity", "InvalidSecurity", 400),
    ("RequestThrottled", "RequestThrottled", 400),
    ("ResourceNotFoundException", "ResourceNotFoundException", 400),
    ("KmsNotFound", "KMS.NotFoundException", 400),
    ("KmsDisabled", "KMS.DisabledException", 400),
    ("KmsInvalidState", "KMS.InvalidStateException", 400),
    ("KmsInvalidKeyUsage", "KMS.InvalidKeyUsageException", 400),
    ("KmsAccessDenied", "KMS.AccessDeniedException", 400),
]

# member of a structure -> its query name (``locationName``)
MEMBER_NAMES = {
    ("AddPermissionRequest", "AWSAccountIds"): "AWSAccountId",
    ("AddPermissionRequest", "Actions"): "ActionName",
    ("ChangeMessageVisibilityBatchRequest", "Entries"): "ChangeMessageVisibilityBatchRequestEntry",
    ("ChangeMessageVisibilityBatchResult", "Successful"): "ChangeMessageVisibilityBatchResultEntry",
    ("ChangeMessageVisibilityBatchResult", "Failed"): "BatchResultErrorEntry",
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("DeleteMessageBatchRequest", "Entries"): "DeleteMessageBatchRequestEntry",
    ("DeleteMessageBatchResult", "Successful"): "DeleteMessageBatchResultEntry",
    ("DeleteMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("GetQueueAttributesRequest", "AttributeNames"): "AttributeName",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("ListDeadLetterSourceQueuesResult", "queueUrls"): "QueueUrl",
    ("ListMessageMoveTasksResult", "Results"): "ListMessageMoveTasksResultEntry",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("ListQueuesResult", "QueueUrls"): "QueueUrl",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("MessageSystemAttributeValue", "StringListValues"): "StringListValue",
    ("MessageSystemAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("ReceiveMessageRequest", "AttributeNames"): "AttributeName",
    ("ReceiveMessageRequest", "MessageSystemAttributeNames"): "MessageSystemAttributeName",
    ("ReceiveMessageRequest", "MessageAttributeNames"): "MessageAttributeName",
    ("ReceiveMessageResult", "Messages"): "Message",
    ("SendMessageBatchRequest", "Entries"): "SendMessageBatchRequestEntry",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchResult", "Successful"): "SendMessageBatchResultEntry",
    ("SendMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("TagQueueRequest", "Tags"): "Tag",
    ("UntagQueueRequest", "TagKeys"): "TagKey",
}

# list shape -> the query name of its items
LIST_MEMBER_NAMES = {
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "AttributeNameList": "AttributeName",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "BinaryList": "BinaryListValue",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
    "MessageAttributeNameList": "MessageAttributeName",
    "MessageList": "Message",
    "MessageSystemAttributeList": "MessageSystemAttributeName",
    "QueueUrlList": "QueueUrl",
    "ReceiveAttributeNameList": "AttributeName",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "StringList": "StringListValue",
    "TagKeyList": "TagKey",
}

# map shape -> (key name, value name)
MAP_ENTRY_NAMES = {
    "QueueAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
}

_RECEIVE_NAMES = "ReceiveAttributeNameList"

# Old SDKs post to the queue's URL and may leave QueueUrl out of the form; the handlers
# then take it from the request path, so the query model must not demand it.
_URL_FROM_PATH = "QueueUrl"


def apply_to_json(model: dict) -> None:
    shapes = model["shapes"]
    for shape, code, status in ERROR_CODES:
        if shape in shapes:
            shapes[shape]["error"] = {"code": code, "httpStatusCode": status, "senderFault": status < 500}
    shapes[_RECEIVE_NAMES] = {"type": "list", "member": {"shape": "MessageSystemAttributeName"}, "flattened": True}
    shapes["ReceiveMessageRequest"]["members"]["AttributeNames"]["shape"] = _RECEIVE_NAMES


def apply(model: dict) -> None:
    shapes = model["shapes"]
    model["metadata"]["xmlNamespace"] = "http://queue.amazonaws.com/doc/2012-11-05/"
    apply_to_json(model)
    for (structure, member), name in MEMBER_NAMES.items():
        shapes[structure]["members"][member]["locationName"] = name
    for shape, name in LIST_MEMBER_NAMES.items():
        shapes[shape]["member"]["locationName"] = name
        shapes[shape]["flattened"] = True
    for shape, (key, value) in MAP_ENTRY_NAMES.items():
        shapes[shape]["key"]["locationName"] = key
        shapes[shape]["value"]["locationName"] = value
        shapes[shape]["flattened"] = True
    for op in model["operations"].values():
        output = op.get("output")
        if output:
            output["resultWrapper"] = f"{op['name']}Result"
        request = shapes.get(op.get("input", {}).get("shape", ""))
        if request and _URL_FROM_PATH in request.get("required", []):
            request["required"] = [m for m in request["required"] if m != _URL_FROM_PATH]
