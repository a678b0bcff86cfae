"""A minimal document model rendered to Markdown (PNG files alongside) and self-contained HTML (PNGs inlined).

Text (paragraphs, table cells, captions) may use inline Markdown: ``**bold**``, ```code``` and
``[text](relative/path)`` links; the HTML rendering turns them into markup, so no literal Markdown shows.
Table columns whose cells are all numbers are right-aligned, prose columns left-aligned, in both renderings.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Document", "inline_html", "numeric_column"]

_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")
_NUMBER = re.compile(r"[-+−]?(\d[\d,]*\.?\d*|\.\d+)(e[-+]?\d+)?(\s*(±|%|to|\[|\]|,|[-+−]?\d[\d,]*\.?\d*(e[-+]?\d+)?))*")


def inline_html(text: str) -> str:
    """HTML for one line of text with inline Markdown (code spans, bold, links); everything else escaped."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        code, bold, label, href = m.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{inline_html(bold)}</strong>")
        else:
            out.append(f'<a href="{html.escape(href, quote=True)}">{inline_html(label)}</a>')
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _plain(text: str) -> str:
    return _INLINE.sub(lambda m: m.group(1) or m.group(2) or m.group(3), text).strip()


def numeric_column(cells: Sequence[str]) -> bool:
    """True if every non-empty cell is a number (optionally with ±, %, an interval): right-align it."""
    values = [_plain(c) for c in cells if _plain(c)]
    return bool(values) and all(_NUMBER.fullmatch(v) for v in values)


@dataclass
class Document:
    """Headings, paragraphs, tables, images and code blocks, in order."""

    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(("heading", (level, text)))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("paragraph", text))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.blocks.append(("table", ([str(h) for h in header], [[str(c) for c in r] for r in rows])))

    def image(self, path: str | Path, caption: str) -> None:
        self.blocks.append(("image", (Path(path), caption)))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text))

    @staticmethod
    def _numeric(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[bool]:
        return [numeric_column([r[j] for r in rows if j < len(r)]) for j in range(len(header))]

    def to_markdown(self, base: Path) -> str:
        """Markdown; images are linked relative to ``base`` (the folder of the .md file)."""
        out = [f"# {self.title}", ""]
        for kind, value in self.blocks:
            if kind == "heading":
                level, text = value  # type: ignore[misc]
                out += [f"{'#' * level} {text}", ""]
            elif kind == "paragraph":
                out += [str(value), ""]
            elif kind == "table":
                header, rows = value  # type: ignore[misc]
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "".join("---:|" if num else ":---|" for num in self._numeric(header, rows)))
                out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
                out.append("")
            elif kind == "image":
                path, caption = value  # type: ignore[misc]
                out += [f"![{caption}]({Path(path).resolve().relative_to(base.resolve()).as_posix()})", ""]
                out += [f"*{caption}*", ""]
            elif kind == "code":
                out += ["```", str(value).rstrip(), "```", ""]
        return "\n".join(out)

    def to_html(self) -> str:
        """One self-contained HTML page: PNGs are embedded as data URIs; links stay relative."""
        e = html.escape
        body = [f"<h1>{inline_html(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "heading":
                level, text = value  # type: ignore[misc]
                body.append(f"<h{level}>{inline_html(text)}</h{level}>")
            elif kind == "paragraph":
                body.append(f"<p>{inline_html(str(value))}</p>")
            elif kind == "table":
                header, rows = value  # type: ignore[misc]
                cls = ['class="num"' if num else 'class="txt"' for num in self._numeric(header, rows)]
                head = "".join(f"<th {c}>{inline_html(h)}</th>" for c, h in zip(cls, header))
                cells = "".join(
                    "<tr>" + "".join(f"<td {c}>{inline_html(v)}</td>" for c, v in zip(cls, r)) + "</tr>" for r in rows
                )
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
            elif kind == "image":
                path, caption = value  # type: ignore[misc]
                data = base64.b64encode(Path(path).read_bytes()).decode()
                body.append(
                    f'<figure><img src="data:image/png;base64,{data}" alt="{e(_plain(caption))}">'
                    f"<figcaption>{inline_html(caption)}</figcaption></figure>"
                )
            elif kind == "code":
                body.append(f"<pre>{e(str(value))}</pre>")
        style = (
            "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;"
            "text-align:left}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
            "padding:4px 8px;vertical-align:top}th{background:#f3f3f3}.num{text-align:right;"
            "font-variant-numeric:tabular-nums}.txt{text-align:left}img{max-width:100%}"
            "figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}pre{background:#f6f6f6;padding:1em;"
            "overflow-x:auto}code{background:#f3f3f3;padding:0 3px}"
        )
        return (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{e(_plain(self.title))}</title>'
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
        )

    def write(self, folder: str | Path, stem: str = "report") -> tuple[Path, Path]:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``folder``; returns both paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        md, page = folder / f"{stem}.md", folder / f"{stem}.html"
        md.write_text(self.to_markdown(folder))
        page.write_text(self.to_html())
        return md, page
