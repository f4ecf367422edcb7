"""Image inputs given by URL in a request: fetched when the request is read (as promptflow does), from public
addresses only, and only when what comes back is an image.

A served flow listens to the network (a built image on 0.0.0.0), so a URL in a request must not make the
server fetch from itself or its network: a host whose addresses (every one the name resolves to) include a
loopback, private, link-local (169.254.169.254, the clouds' metadata service), multicast, reserved or
unspecified address is refused, and so is a redirect to one. ``flow serve --allow-private-urls`` lifts that
(an intranet's image server). A body that is no PNG, JPEG, GIF, WebP or BMP is refused too: the server would
otherwise hand any document it can reach back as a "picture". Either way the answer is 400 ``InvalidInput``
naming the input. ``flow test`` and batch runs are local use and fetch as before (in the Python tool that
takes the image).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from flowline.engine.image_inputs import ImageInputError, fetch_links, has_links, shown
from flowline.serve.errors import ApiError


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified or not address.is_global)


def public_only(url: str) -> None:
    """Raise :class:`ImageInputError` unless every address ``url``'s host resolves to is a public one."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ImageInputError(f"image URL '{shown(url)}' names no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise ImageInputError(f"image URL '{shown(url)}': its host '{host}' cannot be resolved ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _refused(address):
            raise ImageInputError(f"image URL '{shown(url)}' points at {address}, a loopback, private, link-local or "
                                  "reserved address, which this server does not fetch from (start it with "
                                  "--allow-private-urls to allow that)")


async def fetch_request_images(inputs: dict[str, Any], allow_private: bool) -> dict[str, Any]:
    """``inputs`` with every image given by URL fetched (see the module). Raises :class:`ApiError` 400
    ``InvalidInput`` naming the input whose URL is refused, cannot be fetched or is no image."""
    guard = None if allow_private else public_only
    fetched = dict(inputs)
    for name, value in inputs.items():
        if not has_links(value):
            continue
        try:
            fetched[name] = await asyncio.to_thread(fetch_links, value, guard, True)
        except ImageInputError as exc:
            raise ApiError(400, "InvalidInput", f"Flow input '{name}': {str(exc).rstrip('.')}.") from None
    return fetched
