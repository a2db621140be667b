"""Icon arrays: 100 people as a 10 x 10 grid of SVG circles, drawn from outcome data, never by hand.

Filled circles are people who had the outcome, open rings those who did not: the two stay apart in
greyscale and on a black-and-white printer. The same numbers always give the same bytes.
"""

from __future__ import annotations

import base64

from markupsafe import Markup, escape

from leaflets.select import reader_count

ROWS = COLUMNS = 10
CELL = 10
RADIUS = 3.6
FILLED_CLASS = "had"
OPEN_CLASS = "not"


def icon_svg(count: int) -> str:
    """Return an SVG of 100 people, the first `count` (row by row) filled."""
    count = max(0, min(ROWS * COLUMNS, count))
    circles = []
    for index in range(ROWS * COLUMNS):
        x = (index % COLUMNS) * CELL + CELL / 2
        y = (index // COLUMNS) * CELL + CELL / 2
        if index < count:
            circles.append(f'<circle class="{FILLED_CLASS}" cx="{x:g}" cy="{y:g}" r="{RADIUS:g}" fill="#000000"/>')
        else:
            circles.append(
                f'<circle class="{OPEN_CLASS}" cx="{x:g}" cy="{y:g}" r="{RADIUS - 0.6:g}" fill="#ffffff" '
                'stroke="#000000" stroke-width="1.1"/>'
            )
    size = ROWS * CELL
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{size}" height="{size}">'
        + "".join(circles)
        + "</svg>"
    )


def icon_array(per100: float, alt: str) -> Markup:
    """Return an `<img>` of the icon array for `per100` people in 100, with `alt` as its text."""
    data = base64.b64encode(icon_svg(reader_count(per100)).encode("ascii")).decode("ascii")
    return Markup(
        f'<img class="icon-array" src="data:image/svg+xml;base64,{data}" alt="{escape(alt)}">'
    )
