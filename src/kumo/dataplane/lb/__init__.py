"""Load balancer data planes shared by ELBv2 (ALB, NLB) and Classic ELB.

The control plane (services/elbv2, services/elb, and ``control.py``) turns
records into a config snapshot; worker processes (``worker.py``) serve the
listeners from it.  Routing decisions live in sans-IO modules (``rules.py``,
``balance.py``, ``health.py``) so they are tested without sockets.
"""
