"""A ReportLab drawing as a standalone SVG document, written directly from its shapes.

The charts are drawn once, as ReportLab drawings (surveys/reports/charts.py), for the PDFs and the web. For
the web they are serialised here rather than by ``reportlab.graphics.renderSVG``: that renderer builds a DOM
node by node and re-parses its own output, which cost about 20 ms of the results page's server time for two
charts; writing the few kinds of shape the charts use as text costs a tenth of that.

What the document is like:
- standalone and responsive: ``width="100%"``, the drawing's size as the viewBox, no DOCTYPE;
- accessible: ``role="img"`` with a ``<title>`` and ``<desc>`` (the chart's text alternative);
- every id starts with ``id_prefix`` (made a valid XML name), so that several charts can share a page;
- y points up as in the PDF: one flip on the outer group, each text flipped back where it stands;
- text in the browser's CJK font stack (``font_stack``), anchored by SVG's ``text-anchor``, so that the
  browser centres a label with the font it really uses; every text is XML-escaped, and characters XML does
  not allow are dropped.

Only the shapes the charts use are written (groups, rectangles, circles, ellipses, lines, polylines,
polygons, strings, and widgets through the node they provide); any other raises ``TypeError``, so that a
new kind of shape cannot disappear from the web without a test noticing.
"""

from __future__ import annotations

import re
from html import escape

from reportlab.graphics import shapes
from reportlab.lib.colors import Color

_ID_PREFIX_RE = re.compile(r"[^A-Za-z0-9_-]+")
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINE_CAPS = ("butt", "round", "square")
_LINE_JOINS = ("miter", "round", "bevel")
_ANCHORS = {"start": "start", "middle": "middle", "end": "end", "numeric": "end"}
_IDENTITY = (1, 0, 0, 1, 0, 0)


def valid_id_prefix(id_prefix: str) -> str:
    """``id_prefix`` made a valid XML name: other characters become '-', and it starts with a letter."""
    prefix = _ID_PREFIX_RE.sub("-", id_prefix).strip("-") or "chart"
    return prefix if prefix[0].isalpha() else f"c-{prefix}"


def drawing_svg(drawing: shapes.Drawing, *, id_prefix: str, title: str, description: str, font_stack: str) -> bytes:
    """The SVG document (UTF-8) of ``drawing``, with ``title`` and ``description`` as its text alternative."""
    prefix = valid_id_prefix(id_prefix)
    width, height = _number(drawing.width), _number(drawing.height)
    out: list[str] = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-labelledby="{prefix}-title {prefix}-desc">',
        f'<title id="{prefix}-title">{_text(title or description)}</title>',
        f'<desc id="{prefix}-desc">{_text(description)}</desc>',
        f'<clipPath id="{prefix}-clip"><rect x="0" y="0" width="{width}" height="{height}"/></clipPath>',
        f'<g id="{prefix}-group" transform="matrix(1 0 0 -1 0 {height})" '
        f'style="clip-path: url(#{prefix}-clip); font-family: {escape(font_stack, quote=False)}">',
    ]
    _Writer(out).group(drawing)
    out.append("</g></svg>")
    return "".join(out).encode("utf-8")


