"""One layout for the step-through: the direction suits the graph, items never overlap."""

from tinygrad_edu.viz.layout import FONT, Group, Item, choose_rankdir, lay_out


def chain(n):
    items = {f"v{i}": Item(f"v{i}", "value", [("name", 2), ("data", 9), ("grad", 10)])
             for i in range(n)}
    return items, [(f"v{i}", f"v{i + 1}") for i in range(n - 1)]


def fan(n):
    items = {f"v{i}": Item(f"v{i}", "value", [("name", 2), ("data", 9), ("grad", 10)])
             for i in range(n)}
    items["out"] = Item("out", "value", [("name", 3)])
    return items, [(f"v{i}", "out") for i in range(n)]


def test_long_chains_read_down_and_wide_fans_read_across():
    # a box is wide and flat, so a long chain fits best stacked top to bottom, and many
    # boxes side by side feeding one fit best as a column read left to right
    assert choose_rankdir(*chain(12)) == "TB"
    assert choose_rankdir(*fan(12)) == "LR"


def test_items_are_placed_apart_and_inside_the_picture():
    items, edges = chain(5)
    layout = lay_out(items, edges, "LR")
    boxes = sorted((it.x - it.w / 2, it.x + it.w / 2) for it in layout.items.values())
    assert all(a[1] <= b[0] for a, b in zip(boxes, boxes[1:])), "no two boxes overlap"
    assert all(0 <= it.x - it.w / 2 and it.x + it.w / 2 <= layout.width + 1
               for it in layout.items.values())
    assert len(layout.edges) == 4 and all(len(pts) >= 4 for _, _, pts in layout.edges)
    assert items["v0"].h == FONT + 9, "one row of text"


def test_a_group_box_holds_its_items_and_nested_groups():
    items, edges = chain(4)
    groups = {"g0": Group("g0", "outer", ["v0"]), "g1": Group("g1", "inner", ["v1", "v2"], "g0")}
    layout = lay_out(items, edges, "TB", groups)
    outer, inner = layout.groups["g0"], layout.groups["g1"]
    assert set(outer.members) == {"v0", "v1", "v2"} and inner.members == ["v1", "v2"]

    def inside(box, rect):
        return (rect[0] <= box[0] and box[0] + box[2] <= rect[0] + rect[2]
                and rect[1] <= box[1] and box[1] + box[3] <= rect[1] + rect[3])

    for key in ("v1", "v2"):
        it = items[key]
        assert inside((it.x - it.w / 2, it.y - it.h / 2, it.w, it.h), inner.rect)
    assert inside(inner.rect, outer.rect)
    v3 = items["v3"]
    assert not inside((v3.x - v3.w / 2, v3.y - v3.h / 2, v3.w, v3.h), outer.rect)
