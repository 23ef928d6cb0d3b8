"""A full disk during an upload is answered with a clear 507, never a 500."""

from __future__ import annotations

import errno
import logging

from django.http import HttpResponse

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
