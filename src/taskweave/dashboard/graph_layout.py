"""A layered drawing of a dependency graph, computed on the server and drawn as SVG.

The classic layered (Sugiyama) steps, at the size the dashboard draws (at most
a few hundred nodes): each task goes one layer right of its latest dependency,
an edge that spans layers passes through a waypoint in each layer it crosses,
the order inside each layer is improved by a few barycentre sweeps, and edges
are drawn as smooth curves through their waypoints.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

NODE_WIDTH = 190
NODE_HEIGHT = 36
LAYER_GAP = 70
ROW_GAP = 14
MARGIN = 10
SWEEPS = 4


@dataclass(frozen=True)
class PlacedNode:
    id: str
    x: float
    y: float


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    nodes: list[PlacedNode]
    edges: list[tuple[str, str, str]]  # (dependency, dependent, SVG path)


def layout(node_ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> Drawing:
    """Place `node_ids` left to right along `edges` (each from a dependency to its dependent)."""
    known = set(node_ids)
    edges = [(a, b) for a, b in dict.fromkeys(edges) if a in known and b in known and a != b]
    layer = _layers(node_ids, edges)
    # Waypoints: an edge spanning several layers gets one in each layer between its ends.
    rows: dict[int, list[str]] = defaultdict(list)
    for node in node_ids:
        rows[layer[node]].append(node)
    chains: dict[tuple[str, str], list[str]] = {}
    links: list[tuple[str, str]] = []
    for a, b in edges:
        chain = [a]
        for step in range(layer[a] + 1, layer[b]):
            waypoint = f"\0{a}\0{b}\0{step}"
            layer[waypoint] = step
            rows[step].append(waypoint)
            chain.append(waypoint)
        chain.append(b)
        chains[(a, b)] = chain
        links += list(zip(chain, chain[1:]))
    order = _ordered(rows, links)
    position = {node: index for nodes in order.values() for index, node in enumerate(nodes)}
    tallest = max((len(nodes) for nodes in order.values()), default=0)

    def centre(node: str) -> tuple[float, float]:
        offset = (tallest - len(order[layer[node]])) * (NODE_HEIGHT + ROW_GAP) / 2
        x = MARGIN + layer[node] * (NODE_WIDTH + LAYER_GAP) + NODE_WIDTH / 2
        y = MARGIN + offset + position[node] * (NODE_HEIGHT + ROW_GAP) + NODE_HEIGHT / 2
        return x, y

    placed = [PlacedNode(n, centre(n)[0] - NODE_WIDTH / 2, centre(n)[1] - NODE_HEIGHT / 2) for n in node_ids]
    drawn = [(a, b, _curve([centre(p) for p in chains[(a, b)]])) for a, b in edges]
    layers = max(layer.values(), default=-1) + 1
    return Drawing(
        width=2 * MARGIN + layers * NODE_WIDTH + max(0, layers - 1) * LAYER_GAP,
        height=2 * MARGIN + tallest * NODE_HEIGHT + max(0, tallest - 1) * ROW_GAP,
        nodes=placed,
        edges=drawn,
    )


def _layers(node_ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the tasks that depend on nothing shown (a topological pass)."""
    incoming: dict[str, int] = {n: 0 for n in node_ids}
    outgoing: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        incoming[b] += 1
        outgoing[a].append(b)
    layer = {n: 0 for n in node_ids}
    ready = [n for n in node_ids if incoming[n] == 0]
    while ready:
        node = ready.pop()
        for after in outgoing[node]:
            layer[after] = max(layer[after], layer[node] + 1)
            incoming[after] -= 1
            if incoming[after] == 0:
                ready.append(after)
    return layer


def _ordered(rows: dict[int, list[str]], links: Sequence[tuple[str, str]]) -> dict[int, list[str]]:
    """Reorder each layer by the mean position of its neighbours in the layer before (then after)."""
    before: dict[str, list[str]] = defaultdict(list)
    after: dict[str, list[str]] = defaultdict(list)
    for a, b in links:
        before[b].append(a)
        after[a].append(b)
    order = {index: list(nodes) for index, nodes in rows.items()}
    layers = sorted(order)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        sequence = layers[1:] if downward else list(reversed(layers[:-1]))
        neighbours = before if downward else after
        for index in sequence:
            placed = {
                node: i for i, node in enumerate(order.get(index - 1 if downward else index + 1, []))
            }

            def weight(item: tuple[int, str]) -> float:
                current, node = item
                seen = [placed[n] for n in neighbours[node] if n in placed]
                return sum(seen) / len(seen) if seen else float(current)

            order[index] = [node for _, node in sorted(enumerate(order[index]), key=weight)]
    return order


def _curve(points: Sequence[tuple[float, float]]) -> str:
    """From the right edge of the first node to the left edge of the last, through the waypoints."""
    (x0, y0), (xn, yn) = points[0], points[-1]
    inner = [(x0 + NODE_WIDTH / 2, y0), *points[1:-1], (xn - NODE_WIDTH / 2, yn)]
    path = f"M{inner[0][0]:.0f},{inner[0][1]:.0f}"
    for (ax, ay), (bx, by) in zip(inner, inner[1:]):
        middle = (ax + bx) / 2
        path += f" C{middle:.0f},{ay:.0f} {middle:.0f},{by:.0f} {bx:.0f},{by:.0f}"
    return path
