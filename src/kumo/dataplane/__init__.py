"""The world the control plane drives: workloads (compute) and load balancer nodes (lb).

Services under ``kumo.services`` record desired state; their controllers call into these
packages to make it real. Nothing here imports a service.
"""
