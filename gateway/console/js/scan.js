// What a scanned (or typed) code is: a work order, a lot or a serial, found by its exact number
// through the routes the person may read; the console then goes to it.
import {api, session} from "./api.js";
import {t} from "./i18n.js";
import {modal, h, button} from "./ui.js";

export async function lookup(code) {
  const searches = [];
  if (session.can("work_order:read")) {
    searches.push(api.get("/work-orders", {number: code, limit: 5}).then((page) =>
      page.items.filter((w) => w.number === code).map((w) => ({kind: "work_order", item: w,
                                                                 href: `#/work-orders/${w.id}`}))));
  }
  if (session.can("material:read")) {
    searches.push(api.get("/material/lots", {lot_number: code, limit: 5}).then((page) =>
      page.items.filter((l) => l.lot_number === code).map((l) => ({kind: "lot", item: l,
                                                                     href: `#/material/lots/${l.id}`}))));
    searches.push(api.get("/material/serials", {serial_number: code, limit: 5}).then((page) =>
      page.items.filter((s) => s.serial_number === code).map((s) => ({kind: "serial", item: s,
                                                                        href: `#/material/serials/${s.id}`}))));
  }
  return (await Promise.all(searches)).flat();
}

export async function scanTo(code) {
  const found = await lookup(code);
  if (!found.length) throw new Error(t("scan.not_found", {code}));
  if (found.length === 1) {
    location.hash = found[0].href;
    return;
  }
  // the same number on a lot and a work order (say): the person picks
  await modal(t("scan.which", {code}), (close) => h("ul", {class: "choices"}, found.map((f) =>
    h("li", {}, button(`${t(`scan.kind.${f.kind}`)} ${code}`, () => { close(); location.hash = f.href; },
                       {kind: "secondary"})))));
}
