"""Template context shared by every page: the site's name and the category navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kuaizhao.lib.outlets import CATEGORIES


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_name": settings.KUAIZHAO_SITE_NAME,
        "contact_email": settings.KUAIZHAO_CONTACT_EMAIL,
        "nav_categories": [{"slug": s, "name": n} for s, n in CATEGORIES],
    }
