"""Keep any drawing small enough to render in bounded time.

Layout cost explodes with fan-out (a constant shared by 10,000 ops), so beyond ``max_nodes``
nodes the graph is collapsed: each top-level scope becomes one node and chains of one
repeated op become one node with a count. Then, always, every node draws at most
``MAX_EDGES_PER_NODE`` incoming and outgoing edges, and at most ``max_nodes`` nodes are drawn
(the nodes nearest the root). What was hidden is written on the nodes and in a note node.
So a drawing has at most ``max_nodes + 1`` nodes and ``MAX_EDGES_PER_NODE * max_nodes`` edges.
"""

from __future__ import annotations

from .walk import Node

#: the most edges drawn into, and out of, one node
MAX_EDGES_PER_NODE = 6


def collapse(nodes: list[Node], any_op: bool = False) -> list[Node]:
    """Merge each top-level scope's ops into one node, and chains of one repeated op into one
    (``any_op``: chains of any ops, for graphs still too large after the first pass)."""
    group_of = list(range(len(nodes)))

    def find(i):
        while group_of[i] != i:
            group_of[i] = group_of[group_of[i]]
            i = group_of[i]
        return i

    consumers = [0] * len(nodes)
    for node in nodes:
        for j in node.inputs:
            consumers[j] += 1
    scope_root: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node.kind == "op" and node.scope:
            top = node.scope.split("/")[0]
            if top in scope_root:
                group_of[find(i)] = find(scope_root[top])
            else:
                scope_root[top] = i
    for i, node in enumerate(nodes):  # op <- data <- op chains of one op type
        if node.kind not in ("op", "group") or node.scope:
            continue
        for j in node.inputs:
            data = nodes[j]
            if data.kind == "inner" and consumers[j] == 1 and data.inputs:
                producer = data.inputs[0]
                same = any_op or nodes[producer].op == node.op
                if nodes[producer].kind in ("op", "group") and same and not nodes[producer].scope:
                    group_of[find(producer)] = find(i)
                    group_of[j] = find(i)
    for i, node in enumerate(nodes):  # data made and used inside one scope disappear into it
        if node.kind == "inner" and node.inputs and node.scope and nodes[node.inputs[0]].scope:
            group_of[i] = find(node.inputs[0])
    members: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        members.setdefault(find(i), []).append(i)
    out: list[Node] = []
    new_index: dict[int, int] = {}
    for rep in sorted(members):
        group = members[rep]
        if len(group) == 1:
            node = nodes[group[0]]
            copy = Node(node.key, node.kind, node._label, node.scope, node.op)
            copy.magnitude, copy.fused = node.magnitude, node.fused
        else:
            counts: dict[str, int] = {}
            for i in group:
                for name, n in nodes[i].op_counts().items():
                    counts[name] = counts.get(name, 0) + n
            total = sum(counts.values())
            scope = nodes[rep].scope.split("/")[0] if nodes[rep].scope else None
            if scope:
                label = f"{scope} ({total} ops)"
            else:
                label = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
            copy = Node(("group", rep), "group", label)
            copy.counts = counts
        new_index[rep] = len(out)
        out.append(copy)
    seen: list[set | None] = [None] * len(out)  # each output node's inputs so far, as a set
    for i, node in enumerate(nodes):  # linear: one set per output node, kept across its members
        me = new_index[find(i)]
        mine = seen[me]
        if mine is None:
            mine = seen[me] = set()
        for j in node.inputs:
            src = new_index[find(j)]
            if src != me and src not in mine:
                mine.add(src)
                out[me].inputs.append(src)
    return out


def bound(nodes: list[Node], max_nodes: int) -> tuple[list[Node], list[str]]:
    """Cap edges per node and the node count; returns the nodes and notes on what was hidden."""
    notes = []
    if len(nodes) > max_nodes:
        hidden = len(nodes) - max_nodes
        nodes = nodes[:max_nodes]
        for node in nodes:
            if node.edge_labels is not None:
                pairs = [(j, t) for j, t in zip(node.inputs, node.edge_labels) if j < max_nodes]
                node.edge_labels = [t for _, t in pairs]
            node.inputs = [j for j in node.inputs if j < max_nodes]
        notes.append(f"{hidden} nodes farthest from the output not drawn (max_nodes={max_nodes})")
    fan_out = [0] * len(nodes)
    consumers = [0] * len(nodes)
    for node in nodes:
        for j in node.inputs:
            consumers[j] += 1
    capped_in = capped_out = 0
    for node in nodes:
        kept, kept_labels = [], []
        labels = node.edge_labels or [None] * len(node.inputs)
        for j, label in zip(node.inputs, labels):
            if len(kept) >= MAX_EDGES_PER_NODE:
                capped_in += 1
                continue
            if fan_out[j] >= MAX_EDGES_PER_NODE:
                continue
            fan_out[j] += 1
            kept.append(j)
            kept_labels.append(label)
        if node.edge_labels is not None:
            node.edge_labels = kept_labels
        if len(node.inputs) > MAX_EDGES_PER_NODE:
            node.notes.append(f"{len(node.inputs)} inputs, {MAX_EDGES_PER_NODE} drawn")
        node.inputs = kept
    for j, n in enumerate(consumers):
        if n > MAX_EDGES_PER_NODE:
            capped_out += 1
            nodes[j].notes.append(f"used by {n} ops, {MAX_EDGES_PER_NODE} edges drawn")
    if capped_out:
        notes.append(f"{capped_out} nodes with more than {MAX_EDGES_PER_NODE} consumers: only some edges drawn")
    if capped_in:
        notes.append(f"{capped_in} input edges of wide nodes not drawn")
    return nodes, notes
