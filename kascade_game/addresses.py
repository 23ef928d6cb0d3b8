"""The address a request came from, as the rate limits count it.

In the cluster every request reaches gunicorn from the ingress controller's pod
(k8s/ingress.yaml), so ``REMOTE_ADDR`` is the same for every player: the log-in,
sign-up and room-join limits would count the whole site as one address, and
thirty wrong room codes anywhere would lock every class out of every room.

Each proxy in front of the application writes the address it saw into
``X-Forwarded-For``: ingress-nginx replaces the header with it by default, or
appends it with ``compute-full-forwarded-for`` (ingress-nginx's ConfigMap
options ``use-forwarded-headers`` and ``compute-full-forwarded-for``). With
``TRUSTED_PROXIES = n`` proxies in front, the client is therefore the n-th entry
from the right; whatever a client wrote to the left of it is not read, so a
player cannot choose their own address. With 0 (``make run``, no proxy) the
address is ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or the one the trusted proxies passed on.

    A request that did not pass through all the proxies (a probe from inside the
    cluster, say) or whose entry is not an address keeps ``REMOTE_ADDR``.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
