"""AWS's documented filter-pattern examples ("Filter pattern syntax"), as (pattern, message, matches).

Shared by the unit test of the matcher and by the FilterLogEvents test, which
puts every message into a log group and checks the events each pattern finds.
"""

import json

TRAIL = json.dumps({
    "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": None, "ThisFlag": True,
})
USERS = json.dumps({
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
})
NUMBERS = json.dumps({"latency": 1500, "numbers": [5, 0.001], "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}],
                      "errorCode": 400})
ACCESS = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
ACCESS_OK = '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355'

LINES = {
    "fatal": "[ERROR] A fatal exception has occurred",
    "exiting": "Exiting with ERRORCODE: -1",
    "illegal": "[ERROR] Caught IllegalArgumentException",
    "unhandled": "[ERROR] Unhandled Exception",
    "warn-failed": "[WARN] Failed to process the request",
    "error-failed": "[ERROR] Unable to continue: Failed to process the request",
    "error-warn": "ERROR WARN message",
    "error": "ERROR message",
    "warn": "WARN message",
    "foo-bar": '{"foo": "bar"}',
    "foo-baz": '{"foo": "baz"}',
    "trail": TRAIL,
    "users": USERS,
    "numbers": NUMBERS,
    "access-404": ACCESS,
    "access-200": ACCESS_OK,
}

# pattern -> the keys of LINES it matches, per the documentation's examples
EXAMPLES = [
    ("ERROR", {"fatal", "exiting", "illegal", "unhandled", "error-failed", "error-warn", "error"}),
    ('"ERROR" -"Exiting"', {"fatal", "illegal", "unhandled", "error-failed", "error-warn", "error"}),
    ("ERROR Exception", {"illegal", "unhandled"}),
    ("Failed to process the request", {"warn-failed", "error-failed"}),
    ('"Failed to process the request"', {"warn-failed", "error-failed"}),
    ("?ERROR ?WARN", {"fatal", "exiting", "illegal", "unhandled", "warn-failed", "error-failed", "error-warn",
                      "error", "warn"}),
    ("ERROR WARN", {"error-warn"}),
    ("ERROR -WARN", {"fatal", "exiting", "illegal", "unhandled", "error-failed", "error"}),
    ("[w1=ERROR, w2]", {"error"}),
    ("[w1=ERROR || w1=WARN, w2]", {"error", "warn"}),
    ("{$.foo = bar}", {"foo-bar"}),
    ("{$.foo = baz }", {"foo-baz"}),
    ("{$.foo = bar || $.foo = baz }", {"foo-bar", "foo-baz"}),
    ('{ $.eventType = "UpdateTrail" }', {"trail"}),
    ("{ $.sourceIPAddress != 123.123.* }", {"trail"}),
    ('{ $.arrayKey[0] = "value" }', {"trail"}),
    ("{ $.objectList[1].id = 2 }", {"trail"}),
    ("{ $.SomeObject IS NULL }", {"trail"}),
    ("{ $.SomeOtherObject NOT EXISTS }", {"trail", "users", "numbers", "foo-bar", "foo-baz"}),
    ("{ $.ThisFlag IS TRUE }", {"trail"}),
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', {"users"}),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', set()),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
     {"users"}),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
     set()),
    ("{ $.users = 1 }", set()),
    ("{ $.latency >= 500 }", {"numbers"}),
    ("{ $.numbers[0] < 10e3 }", {"numbers"}),
    ("{ $.numbers[1] < 10e-3 }", {"numbers"}),
    ("{ $.processes[4].averageRuntime <= 55.5 }", {"numbers"}),
    ("{ $.errorCode = 400 }", {"numbers"}),
    ("{ $.errorCode != 500 }", {"numbers"}),
    ("{ $.latency > +1000 }", {"numbers"}),
    ("[ip, user, username, timestamp, request, status_code, bytes]", {"access-404", "access-200"}),
    # An ellipsis stands for any number of fields: these need at least 2 and 4 fields.
    ("[..., status_code, bytes]", set(LINES)),
    ("[ip, user, ..., status_code, bytes]", {"fatal", "exiting", "warn-failed", "error-failed", "trail", "users",
                                             "numbers", "access-404", "access-200"}),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", {"access-404", "access-200"}),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", {"access-200"}),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", {"access-404"}),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", {"access-404"}),
    ("[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000, bytes]", {"access-404"}),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]", {"access-404"}),
    ("[..., request=*.html*, status_code=4*,]", {"access-404"}),
    ("%ERRORCODE: -[0-9]%", {"exiting"}),
    ("", set(LINES)),
]
