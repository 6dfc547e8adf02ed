# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local, stateful emulator of the AWS KMS custom key store API and the CloudHSM v2 API.

It speaks AWS's JSON 1.1 wire protocol over real HTTP, so boto3, the AWS CLI and the
collection's modules reach it through ``endpoint_url``. Split the way moto splits a service:
``entities`` (clusters, HSMs, XKS proxies, stores), ``errors`` (one class per AWS error code),
``kms`` and ``cloudhsm`` (the AWS rules), ``control`` (operator actions and seeding),
``world`` (one World per region, its settings and timers), ``wire`` (the protocol and request
validation), ``server`` (HTTP and the control API), ``client`` (a small client for that control
API). Run it with ``python -m emulator`` (with ``tests`` on ``PYTHONPATH``); see README.md.
"""
