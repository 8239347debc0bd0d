"""A horizontal bar chart of the technician report, laid out here (pure) and drawn
as SVG by the template: no JavaScript, nothing but the server."""

from __future__ import annotations

from dataclasses import dataclass

from techapi.reports.technicians import TechnicianReport

# (attribute of TechnicianFigures, legend, colour): colours with AA contrast on white.
SERIES = (("jobs_assigned", "Jobs assigned", "#1b2a3a"),
          ("started_on_time", "Started on time", "#11622e"),
          ("completed_within_window", "Completed within window", "#0a4fb5"))
WIDTH, LABEL_WIDTH, BAR, GAP, TOP = 720, 190, 12, 14, 34


@dataclass(frozen=True)
class Bar:
    series: str
    colour: str
    value: int
    x: int
    y: int
    width: int


@dataclass(frozen=True)
class Group:
    label: str
    y: int  # the label's baseline
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    bar_height: int
    scale_max: int
    legend: list[tuple[str, str, int]]  # (text, colour, x)
    groups: list[Group]


def technician_chart(report: TechnicianReport) -> Chart:
    """One group of bars per technician, all on one scale (the largest figure)."""
    scale_max = max([1] + [getattr(t, attr) for t in report.technicians for attr, _, _ in SERIES])
    room = WIDTH - LABEL_WIDTH - 40  # the value is written after its bar
    groups, y = [], TOP
    for t in report.technicians:
        bars = [Bar(legend, colour, getattr(t, attr), LABEL_WIDTH, y + i * BAR,
                    round(room * getattr(t, attr) / scale_max)) for i, (attr, legend, colour) in enumerate(SERIES)]
        groups.append(Group(t.name or t.technician_id, y + BAR + 4, bars))
        y += BAR * len(SERIES) + GAP
    legend = [(text, colour, 10 + i * 230) for i, (_, text, colour) in enumerate(SERIES)]
    return Chart(WIDTH, max(y, TOP + 20), LABEL_WIDTH, BAR, scale_max, legend, groups)