def _number(value: float) -> str:
    """A coordinate to two decimals, without trailing zeros (a hundredth of a CSS pixel is invisible)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(value: str) -> str:
    return escape(_XML_INVALID_RE.sub("", value), quote=False)


def _color(color: Color | None) -> tuple[str, float]:
    """(CSS colour, opacity) of a ReportLab colour; "none" for no colour."""
    if color is None:
        return "none", 1.0
    red, green, blue = (round(part * 255) for part in color.rgb())
    return f"#{red:02x}{green:02x}{blue:02x}", float(getattr(color, "alpha", 1) or 0)


class _Writer:
    def __init__(self, out: list[str]):
        self.out = out

    def node(self, node: object) -> None:
        if isinstance(node, shapes.UserNode):  # widgets (the radar) draw through the node they provide
            self.node(node.provideNode())
        elif isinstance(node, shapes.Group):
            self.group(node)
        elif isinstance(node, shapes.String):
            self.string(node)
        elif isinstance(node, shapes.Rect):
            self.shape(node, "rect", x=node.x, y=node.y, width=node.width, height=node.height, rx=node.rx, ry=node.ry)
        elif isinstance(node, shapes.Circle):
            self.shape(node, "circle", cx=node.cx, cy=node.cy, r=node.r)
        elif isinstance(node, shapes.Ellipse):
            self.shape(node, "ellipse", cx=node.cx, cy=node.cy, rx=node.rx, ry=node.ry)
        elif isinstance(node, shapes.Line):
            self.shape(node, "line", x1=node.x1, y1=node.y1, x2=node.x2, y2=node.y2, filled=False)
        elif isinstance(node, shapes.Polygon):
            self.shape(node, "polygon", points=node.points)
        elif isinstance(node, shapes.PolyLine):
            self.shape(node, "polyline", points=node.points, filled=False)
        else:
            raise TypeError(f"surveys.reports.svg cannot write a {type(node).__name__}")

    def group(self, group: shapes.Group) -> None:
        transform = tuple(group.transform)
        if transform != _IDENTITY:
            self.out.append(f'<g transform="matrix({" ".join(_number(v) for v in transform)})">')
        else:
            self.out.append("<g>")
        for child in group.contents:
            self.node(child)
        self.out.append("</g>")

    def shape(self, node, tag: str, *, points=None, filled: bool = True, **geometry) -> None:
        parts = [f"<{tag}"]
        for name, value in geometry.items():
            if value or name in {"x", "y", "cx", "cy", "x1", "y1", "x2", "y2"}:
                parts.append(f' {name}="{_number(value)}"')
        if points is not None:
            pairs = (f"{_number(points[i])},{_number(points[i + 1])}" for i in range(0, len(points) - 1, 2))
            parts.append(f' points="{" ".join(pairs)}"')
        fill, fill_opacity = _color(getattr(node, "fillColor", None) if filled else None)
        parts.append(f' fill="{fill}"')
        opacity = fill_opacity * (getattr(node, "fillOpacity", None) or 1)
        if fill != "none" and opacity < 1:
            parts.append(f' fill-opacity="{_number(opacity)}"')
        parts.append(self._stroke(node))
        parts.append("/>")
        self.out.append("".join(parts))

    @staticmethod
    def _stroke(node) -> str:
        stroke, opacity = _color(getattr(node, "strokeColor", None))
        width = getattr(node, "strokeWidth", 1)
        if stroke == "none" or not width:
            return ' stroke="none"'
        parts = [f' stroke="{stroke}" stroke-width="{_number(width)}"']
        opacity *= getattr(node, "strokeOpacity", None) or 1
        if opacity < 1:
            parts.append(f' stroke-opacity="{_number(opacity)}"')
        cap = getattr(node, "strokeLineCap", 0) or 0
        if cap:
            parts.append(f' stroke-linecap="{_LINE_CAPS[cap]}"')
        join = getattr(node, "strokeLineJoin", 0) or 0
        if join:
            parts.append(f' stroke-linejoin="{_LINE_JOINS[join]}"')
        dashes = getattr(node, "strokeDashArray", None)
        if dashes:
            # ReportLab also takes (phase, [dashes]); SVG wants the lengths only.
            if len(dashes) == 2 and isinstance(dashes[1], list | tuple):
                dashes = dashes[1]
            parts.append(f' stroke-dasharray="{" ".join(_number(d) for d in dashes)}"')
        return "".join(parts)

    def string(self, node: shapes.String) -> None:
        fill, opacity = _color(node.fillColor)
        anchor = _ANCHORS.get(node.textAnchor, "start")
        parts = [
            f'<text transform="matrix(1 0 0 -1 {_number(node.x)} {_number(node.y)})" '
            f'font-size="{_number(node.fontSize)}" fill="{fill}"'
        ]
        if opacity < 1:
            parts.append(f' fill-opacity="{_number(opacity)}"')
        if anchor != "start":
            parts.append(f' text-anchor="{anchor}"')
        parts.append(f">{_text(node.text)}</text>")
        self.out.append("".join(parts))
