// The door page's modules against the shared vectors (tests/vectors/door.json), which the Python tests check
// against the server: the door reads codes and decides offline as the server does. Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { readCode } from "../../static/js/door/codes.js";
import { decideEntry, findTicket, guestList } from "../../static/js/door/admit.js";
import { PAGE_FILES } from "../../static/js/door/offline.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VECTORS = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "door.json"), "utf8"));
const subtle = globalThis.crypto.subtle;

function snakeClaims(claims) {
  return {
    key_id: claims.keyId,
    ticket_id: claims.ticketId,
    version: claims.version,
    event_id: claims.eventId,
    ticket_type_id: claims.ticketTypeId,
    secret: claims.secret,
    valid_from: claims.validFrom,
    valid_until: claims.validUntil,
  };
}

// What the door makes of a scanned text, in the vectors' terms; genuine means it verifies with the server's keys.
async function reading(text) {
  const read = readCode(text);
  if (read.kind !== "signed") return read;
  const everyKey = guestList({ event: { id: VECTORS.guest_list.event }, keys: VECTORS.keys, tickets: [] }, subtle);
  const genuine = await everyKey.verify(read.claims.keyId, read.message, read.signature);
  return { kind: "signed", claims: snakeClaims(read.claims), genuine: genuine };
}

test("the door reads each code as the vectors say", async (t) => {
  for (const vector of VECTORS.codes) {
    await t.test(vector.name, async () => {
      assert.deepEqual(await reading(vector.text), vector.expect);
    });
  }
});

// The offline bundle for one decision case, as checkin/scanning.py offline_bundle writes it.
function bundleFor(vector) {
  const guests = VECTORS.guest_list;
  const state = vector.ticket;
  const ticket = Object.assign({}, guests.ticket, {
    version: state.version,
    status: vector.door_status,
    checked_in: state.checked_in && !state.admitted_here,
  });
  const keys = Object.fromEntries(guests.keys.map((id) => [id, VECTORS.keys[id]]));
  return { event: { id: guests.event }, keys: keys, tickets: [ticket], revoked: ticket.status === "valid" ? [] : [ticket.id] };
}

test("the door decides each scan offline as the vectors say", async (t) => {
  for (const vector of VECTORS.decisions) {
    await t.test(vector.name, async () => {
      const list = guestList(bundleFor(vector), subtle);
      const here = vector.ticket.admitted_here ? { [VECTORS.guest_list.ticket.id]: { at: "2026-09-12T19:30:00Z", device: "Door A" } } : {};
      const decision = decideEntry(await findTicket(vector.scan, list), here);
      assert.equal(decision.reason || "ok", vector.offline || vector.expect);
      if (!decision.reason) assert.equal(decision.ticket.id, VECTORS.guest_list.ticket.id);
    });
  }
});

test("a ticket the door admitted offline is shown as let in here, with when and where", async () => {
  const [vector] = VECTORS.decisions.filter((v) => v.ticket.admitted_here);
  const here = { [VECTORS.guest_list.ticket.id]: { at: "2026-09-12T19:30:00Z", device: "Door A" } };
  const decision = decideEntry(await findTicket(vector.scan, guestList(bundleFor(vector), subtle)), here);
  assert.deepEqual(decision.earlier, { at: "2026-09-12T19:30:00Z", device: "Door A" });
});

test("with no guest list nothing is found, and with no WebCrypto a code must still name the ticket's secret", async () => {
  const [admits] = VECTORS.decisions.filter((v) => v.expect === "ok" && v.scan.startsWith("EVT2."));
  const list = guestList(bundleFor(admits), null);
  assert.equal(guestList(null, subtle), null);
  assert.equal(decideEntry(await findTicket(admits.scan, list), {}).reason, undefined);
  const otherSecret = VECTORS.codes.find((v) => v.name === "EVT2 code with another ticket's secret");
  assert.equal(decideEntry(await findTicket(otherSecret.text, list), {}).reason, "unknown");
});

// --- the page's files, for the offline cache and the CSP -----------------------------------------------------

function importsOf(file) {
  const source = readFileSync(join(ROOT, file), "utf8");
  const found = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm)) {
    const specifier = match[1] || match[2];
    assert.ok(specifier.startsWith("./") || specifier.startsWith("../"), `${file} imports ${specifier}: only relative files, no build step`);
    found.push("/" + join(dirname(file), specifier).replace(/\\/g, "/"));
  }
  assert.doesNotMatch(source, /\bimport\s*\(/, `${file}: a dynamic import would not be in the offline cache`);
  return found;
}

function moduleGraph(entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length) {
    const url = todo.pop();
    if (seen.has(url)) continue;
    seen.add(url);
    todo.push(...importsOf(url.slice(1)));
  }
  return seen;
}

test("every module the door page loads is kept for offline, and every kept file exists", () => {
  const graph = moduleGraph("/static/js/door.js");
  for (const url of graph) assert.ok(PAGE_FILES.includes(url), `${url} is not in door/offline.js PAGE_FILES`);
  for (const url of PAGE_FILES) assert.ok(existsSync(join(ROOT, url)), `${url} does not exist`);
  // Every module in static/js/door/ is part of the page (paired.js is the pairing page's own, online only).
  const modules = readdirSync(join(ROOT, "static", "js", "door")).filter((name) => name.endsWith(".js") && name !== "paired.js");
  assert.deepEqual(modules.map((name) => "/static/js/door/" + name).sort(), [...graph].filter((url) => url.startsWith("/static/js/door/")).sort());
});

test("the files the door templates link are kept for offline, and the scripts are modules with no inline code", () => {
  const door = readFileSync(join(ROOT, "templates", "checkin", "door.html"), "utf8");
  const base = readFileSync(join(ROOT, "templates", "base.html"), "utf8");
  // The templates name static files through static_url('...') (a versioned URL); the worker keeps them by path.
  const linked = [...(base + door).matchAll(/static_url\('([^']+)'\)/g)].map(([, path]) => "/static/" + path);
  assert.ok(linked.includes("/static/js/door.js") && linked.includes("/static/css/site.css"), linked.join(", "));
  for (const url of linked) {
    assert.ok(PAGE_FILES.includes(url), `${url} is linked by the door page but not kept for offline`);
  }
  assert.match(door, /<script type="module" src="\{\{ static_url\('js\/door\.js'\) \}\}"><\/script>/);
  const paired = readFileSync(join(ROOT, "templates", "checkin", "paired.html"), "utf8");
  assert.match(paired, /<script type="module" src="\{\{ static_url\('js\/door\/paired\.js'\) \}\}"><\/script>/);
  // script-src 'self': no inline script (a JSON data block is not run), no eval.
  for (const template of [door, paired]) {
    for (const [tag] of template.matchAll(/<script\b[^>]*>/g)) {
      assert.ok(/\ssrc="/.test(tag) || /type="application\/json"/.test(tag), `inline script: ${tag}`);
    }
    assert.doesNotMatch(template, /\son[a-z]+="/, "inline event handler");
  }
  for (const url of moduleGraph("/static/js/door.js")) {
    assert.doesNotMatch(readFileSync(join(ROOT, url), "utf8"), /\beval\s*\(|new\s+Function\s*\(/, `${url} needs eval`);
  }
});
