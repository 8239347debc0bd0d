"""/docs works without internet: the page and everything it loads come from techapi."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


class References(HTMLParser):
    """Every URL the page makes the browser fetch: scripts, stylesheets, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_docs_reference_only_same_origin_assets_that_the_app_serves(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    parser = References()
    parser.feed(html)
    assert len(parser.urls) >= 3, parser.urls  # the CSS, the preset and the bundle
    for url in parser.urls:
        absolute = urljoin("http://localhost/docs", url)
        assert urlsplit(absolute).netloc == "localhost", f"/docs loads {url} from another origin"
        asset = client.get(urlsplit(absolute).path)
        assert asset.status_code == 200, url
        suffix = re.search(r"\.[a-z]+$", urlsplit(absolute).path).group()
        assert asset.mimetype == CONTENT_TYPES[suffix], (url, asset.mimetype)
        assert len(asset.data) > 10_000  # the real Swagger UI, not a stub
        asset.close()
    # No other origin anywhere in the page, the inline configuration included.
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\s\"'<>]+", html)
    assert '"validatorUrl": null' in html  # Swagger UI's default sends the spec to validator.swagger.io


def test_the_bundle_is_the_one_the_page_initialises(client):
    bundle = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.data
    bundle.close()
