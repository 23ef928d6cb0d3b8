"""The game's own middleware: a full disk during an upload is answered with a clear
507, never a 500; a 405 says what happened instead of showing a blank page; the
Content-Security-Policy header is built once per process."""

from __future__ import annotations

import errno
import logging

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpResponse

from .views import method_not_allowed

logger = logging.getLogger(__name__)

DISK_FULL_MESSAGE = (
    "The server has no room to store this upload right now, so nothing was saved. "
    "Please try again later or with a smaller file."
)


class DiskFullMiddleware:
    """Parses multipart bodies before anything else reads them (the CSRF check would).

    Django spools large uploads to a temporary file; when the disk is full the
    write fails with ENOSPC inside the parser. Parsing here turns that into a 507
    with a plain message; the request goes no further, so no view writes anything.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                request.POST  # noqa: B018 - parse now: the uploads are written to disk here
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                logger.error("upload refused: no space left on the device (%s)", error)
                # The parser leaves the half-written temporary file open; closing it
                # deletes it, so nothing of the upload stays on the disk.
                for handler in request.upload_handlers:
                    partial = getattr(handler, "file", None)
                    if partial is not None:
                        partial.close()
                return HttpResponse(DISK_FULL_MESSAGE, status=507, content_type="text/plain")
        return self.get_response(request)


# What django-csp's decorators (csp_exempt, csp_update, csp_replace, csp) set on a response.
_PER_RESPONSE_POLICY = tuple(
    f"_csp_{part}{suffix}"
    for part in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy built once per process.

    django-csp builds the header from the settings for every response: two
    `build_policy` calls and two `dataclasses.asdict`, about 0.1 ms, a tenth of
    the cheapest Django request this game answers (docs/benchmarks.md, stop 25).
    The game's policy never varies (no nonce, no decorator), so the header is one
    string. A response whose policy does vary (a django-csp decorator's
    attributes, or a nonce a template used) goes through django-csp unchanged.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self._policy = build_policy()
        self._policy_report_only = build_policy(report_only=True)
        self._excludes = any(
            (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
            for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
        )

    def process_response(self, request, response):
        if (
            self._excludes
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _PER_RESPONSE_POLICY)
            or (settings.DEBUG and response.status_code in (404, 500))  # Django's debug pages
        ):
            return super().process_response(request, response)
        if self._policy and HEADER not in response:
            response[HEADER] = self._policy
        if self._policy_report_only and HEADER_REPORT_ONLY not in response:
            response[HEADER_REPORT_ONLY] = self._policy_report_only
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class MethodNotAllowedPageMiddleware:
    """Django's `require_POST` and friends answer a wrong method with an empty 405.

    A visitor who opens a form's address (a bookmarked /play/new/, a booth's
    "again" link typed in) saw a blank page. The empty 405 gets the site's error
    page, or the message alone for htmx; the status and the Allow header stay.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = method_not_allowed(request)
            page["Allow"] = response.get("Allow", "")
            return page
        return response
