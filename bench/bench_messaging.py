"""Messaging benchmark: kumo beside moto's server, in the same run.

* SQS throughput, messages per second of wall time, one boto3 client:
  - steady: 10,000 messages through a queue in batches of ten, each batch sent
    (SendMessageBatch), received (ReceiveMessage, MaxNumberOfMessages=10) and
    deleted (DeleteMessageBatch) before the next;
  - backlog: all messages sent first, then received and deleted until the
    queue is empty.  moto's queue operations take time in proportion to the
    queue's length (about 0.9 s per ReceiveMessage with 1,500 queued), so a
    10,000-message backlog would take it hours: moto gets a smaller backlog,
    and the table says so;
  - single: one message per call (SendMessage, ReceiveMessage, DeleteMessage).
* SNS to SQS fan-out latency: Publish to a topic with one SQS subscriber,
  then a long-polling ReceiveMessage until the message is there; median and
  p99 of the time from the start of Publish to the message in hand.

kumo runs durable (its default: every acknowledged send and delete is
committed to SQLite before the response), moto in memory.

    python bench/bench_messaging.py [--messages 10000] [--moto-backlog 1000] [--single 2000] [--fanout 300]
                                    [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import kumo, moto, pct, record  # noqa: E402


def _take(sqs, url, want: int) -> list:
    got = []
    while len(got) < want:
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, want - len(got))).get("Messages", [])
    return got


def sqs_steady(server, n: int) -> float:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="bench-steady")["QueueUrl"]
    started = time.perf_counter()
    for start in range(0, n, 10):
        entries = [{"Id": str(i), "MessageBody": f"message {start + i}"} for i in range(10)]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        msgs = _take(sqs, url, 10)
        out = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                              for i, m in enumerate(msgs)])
        assert len(out["Successful"]) == 10
    return n / (time.perf_counter() - started)


def sqs_backlog(server, n: int) -> float:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="bench-backlog")["QueueUrl"]
    started = time.perf_counter()
    for start in range(0, n, 10):
        entries = [{"Id": str(i), "MessageBody": f"message {start + i}"} for i in range(10)]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
    done = 0
    while done < n:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            continue
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(msgs)])
        done += len(msgs)
    elapsed = time.perf_counter() - started
    assert done == n
    return n / elapsed


def sqs_single(server, n: int) -> float:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="bench-single")["QueueUrl"]
    started = time.perf_counter()
    for i in range(n):
        sqs.send_message(QueueUrl=url, MessageBody=f"message {i}")
        msg = _take(sqs, url, 1)[0]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
    return n / (time.perf_counter() - started)


def fanout(server, n: int) -> list[float]:
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="bench-topic")["TopicArn"]
    url = sqs.create_queue(QueueName="bench-fanout")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    out = []
    for i in range(n + 20):
        started = time.perf_counter()
        sns.publish(TopicArn=topic, Message=f"fan-out {i}")
        msgs = []
        while not msgs:
            msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
        elapsed = (time.perf_counter() - started) * 1000
        sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
        if i >= 20:  # the first ones warm both servers up
            out.append(elapsed)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--moto-backlog", type=int, default=1000)
    ap.add_argument("--single", type=int, default=2000)
    ap.add_argument("--fanout", type=int, default=300)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    results = {}
    for name, make in (("kumo", kumo), ("moto", moto)):
        server = make().start()
        try:
            backlog = args.messages if name == "kumo" else args.moto_backlog
            results[name] = {
                "steady": sqs_steady(server, args.messages),
                "backlog": sqs_backlog(server, backlog),
                "single": sqs_single(server, args.single),
                "fanout": fanout(server, args.fanout),
            }
        finally:
            server.stop()
        print(name, {k: (v if not isinstance(v, list) else statistics.median(v)) for k, v in results[name].items()})

    k, m = results["kumo"], results["moto"]
    rows = [
        "| measure | kumo (durable) | moto server | kumo / moto |",
        "|---|---|---|---|",
        f"| SQS send+receive+delete, {args.messages:,} messages, batches of 10 in lockstep (messages/s) | "
        f"{k['steady']:,.0f} | {m['steady']:,.0f} | {k['steady'] / m['steady']:.2f}x |",
        f"| SQS backlog: send all, then receive+delete, batches of 10 (messages/s; kumo {args.messages:,} "
        f"messages, moto {args.moto_backlog:,}) | {k['backlog']:,.0f} | {m['backlog']:,.0f} | "
        f"{k['backlog'] / m['backlog']:.2f}x |",
        f"| SQS send+receive+delete, {args.single:,} messages, one call each (messages/s) | "
        f"{k['single']:,.0f} | {m['single']:,.0f} | {k['single'] / m['single']:.2f}x |",
        f"| SNS→SQS fan-out, Publish to message received: median / p99 of {args.fanout} (ms) | "
        f"{statistics.median(k['fanout']):.2f} / {pct(k['fanout'], 99):.2f} | "
        f"{statistics.median(m['fanout']):.2f} / {pct(m['fanout'], 99):.2f} | "
        f"{statistics.median(k['fanout']) / statistics.median(m['fanout']):.2f} (median) |",
    ]
    table = "\n".join(rows)
    print(table)
    if not args.no_record:
        note = ("One boto3 client, one thread, loopback. Throughput counts every call of the cycle (send, receive, "
                "delete) and includes boto3's own request building and parsing, the same "
                "for both servers. kumo commits every acknowledged send and delete to SQLite (WAL) before it "
                "answers; moto keeps messages in memory.")
        command = " ".join(["python bench/bench_messaging.py", *sys.argv[1:]])
        record("Messaging: kumo vs moto server", command, table + "\n\n" + note)


if __name__ == "__main__":
    main()
