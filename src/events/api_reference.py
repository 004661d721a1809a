"""The browsable API reference at /schema: Litestar's Scalar page, written so a strict policy can allow it."""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import ScalarRenderPlugin

# Scalar reads its settings from an empty <script id="api-reference"> element. Browsers treat even an empty
# inline script as one, so the policy allows exactly this (empty) content by its hash and nothing else inline.
CONFIGURATION_SCRIPT = ""
CONFIGURATION_SCRIPT_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(CONFIGURATION_SCRIPT.encode()).digest()).decode() + "'"


class ApiReference(ScalarRenderPlugin):
    """Scalar's page with no inline script content, so its policy needs no 'unsafe-inline' for scripts."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n'
            f"<title>{title}</title>\n"
            '<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<link rel="stylesheet" type="text/css" href="{escape(self.css_url)}">\n'
            "</head>\n<body>\n"
            "<noscript>The API reference needs JavaScript; the OpenAPI document is at "
            f'<a href="{spec_url}">{spec_url}</a>.</noscript>\n'
            f'<script id="api-reference" data-url="{spec_url}">{CONFIGURATION_SCRIPT}</script>\n'
            f'<script src="{escape(self.js_url)}" crossorigin></script>\n'
            "</body>\n</html>\n"
        ).encode()
