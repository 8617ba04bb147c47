// The genealogy graph: a backward and a forward trace (nested answers of the traceability service) drawn
// as one tree on each side of the root, in SVG. A node expands or collapses on click or Enter; the
// arrow keys move between nodes (one tab stop for the whole graph). Each expand is timed with the
// Performance API ("mes-graph-expand"), which bench/console.py reads.
import {t, term} from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const COL = 250;
const ROW = 58;
const BOX_W = 210;
const BOX_H = 46;
const PAD = 16;
const INITIAL_VISIBLE = 60;

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function clip(text, max = 28) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export class Graph {
  constructor(container, backward, forward, {onSelect} = {}) {
    this.container = container;
    this.onSelect = onSelect || (() => {});
    this.nodes = new Map();
    for (const n of [backward.root, ...backward.nodes, ...forward.nodes]) this.nodes.set(n.id, n);
    let next = 0;
    const build = (tree, side, depth, parent) => {
      const item = {key: `k${next++}`, id: tree.id, side, depth, parent, ref: Boolean(tree.ref), via: tree.via,
                    expanded: false, children: []};
      item.children = (tree.children || []).map((c) => build(c, side, depth + 1, item));
      item.ncr = item.children.some((c) => this.nodes.get(c.id)?.type === "ncr");
      return item;
    };
    const back = build(backward.tree || {id: backward.root.id, children: []}, -1, 0, null);
    const fwd = build(forward.tree || {id: forward.root.id, children: []}, 1, 0, null);
    this.root = {...back, side: 0, back: back.children, fwd: fwd.children, expanded: true,
                 ncr: back.ncr || fwd.ncr};
    for (const c of [...this.root.back, ...this.root.fwd]) c.parent = this.root;
    this.root.children = [...this.root.back, ...this.root.fwd];
    this.selected = this.root;
    this.expandToFit(INITIAL_VISIBLE);
  }

  // open levels, nearest first, while the graph stays readable
  expandToFit(limit) {
    let level = [this.root];
    let visible = 1;
    while (level.length) {
      const nextLevel = level.flatMap((item) => item.children);
      if (visible + nextLevel.length > limit && visible > 1) break;
      for (const item of level) item.expanded = true;
      visible += nextLevel.length;
      level = nextLevel;
    }
  }

  expandAll() {
    this.walk(this.root, (item) => { item.expanded = true; });
    this.timedDraw(this.root);
  }

  collapseAll() {
    this.walk(this.root, (item) => { item.expanded = false; });
    this.root.expanded = true;
    this.timedDraw(this.root);
  }

  walk(item, visit) {
    const stack = [item];
    while (stack.length) {
      const current = stack.pop();
      visit(current);
      stack.push(...current.children);
    }
  }

  layout() {
    // rows by depth-first order on each side; a parent sits between its first and last child
    const place = (items, counter, depth, out) => {
      const rows = [];
      for (const item of items) {
        item.depth = depth;
        out.push(item);
        if (item.expanded && item.children.length) {
          const childRows = place(item.children, counter, depth + 1, out);
          item.row = (childRows[0] + childRows[childRows.length - 1]) / 2;
        } else {
          item.row = counter.next++;
        }
        rows.push(item.row);
      }
      return rows;
    };
    const backItems = [];
    const fwdItems = [];
    const backCount = {next: 0};
    const fwdCount = {next: 0};
    const backRows = place(this.root.back, backCount, 1, backItems);
    const fwdRows = place(this.root.fwd, fwdCount, 1, fwdItems);
    const centre = (rows) => (rows.length ? (rows[0] + rows[rows.length - 1]) / 2 : 0);
    const rootRow = Math.max(centre(backRows), centre(fwdRows));
    const backShift = rootRow - centre(backRows);
    const fwdShift = rootRow - centre(fwdRows);
    for (const item of backItems) item.row += backShift;
    for (const item of fwdItems) item.row += fwdShift;
    this.root.row = rootRow;
    this.root.depth = 0;
    this.backDepth = Math.max(0, ...backItems.map((i) => i.depth));
    this.fwdDepth = Math.max(0, ...fwdItems.map((i) => i.depth));
    this.rows = Math.max(backCount.next + backShift, fwdCount.next + fwdShift, 1);
    this.visible = [this.root, ...backItems, ...fwdItems];
    for (const item of this.visible) {
      item.x = PAD + (this.backDepth + (item === this.root ? 0 : item.side * item.depth)) * COL;
      item.y = PAD + item.row * ROW;
    }
  }

  draw() {
    this.layout();
    const width = 2 * PAD + (this.backDepth + this.fwdDepth) * COL + BOX_W;
    const height = 2 * PAD + this.rows * ROW;
    const svg = el("svg", {width, height, viewBox: `0 0 ${width} ${height}`, role: "tree",
                           "aria-label": t("trace.graph_label")});
    const edges = el("g", {"aria-hidden": "true"});
    const fragment = document.createDocumentFragment();
    for (const item of this.visible) {
      if (item.parent && item !== this.root) {
        const [x1, x2] = item.side < 0 ? [item.parent.x, item.x + BOX_W] : [item.parent.x + BOX_W, item.x];
        const y1 = item.parent.y + BOX_H / 2;
        const y2 = item.y + BOX_H / 2;
        const mid = (x1 + x2) / 2;
        edges.append(el("path", {class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}));
      }
      fragment.append(this.nodeElement(item));
    }
    svg.append(edges, fragment);
    this.container.replaceChildren(svg);
    this.svg = svg;
  }

  nodeElement(item) {
    const node = this.nodes.get(item.id) || {type: "node", number: item.id.slice(0, 8)};
    const typeText = term("node_type", node.type);
    const title = `${typeText} ${node.number || ""}`.trim();
    const sub = [node.part_number, node.on_hold ? t("mat.on_hold") : null, item.ref ? t("trace.shown_elsewhere") : null]
      .filter(Boolean).join(" · ");
    const open = item.children.length > 0 && item !== this.root;   // the root stays open
    const classes = ["node", item === this.root ? "root" : "", node.type === "ncr" || item.ncr ? "ncr" : ""];
    const g = el("g", {class: classes.join(" ").trim(), transform: `translate(${item.x},${item.y})`, role: "treeitem",
                       "aria-level": item.depth + 1, "aria-selected": String(item === this.selected),
                       "aria-expanded": open ? String(item.expanded) : null, tabindex: item === this.selected ? 0 : -1,
                       "aria-label": [title, sub, item.ncr ? t("trace.has_ncr") : null].filter(Boolean).join(", "),
                       "data-key": item.key, "data-id": item.id, "data-type": node.type});
    g.append(el("rect", {width: BOX_W, height: BOX_H}),
      el("text", {x: 10, y: 19}, clip(title)),
      el("text", {x: 10, y: 37, class: "kind"}, clip(sub || term("edge", item.via) || "")));
    if (open) g.append(el("text", {x: BOX_W - 18, y: 28, class: "toggle"}, item.expanded ? "−" : "+"));
    g.addEventListener("click", () => this.activate(item));
    g.addEventListener("keydown", (event) => this.key(event, item));
    return g;
  }

  activate(item) {
    this.selected = item;
    if (item.children.length && item !== this.root) {
      item.expanded = !item.expanded;
      this.timedDraw(item);
    } else {
      this.draw();
    }
    this.focus(item);
    this.onSelect({...this.nodes.get(item.id), id: item.id,
                   ncrs: item.children.filter((c) => this.nodes.get(c.id)?.type === "ncr")
                     .map((c) => this.nodes.get(c.id).number)});
  }

  // redraw keeping `anchor` where it was on the screen, and time it to the next painted frame
  timedDraw(anchor) {
    performance.mark("mes-graph-expand-start");
    const before = anchor.y - this.container.scrollTop;
    const beforeX = anchor.x - this.container.scrollLeft;
    this.draw();
    this.container.scrollTop = anchor.y - before;
    this.container.scrollLeft = anchor.x - beforeX;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      performance.measure("mes-graph-expand", "mes-graph-expand-start");
    }));
  }

  focus(item) {
    this.svg.querySelector(`[data-key="${item.key}"]`)?.focus({preventScroll: false});
  }

  key(event, item) {
    const move = (target) => {
      if (!target) return;
      event.preventDefault();
      this.selected = target;
      for (const g of this.svg.querySelectorAll("[tabindex='0']")) g.setAttribute("tabindex", "-1");
      const g = this.svg.querySelector(`[data-key="${target.key}"]`);
      g.setAttribute("tabindex", "0");
      g.focus();
    };
    const sameColumn = (direction) => this.visible.filter((i) => i.x === item.x && Math.sign(i.row - item.row) === direction)
      .sort((a, b) => direction * (a.row - b.row))[0];
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.activate(item);
    } else if (event.key === "ArrowUp") move(sameColumn(-1));
    else if (event.key === "ArrowDown") move(sameColumn(1));
    else if (event.key === "ArrowLeft") move(item.side > 0 ? item.parent : item.expanded ? (item === this.root ?
      this.root.back : item.children)[0] : null);
    else if (event.key === "ArrowRight") move(item.side < 0 ? item.parent : item.expanded ? (item === this.root ?
      this.root.fwd : item.children)[0] : null);
  }
}
