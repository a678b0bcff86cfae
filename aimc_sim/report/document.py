"""A minimal document model rendered to Markdown (PNG files alongside) and self-contained HTML (PNGs inlined)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Document"]


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
                out.append("|" + "---|" * len(header))
                out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
                out.append("")
            elif kind == "image":
                path, caption = value  # type: ignore[misc]
                out += [f"![{caption}]({Path(path).resolve().relative_to(base.resolve()).as_posix()})", ""]
            elif kind == "code":
                out += ["```", str(value).rstrip(), "```", ""]
        return "\n".join(out)

    def to_html(self) -> str:
        """One self-contained HTML page: PNGs are embedded as data URIs."""
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "heading":
                level, text = value  # type: ignore[misc]
                body.append(f"<h{level}>{e(text)}</h{level}>")
            elif kind == "paragraph":
                body.append(f"<p>{e(str(value))}</p>")
            elif kind == "table":
                header, rows = value  # type: ignore[misc]
                head = "".join(f"<th>{e(h)}</th>" for h in header)
                cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
            elif kind == "image":
                path, caption = value  # type: ignore[misc]
                data = base64.b64encode(Path(path).read_bytes()).decode()
                body.append(
                    f'<figure><img src="data:image/png;base64,{data}" alt="{e(caption)}">'
                    f"<figcaption>{e(caption)}</figcaption></figure>"
                )
            elif kind == "code":
                body.append(f"<pre>{e(str(value))}</pre>")
        style = (
            "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
            "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
            "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
            "img{max-width:100%}figcaption{color:#555;font-size:90%}pre{background:#f6f6f6;padding:1em;"
            "overflow-x:auto}"
        )
        return (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{e(self.title)}</title>'
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
