"""Live pages' events: a log line rendered from its one template, its text escaped, and HTML
of several lines sent as several `data:` lines."""

from __future__ import annotations

from panel import live


def test_a_log_line_is_text_never_markup() -> None:
    html = live.log_line("<script>x()</script>", kind="error", seq=7,
                         at="2026-11-23T07:00:01+00:00", source="lab1/web")  # fmt: skip
    assert html == (
        '<div class="line kind-error" data-seq="7"><time datetime="2026-11-23T07:00:01+00:00">'
        '07:00:01</time><span class="source">lab1/web</span>'
        "<span>&lt;script&gt;x()&lt;/script&gt;</span></div>"
    )
    assert live.log_line("plain") == '<div class="line"><span>plain</span></div>'


def test_an_event_carries_every_line_of_its_html() -> None:
    assert live.event("end", "<p>a</p>\n<p>b</p>", 3) == (
        "id: 3\nevent: end\ndata: <p>a</p>\ndata: <p>b</p>\n\n"
    )
    assert live.event("line", "") == "event: line\ndata: \n\n"
