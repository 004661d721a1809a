// The door page: scan with the camera, a handheld scanner (it types the code and presses Enter) or a
// search; the server decides while online, and this script decides offline from the signed code and the
// cached guest list, queueing what it let in until it can sync. Nothing here is trusted by the server:
// offline admissions are re-decided on sync and double admissions come back as conflicts.
(function () {
  "use strict";

  const STORE = "events.door.";
  const RESULT_MS = 2000;
  const BUNDLE_EVERY_MS = 60 * 1000;
  const COUNTS_EVERY_MS = 15 * 1000;
  const ONLINE_TIMEOUT_MS = 2500;
  const CAMERA_REPEAT_MS = 2500;
  const SYNC_BATCH = 500;
  const CACHE = "events-door-v1";

  function read(key, fallback) {
    try {
      const text = localStorage.getItem(STORE + key);
      return text === null ? fallback : JSON.parse(text);
    } catch (error) {
      return fallback;
    }
  }
  function write(key, value) {
    localStorage.setItem(STORE + key, JSON.stringify(value));
  }

  // A phone that has just been paired keeps its token and goes straight to the door page.
  const paired = document.getElementById("door-paired");
  if (paired) {
    write("device", { token: paired.dataset.token, user: paired.dataset.user, device: paired.dataset.device });
    location.replace(paired.dataset.next);
    return;
  }

  const root = document.getElementById("door");
  if (!root) return;
  const slug = root.dataset.slug;
  const userId = root.dataset.user;
  const text = JSON.parse(document.getElementById("door-messages").textContent);
  const locale = document.documentElement.lang || "en";
  const plural = new Intl.PluralRules(locale);
  const $ = (id) => document.getElementById(id);

  function say(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, name) => (values && name in values ? String(values[name]) : ""));
  }
  function clock(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }
  function newNonce() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works on plain http too, unlike crypto.randomUUID
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- the device's token ------------------------------------------------------------------------------

  if (root.dataset.newToken) {
    write("device", { token: root.dataset.newToken, user: userId, device: root.dataset.newDevice });
    history.replaceState(null, "", "/door/" + slug); // a reload is a GET, not a second token
  }
  let device = read("device", null);
  if (device && String(device.user) !== String(userId)) device = null; // someone else's token on this browser

  function showSetup() {
    $("door-setup").hidden = false;
    $("door-scanner").hidden = true;
    $("door-counts").hidden = true;
  }
  function forgetDevice() {
    localStorage.removeItem(STORE + "device");
    device = null;
    stopCamera();
    showSetup();
  }

  // --- local state, per event, kept across reloads --------------------------------------------------------

  const keys = {
    bundle: slug + ".bundle",
    queue: slug + ".queue",
    admitted: slug + ".admitted",
    conflicts: slug + ".conflicts",
    counts: slug + ".counts",
  };
  let index = { byId: new Map(), bySecret: new Map() };

  function indexBundle(bundle) {
    index = { byId: new Map(), bySecret: new Map() };
    if (!bundle) return;
    const revoked = new Set(bundle.revoked || []);
    for (const ticket of bundle.tickets) {
      const entry = Object.assign({}, ticket);
      if (revoked.has(entry.id) && entry.status === "valid") entry.status = "void";
      index.byId.set(entry.id, entry);
      index.bySecret.set(entry.secret.toLowerCase(), entry);
    }
  }
  indexBundle(read(keys.bundle, null));

  // --- talking to the API ------------------------------------------------------------------------------

  let online = navigator.onLine;

  class Unauthorised extends Error {}
  class Unreachable extends Error {}

  function api(method, path, body, timeout) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout || 10000);
    const headers = { Authorization: "Bearer " + device.token, Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
      signal: controller.signal,
    }).then(
      (response) => {
        clearTimeout(timer);
        setOnline(true);
        if (response.status === 401) {
          forgetDevice();
          throw new Unauthorised();
        }
        return response.json().then(
          (data) => ({ status: response.status, data: data }),
          () => ({ status: response.status, data: {} })
        );
      },
      () => {
        clearTimeout(timer);
        setOnline(false);
        throw new Unreachable();
      }
    );
  }

  function setOnline(value) {
    const was = online;
    online = value && navigator.onLine;
    renderNetwork();
    if (online && !was) {
      syncQueue();
      refreshBundle();
      refreshCounts();
    }
  }

  function renderNetwork() {
    const element = $("door-network");
    const waiting = read(keys.queue, []).length;
    element.dataset.state = online ? "online" : "offline";
    let label = online ? text.online : text.offline;
    if (waiting) label += " · " + say(plural.select(waiting) === "one" ? text.waiting_one : text.waiting, { count: waiting });
    element.querySelector(".door-network-text").textContent = label;
  }

  // --- the offline bundle: keys, guest list, revocations --------------------------------------------------

  // Background refreshes try whenever the browser thinks it has a network, so they also notice when the
  // server is reachable again; a scan goes straight to the offline check while the last call failed.
  function refreshBundle() {
    if (!device || !navigator.onLine) return Promise.resolve();
    return api("GET", "/api/checkin/events/" + encodeURIComponent(slug) + "/offline")
      .then((response) => {
        if (response.status !== 200) return;
        write(keys.bundle, response.data);
        indexBundle(response.data);
        signingKeys.clear();
      })
      .catch(() => {});
  }

  // --- counts ------------------------------------------------------------------------------------------

  function renderCounts() {
    const counts = read(keys.counts, null);
    const waiting = read(keys.queue, []).length;
    $("door-admitted").textContent = counts ? String(counts.admitted + (online ? 0 : waiting)) : "–";
    $("door-expected").textContent = counts ? String(counts.expected) : "–";
  }
  function refreshCounts() {
    if (!device || !navigator.onLine) {
      renderCounts();
      return Promise.resolve();
    }
    return api("GET", "/api/checkin/events/" + encodeURIComponent(slug) + "/counts")
      .then((response) => {
        if (response.status === 200) write(keys.counts, response.data);
        renderCounts();
      })
      .catch(renderCounts);
  }

  // --- deciding a scan ------------------------------------------------------------------------------

  let lastCamera = { text: "", seen: 0 };

  function scan(raw, source) {
    const code = String(raw || "").trim();
    if (!code || !device) return;
    const nonce = newNonce();
    const scannedAt = new Date().toISOString();
    if (!online) {
      decideOffline(code, nonce, scannedAt, source);
      return;
    }
    api("POST", "/api/checkin/redeem", { event: slug, secret: code, nonce: nonce, scanned_at: scannedAt }, ONLINE_TIMEOUT_MS)
      .then((response) => {
        if (response.status === 403) return showResult({ ok: false, reason: text.not_allowed, sound: "unknown" }, source);
        if (response.status !== 200) return showResult({ ok: false, reason: text.server_problem, sound: "unknown" }, source);
        const body = response.data;
        showResult(describe(body.status === "ok", body.reason, body.ticket, false), source);
        refreshCounts();
        syncQueue();
      })
      .catch((error) => {
        if (error instanceof Unauthorised) return;
        // The same nonce goes into the queue, so if the request did arrive the server answers it once.
        decideOffline(code, nonce, scannedAt, source);
      });
  }

  function describe(ok, reason, ticket, offline) {
    const result = { ok: ok, sound: ok ? "ok" : reason, offline: offline };
    if (ticket) {
      result.holder = ticket.holder;
      result.type = ticket.type;
    }
    if (!ok) {
      if (reason === "already_redeemed" && ticket && ticket.checked_in_at) {
        result.reason = say(text.already_redeemed, { time: clock(ticket.checked_in_at), door: ticket.checked_in_by || "?" });
      } else {
        result.reason = text[reason === "already_redeemed" ? "already_redeemed_plain" : reason] || text.unknown;
      }
    }
    return result;
  }

  function fromBase64Url(value) {
    const base64 = value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  // RFC 4648 base32 without padding (the signed part of an EVT2 code), or null if it is not base32.
  function fromBase32(value) {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const bytes = [];
    let bits = 0;
    let buffer = 0;
    for (const char of value) {
      const digit = alphabet.indexOf(char);
      if (digit < 0) return null;
      buffer = ((buffer << 5) | digit) & 0x1fff;  // at most 12 bits are ever pending
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        bytes.push((buffer >> bits) & 0xff);
      }
    }
    if (buffer & ((1 << bits) - 1)) return null;  // stray bits in the last character: not how codes are written
    return Uint8Array.from(bytes);
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const signingKeys = new Map();
  // true, false, or null when this browser cannot check Ed25519 (then the secret in the code must match).
  function signatureGood(keyId, message, signature) {
    const bundle = read(keys.bundle, null);
    const raw = bundle && bundle.keys[keyId];
    if (!raw) return Promise.resolve(false);
    if (!window.crypto || !crypto.subtle) return Promise.resolve(null);
    if (!signingKeys.has(keyId)) {
      signingKeys.set(keyId, crypto.subtle.importKey("raw", fromBase64Url(raw), { name: "Ed25519" }, false, ["verify"]));
    }
    return signingKeys
      .get(keyId)
      .then((key) => crypto.subtle.verify({ name: "Ed25519" }, key, signature, message))
      .catch(() => null);
  }

  // What a signed code says, as tickets/signing.py writes it, or null if it is not one:
  // {keyId, ticket, version, event, secret, message, signature}.
  function parseSigned(code) {
    if (!/^[\x21-\x7e]+$/.test(code)) return undefined;  // toUpperCase() would turn "ſ" into "S"
    const upper = code.toUpperCase();
    if (upper.startsWith("EVT2.")) {
      const parts = upper.split(".");
      // A ticket secret (orders/codes.py SECRET_ALPHABET, 20 characters) and 92 bytes of base32.
      if (!/^EVT2\.[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{20}\.[A-Z2-7]{148}$/.test(upper)) return null;
      const raw = fromBase32(parts[2]);
      if (!raw || raw.length !== 92) return null;
      const fields = raw.subarray(0, 28);
      const view = new DataView(raw.buffer, raw.byteOffset, 28);
      const prefix = new TextEncoder().encode("EVT2." + parts[1] + ".");
      const message = new Uint8Array(prefix.length + fields.length);
      message.set(prefix);
      message.set(fields, prefix.length);
      return {
        keyId: hex(fields.subarray(0, 6)), ticket: view.getUint32(6), version: view.getUint16(10), event: view.getUint32(12),
        secret: parts[1].toLowerCase(), message: message, signature: raw.subarray(28),
      };
    }
    if (code.startsWith("EVT1.")) {  // codes issued before EVT2: JSON claims in base64url
      const parts = code.split(".");
      if (parts.length !== 3) return null;
      try {
        const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(parts[1])));
        return {
          keyId: String(claims.k), ticket: claims.t, version: claims.n, event: claims.e, secret: String(claims.s).toLowerCase(),
          message: new TextEncoder().encode(parts[0] + "." + parts[1]), signature: fromBase64Url(parts[2]),
        };
      } catch (error) {
        return null;
      }
    }
    return undefined;
  }

  // The ticket a scanned text names, checked as far as this device can: {ticket, version} or {reason}.
  function findOffline(code, bundle) {
    const signed = parseSigned(code);
    if (signed === null) return Promise.resolve({ reason: "unknown" });
    if (signed) {
      return signatureGood(signed.keyId, signed.message, signed.signature).then((good) => {
        if (good === false) return { reason: "unknown" };
        if (signed.event !== bundle.event.id) return { reason: "wrong_event" };
        const ticket = index.byId.get(signed.ticket);
        if (!ticket || ticket.secret !== signed.secret) return { reason: "unknown" };
        return { ticket: ticket, version: signed.version };
      });
    }
    const ticket = code.length <= 64 && /^[\x21-\x7e]+$/.test(code) ? index.bySecret.get(code.toLowerCase()) : undefined;
    return Promise.resolve(ticket ? { ticket: ticket, version: null } : { reason: "unknown" });
  }

  // The same order of checks as the server's rules.decide_entry.
  function decideLocally(found, admitted) {
    if (!found.ticket) return { reason: found.reason };
    const ticket = found.ticket;
    if (ticket.status === "refunded") return { reason: "refunded", ticket: ticket };
    if (ticket.status === "void" || (found.version !== null && found.version !== ticket.version)) return { reason: "void", ticket: ticket };
    if (ticket.status !== "valid") return { reason: "unpaid", ticket: ticket };
    if (ticket.checked_in || admitted[ticket.id]) return { reason: "already_redeemed", ticket: ticket, earlier: admitted[ticket.id] };
    return { ticket: ticket };
  }

  function decideOffline(code, nonce, scannedAt, source) {
    const bundle = read(keys.bundle, null);
    if (!bundle) {
      showResult({ ok: false, reason: text.no_bundle, sound: "unknown", offline: true }, source);
      return;
    }
    findOffline(code, bundle).then((found) => {
      const admitted = read(keys.admitted, {});
      const decision = decideLocally(found, admitted);
      const ticket = decision.ticket;
      const shown = ticket ? { holder: ticket.holder, type: ticket.type } : null;
      if (decision.reason) {
        if (decision.earlier) {
          shown.checked_in_at = decision.earlier.at;
          shown.checked_in_by = decision.earlier.device;
        }
        showResult(describe(false, decision.reason, shown, true), source);
        return;
      }
      // Only admissions are queued: a refusal let nobody in, so there is nothing for the server to record.
      admitted[ticket.id] = { at: scannedAt, device: device.device };
      write(keys.admitted, admitted);
      const queue = read(keys.queue, []);
      queue.push({
        scan: { secret: code, nonce: nonce, scanned_at: scannedAt, result: "ok", direction: "in" },
        holder: ticket.holder,
        type: ticket.type,
      });
      write(keys.queue, queue);
      showResult(describe(true, null, shown, true), source);
      renderNetwork();
      renderCounts();
    });
  }

  // --- syncing offline admissions ---------------------------------------------------------------------

  let syncing = false;
  function syncQueue() {
    const queue = read(keys.queue, []);
    if (syncing || !online || !device || !queue.length) return Promise.resolve();
    syncing = true;
    const batch = queue.slice(0, SYNC_BATCH);
    return api("POST", "/api/checkin/sync", { event: slug, scans: batch.map((entry) => entry.scan) }, 20000)
      .then((response) => {
        if (response.status !== 200) return false;
        const answered = new Map(response.data.scans.map((scanned) => [scanned.nonce, scanned]));
        const conflicts = read(keys.conflicts, []);
        for (const entry of batch) {
          const answer = answered.get(entry.scan.nonce);
          if (answer && answer.conflict) {
            conflicts.push({
              holder: entry.holder,
              type: entry.type,
              at: entry.scan.scanned_at,
              door: answer.ticket ? answer.ticket.checked_in_by : "",
              first: answer.ticket ? answer.ticket.checked_in_at : null,
            });
          }
        }
        write(keys.conflicts, conflicts);
        write(keys.queue, read(keys.queue, []).filter((entry) => !answered.has(entry.scan.nonce)));
        return true;
      })
      .catch(() => false)
      .then((synced) => {
        syncing = false;
        renderNetwork();
        renderConflicts();
        if (synced) {
          refreshCounts();
          if (read(keys.queue, []).length) syncQueue();
        }
      });
  }

  function renderConflicts() {
    const conflicts = read(keys.conflicts, []);
    const section = $("door-conflicts");
    const list = $("door-conflict-list");
    list.replaceChildren(
      ...conflicts.map((conflict) => {
        const item = document.createElement("li");
        item.textContent = say(text.conflict, {
          holder: conflict.holder,
          type: conflict.type,
          time: clock(conflict.at),
          door: conflict.door || "?",
          first: clock(conflict.first),
        });
        return item;
      })
    );
    section.hidden = conflicts.length === 0;
    if (conflicts.length) section.setAttribute("role", "alert");
  }

  // --- showing a result: full screen, a sound and a buzz of its own, gone after two seconds ----------------

  const SOUNDS = {
    ok: [[880, 0.1, "sine"], [1320, 0.16, "sine"]],
    already_redeemed: [[220, 0.45, "square"]],
    unpaid: [[440, 0.12, "sawtooth"], [440, 0.12, "sawtooth"], [440, 0.12, "sawtooth"]],
    refunded: [[392, 0.18, "triangle"], [262, 0.3, "triangle"]],
    wrong_event: [[660, 0.1, "square"], [330, 0.25, "square"]],
    unknown: [[150, 0.6, "sawtooth"]],
    void: [[523, 0.12, "triangle"], [392, 0.12, "triangle"], [262, 0.25, "triangle"]],
  };
  const VIBRATIONS = {
    ok: [80],
    already_redeemed: [400],
    unpaid: [120, 80, 120, 80, 120],
    refunded: [300, 100, 300],
    wrong_event: [80, 60, 80, 60, 250],
    unknown: [600],
    void: [200, 80, 200, 80, 200],
  };
  let audio = null;
  function unlockAudio() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
    } catch (error) {
      audio = null;
    }
  }
  function beep(kind) {
    const notes = SOUNDS[kind] || SOUNDS.unknown;
    if (navigator.vibrate) navigator.vibrate(VIBRATIONS[kind] || VIBRATIONS.unknown);
    if (!audio) return;
    let at = audio.currentTime + 0.01;
    for (const [frequency, seconds, wave] of notes) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = wave;
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.35, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + seconds + 0.02);
      at += seconds + 0.05;
    }
  }

  let resultTimer = null;
  function showResult(result, source) {
    const panel = $("door-result");
    panel.classList.toggle("door-result-ok", result.ok);
    panel.classList.toggle("door-result-error", !result.ok);
    panel.querySelector(".door-verdict").textContent = result.ok ? text.admit : text.stop;
    panel.querySelector(".door-holder").textContent = result.holder || "";
    panel.querySelector(".door-type").textContent = result.type || "";
    const reason = [result.ok ? "" : result.reason, result.offline ? text.checked_offline : ""].filter(Boolean).join(" · ");
    panel.querySelector(".door-reason").textContent = reason;
    panel.dataset.source = source || "";
    panel.hidden = false;
    $("door-announce").textContent = [panel.querySelector(".door-verdict").textContent, result.holder, result.type, reason]
      .filter(Boolean)
      .join(". ");
    beep(result.ok ? "ok" : result.sound);
    clearTimeout(resultTimer);
    resultTimer = setTimeout(dismissResult, RESULT_MS);
    if (source === "search") refreshSearch();
  }
  function dismissResult() {
    clearTimeout(resultTimer);
    $("door-result").hidden = true;
    // A phone using its camera would pop up its keyboard; everything else goes back to the scan field.
    if (!cameraRunning()) $("door-code").focus();
  }

  // --- the handheld scanner and typed codes -------------------------------------------------------------

  $("door-scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("door-code");
    const value = input.value;
    input.value = "";
    scan(value, "keyboard");
  });
  $("door-result").addEventListener("click", dismissResult);
  // From the keyboard (a laptop at the door), Escape does what a tap does.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("door-result").hidden) dismissResult();
  });

  // --- search -----------------------------------------------------------------------------------------

  let lastQuery = "";
  function renderHits(hits) {
    const list = $("door-search-results");
    list.replaceChildren(
      ...hits.map((hit) => {
        const item = document.createElement("li");
        item.className = "door-hit";
        const about = document.createElement("div");
        const name = document.createElement("strong");
        name.textContent = hit.holder;
        name.dir = "auto";
        const details = document.createElement("span");
        const state = hit.checked_in_at ? say(text.in_at, { time: clock(hit.checked_in_at) }) : "";
        details.textContent = [hit.type, hit.order, state].filter(Boolean).join(" · ");
        about.append(name, document.createElement("br"), details);
        const admit = document.createElement("button");
        admit.type = "button";
        admit.textContent = text.admit_button;
        admit.setAttribute("aria-label", say(text.admit_named, { holder: hit.holder }));
        admit.addEventListener("click", () => scan(hit.secret, "search"));
        item.append(about, admit);
        return item;
      })
    );
    $("door-search-note").textContent = hits.length ? "" : text.no_results;
  }
  function searchOffline(query) {
    const needle = query.toLowerCase();
    const admitted = read(keys.admitted, {});
    const hits = [];
    for (const ticket of index.byId.values()) {
      if (ticket.holder.toLowerCase().includes(needle) && hits.length < 20) {
        const local = admitted[ticket.id];
        hits.push({
          holder: ticket.holder,
          type: ticket.type,
          order: "",
          secret: ticket.secret,
          checked_in_at: local ? local.at : null,
        });
      }
    }
    renderHits(hits);
    $("door-search-note").textContent = text.searched_offline;
  }
  function search(query) {
    lastQuery = query.trim();
    if (lastQuery.length < 2) return;
    if (!online) return searchOffline(lastQuery);
    api("GET", "/api/checkin/events/" + encodeURIComponent(slug) + "/search?q=" + encodeURIComponent(lastQuery))
      .then((response) => {
        if (response.status === 200) renderHits(response.data);
      })
      .catch((error) => {
        if (error instanceof Unreachable) searchOffline(lastQuery);
      });
  }
  function refreshSearch() {
    if (lastQuery) search(lastQuery);
  }
  $("door-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("door-q").value);
  });

  // --- selling at the door -------------------------------------------------------------------------------

  const saleForm = $("door-sale-form");
  if (saleForm) {
    const money = new Intl.NumberFormat(locale, { style: "currency", currency: root.dataset.currency || "GBP" });
    const total = () => {
      const option = $("door-sale-type").selectedOptions[0];
      $("door-sale-total").textContent = money.format((Number(option.dataset.price) * Number($("door-sale-quantity").value)) / 100);
    };
    saleForm.addEventListener("change", total);
    total();
    saleForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const out = $("door-sale-result");
      if (!online) {
        out.textContent = text.sale_needs_network;
        return;
      }
      const option = $("door-sale-type").selectedOptions[0];
      const quantity = Number($("door-sale-quantity").value);
      const method = saleForm.querySelector("input[name=payment_method]:checked").value;
      const button = saleForm.querySelector("button[type=submit]");
      button.disabled = true;
      api("POST", "/api/events/" + encodeURIComponent(slug) + "/door-sales", {
        items: [{ ticket_type: Number(option.value), quantity: quantity }],
        payment_method: method,
        buyer_name: $("door-sale-name").value.trim(),
      })
        .then((response) => {
          if (response.status !== 201 && response.status !== 200) {
            out.textContent = response.data.detail || text.server_problem;
            return;
          }
          const order = response.data;
          const heading = document.createElement("p");
          heading.textContent = say(text.sold, {
            count: quantity,
            type: option.dataset.name,
            total: money.format(order.total_pence / 100),
            method: text[method] || method,
            reference: order.reference,
          });
          const list = document.createElement("ul");
          list.className = "door-sold";
          for (const ticket of order.tickets) {
            const item = document.createElement("li");
            item.textContent = ticket.holder + " · " + ticket.type + " · " + ticket.secret;
            list.append(item);
          }
          out.replaceChildren(heading, list);
          showResult({ ok: true, holder: quantity + " × " + option.dataset.name, type: money.format(order.total_pence / 100) }, "sale");
          $("door-sale-name").value = "";
          refreshCounts();
          refreshBundle();
        })
        .catch(() => {
          out.textContent = text.sale_needs_network;
        })
        .then(() => {
          button.disabled = false;
        });
    });
  }

  // --- the camera: BarcodeDetector where the browser has it, the vendored jsQR everywhere else ------------

  let stream = null;
  let detector = null;
  let cameraTimer = null;
  const video = $("door-video");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });

  function cameraRunning() {
    return stream !== null;
  }
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      if (window.jsQR) return resolve();
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
  }
  function jsqrDetector() {
    return loadScript("/static/vendor/jsqr/jsQR.js").then(() => ({
      name: "jsqr",
      detect: () => {
        const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        return Promise.resolve(found ? found.data : null);
      },
    }));
  }
  function chooseDetector() {
    if (!("BarcodeDetector" in window)) return jsqrDetector();
    return window.BarcodeDetector.getSupportedFormats()
      .then((formats) => {
        if (!formats.includes("qr_code")) return jsqrDetector();
        const native = new window.BarcodeDetector({ formats: ["qr_code"] });
        return {
          name: "barcode-detector",
          detect: () => native.detect(video).then((codes) => (codes.length ? codes[0].rawValue : null)),
        };
      })
      .catch(jsqrDetector);
  }
  function lookForCodes() {
    if (!stream) return;
    const next = () => {
      if (stream) cameraTimer = setTimeout(lookForCodes, 120);
    };
    if (video.readyState < 2 || !video.videoWidth) return next();
    detector
      .detect()
      .then((found) => {
        const now = Date.now();
        if (found) {
          // A code held in front of the camera is read once; it must leave the view to be read again.
          const repeat = found === lastCamera.text && now - lastCamera.seen < CAMERA_REPEAT_MS;
          lastCamera = { text: found, seen: now };
          if (!repeat) scan(found, "camera");
        }
      })
      .catch(() => {})
      .then(next);
  }
  function startCamera() {
    const error = $("door-camera-error");
    error.hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      error.textContent = text.camera_failed;
      error.hidden = false;
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then((media) => {
        stream = media;
        video.srcObject = media;
        $("door-camera-view").hidden = false;
        $("door-camera-toggle").textContent = text.camera_stop;
        return Promise.all([video.play(), chooseDetector()]);
      })
      .then(([, chosen]) => {
        detector = chosen;
        $("door-camera-view").dataset.decoder = chosen.name;
        lookForCodes();
      })
      .catch(() => {
        stopCamera();
        error.textContent = text.camera_failed;
        error.hidden = false;
      });
  }
  function stopCamera() {
    clearTimeout(cameraTimer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    $("door-camera-view").hidden = true;
    $("door-camera-toggle").textContent = text.camera_start;
  }
  $("door-camera-toggle").addEventListener("click", () => (cameraRunning() ? stopCamera() : startCamera()));

  // --- start ---------------------------------------------------------------------------------------------

  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });
  $("door-forget").addEventListener("click", forgetDevice);
  $("door-conflicts-clear").addEventListener("click", () => {
    write(keys.conflicts, []);
    renderConflicts();
  });
  window.addEventListener("online", () => setOnline(true));
  window.addEventListener("offline", () => setOnline(false));

  // Keep the page itself for a reload with no signal; the service worker serves it from this cache.
  function keepForOffline() {
    if (!("serviceWorker" in navigator) || !window.caches) return Promise.resolve();
    return navigator.serviceWorker
      .register("/door/sw.js", { scope: "/door/" })
      .then(() => navigator.serviceWorker.ready)
      .then(() => caches.open(CACHE))
      .then((cache) => cache.addAll(["/door/" + slug, "/static/js/door.js", "/static/js/forms.js", "/static/css/site.css", "/static/css/door.css", "/static/vendor/jsqr/jsQR.js"]))
      .catch(() => {});
  }

  renderNetwork();
  renderCounts();
  renderConflicts();
  if (!device) {
    showSetup();
    return;
  }
  $("door-setup").hidden = true;
  $("door-scanner").hidden = false;
  $("door-counts").hidden = false;
  $("door-device-name").textContent = device.device || "";
  $("door-code").focus();
  const ready = navigator.onLine ? Promise.all([refreshBundle(), refreshCounts(), keepForOffline()]) : Promise.resolve();
  ready.then(() => {
    root.dataset.offlineReady = read(keys.bundle, null) ? "true" : "false";
    syncQueue();
  });
  setInterval(refreshBundle, BUNDLE_EVERY_MS);
  setInterval(() => {
    if (!navigator.onLine) return setOnline(false);
    refreshCounts().then(syncQueue);
  }, COUNTS_EVERY_MS);
})();
