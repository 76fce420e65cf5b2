"""``csframe graph --format png|svg``: the dependency graph drawn without graphviz.

The layout is networkx's (each node in the column of its depth: a metric, then what it reads,
left to right, as DOT's ``rankdir=LR``), the drawing matplotlib's; both are wheels from PyPI
(the ``graph`` extra) and need no system program. The file is written next to its final name
and moved there once complete: a failure leaves no empty or half-written image behind."""

from __future__ import annotations

__all__ = ["IMAGE_FORMATS", "write_image"]

import os
import tempfile
from pathlib import Path

from csframe.core.errors import CsframeError, MissingDependencyError, UsageError
from csframe.core.frames import require

IMAGE_FORMATS = ("png", "svg")
_EXTRA_HINT = "pip install 'csframe[graph]'  (matplotlib and networkx; no graphviz needed)"


def _modules():
    try:
        nx = require("networkx", "graph --format png/svg")
        require("matplotlib", "graph --format png/svg")
    except MissingDependencyError as e:
        raise MissingDependencyError(e.message, hint=_EXTRA_HINT) from None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return nx, Figure, FigureCanvasAgg


def _figure(nodes: list[str], edges: list[tuple[str, str]]):
    nx, Figure, FigureCanvasAgg = _modules()
    g = nx.DiGraph()
    g.add_nodes_from(sorted(set(nodes).union(*edges)))  # sorted: the same graph, the same drawing
    g.add_edges_from(edges)
    # each column sorted: networkx's own grouping is a set, which would draw the same graph
    # differently from one run to the next
    layers = [sorted(layer) for layer in nx.topological_generations(g)]
    pos = nx.multipartite_layout(g, subset_key=dict(enumerate(layers)), align="vertical")
    tallest = max(len(layer) for layer in layers)
    widest = max(len(n) for n in g.nodes)
    fig = Figure(figsize=(max(4.0, len(layers) * (0.6 + widest * 0.06)), max(2.5, tallest * 0.7)), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowsize=8, width=0.6, edge_color="#777777",
                           node_size=1500, connectionstyle="arc3,rad=0.05")
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=7, font_family="DejaVu Sans",
                            bbox={"boxstyle": "square,pad=0.3", "facecolor": "white", "edgecolor": "black"})
    ax.margins(x=0.12, y=0.08)
    return fig


def write_image(nodes: list[str], edges: list[tuple[str, str]], fmt: str, output: str) -> None:
    """Draw the graph (``edges`` run from a node to what it depends on) into ``output`` as
    ``fmt`` (png or svg): written to a temporary file beside it, renamed when complete."""
    fig = _figure(nodes, edges)
    import matplotlib

    target = Path(output)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise UsageError(f"--output {output}: cannot write there ({e.strerror})",
                         hint="Name a file in a directory you can write to.") from None
    try:
        with os.fdopen(fd, "wb") as f, matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "csframe"}):
            # svg: labels as text (searchable), no creation date: the same graph gives the same file
            fig.savefig(f, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; an image is not
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise CsframeError(f"--output {output}: could not write the image ({e.strerror or e})",
                           hint="Nothing was written; free some space or choose another place.") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
