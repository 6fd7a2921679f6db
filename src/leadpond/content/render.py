"""An article's body as safe HTML: Markdown rendered by markdown-it (raw HTML off), HTML
bodies cleaned by nh3 (ammonia's allow-list: no scripts, no event handlers, no javascript:
URLs), and both cleaned once more on the way out."""

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "a", "b", "blockquote", "br", "code", "em", "figure", "figcaption", "h1", "h2", "h3",
    "h4", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "u", "ul", "video", "source",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "video": {"src", "controls", "poster", "width", "height"},
    "source": {"src", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def clean(html: str) -> str:
    """HTML with only the allowed tags and attributes; links get ``rel=noopener noreferrer``."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def to_html(body: str, body_format: str) -> str:
    """The body, rendered and sanitised for the viewer."""
    if body_format == "markdown":
        return clean(_markdown.render(body))
    return clean(body)
