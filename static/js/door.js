// The door page: scan with the camera, a handheld scanner (it types the code and presses Enter) or a
// search; the server decides while online, and the device decides offline from the signed code and the
// cached guest list (door/admit.js), queueing what it let in until it can sync (door/sync.js). Nothing here
// is trusted by the server: offline admissions are re-decided on sync and double admissions come back as
// conflicts. This module wires the others together.

import { decideEntry, findTicket, guestList } from "./door/admit.js";
import { strip } from "./door/codes.js";
import { loadMessages } from "./door/messages.js";
import { keepForOffline } from "./door/offline.js";
import { createSales } from "./door/sales.js";
import { createScanning } from "./door/scanning.js";
import { createSearch } from "./door/search.js";
import { renderConflicts, renderCounts, renderNetwork } from "./door/status.js";
import { eventKeys, loadDevice, read, removeDevice, saveDevice, write } from "./door/storage.js";
import { Unauthorised, createSync } from "./door/sync.js";
import { createVerdict } from "./door/verdict.js";

const BUNDLE_EVERY_MS = 60 * 1000;
const COUNTS_EVERY_MS = 15 * 1000;
const ONLINE_TIMEOUT_MS = 2500;

const root = document.getElementById("door");
if (root) start(root);

function start(root) {
  const slug = root.dataset.slug;
  const userId = root.dataset.user;
  const keys = eventKeys(slug);
  const messages = loadMessages(document);
  const text = messages.text;
  const $ = (id) => document.getElementById(id);

  // --- the device's token ----------------------------------------------------------------------------

  if (root.dataset.newToken) {
    saveDevice(root.dataset.newToken, userId, root.dataset.newDevice);
    history.replaceState(null, "", "/door/" + slug); // a reload is a GET, not a second token
  }
  let device = loadDevice(userId);

  function showSetup() {
    $("door-setup").hidden = false;
    $("door-scanner").hidden = true;
    $("door-counts").hidden = true;
  }
  function forgetDevice() {
    removeDevice();
    device = null;
    scanning.stopCamera();
    showSetup();
  }

  // --- the parts ------------------------------------------------------------------------------------

  const subtle = window.crypto && crypto.subtle ? crypto.subtle : null;
  let guests = guestList(read(keys.bundle, null), subtle);
  const admitted = () => read(keys.admitted, {});

  const showNetwork = () => renderNetwork(messages, sync.isOnline(), sync.waiting());
  const showCounts = () => renderCounts(read(keys.counts, null), sync.isOnline(), sync.waiting());
  const showConflicts = () => renderConflicts(messages, read(keys.conflicts, []));
  const sync = createSync({
    slug: slug,
    keys: keys,
    device: () => device,
    onUnauthorised: forgetDevice,
    onNetwork: showNetwork,
    onBundle: (bundle) => {
      guests = guestList(bundle, subtle);
    },
    onCounts: showCounts,
    onConflicts: showConflicts,
  });
  const verdict = createVerdict(
    messages,
    (source) => {
      if (source === "search") search.refresh();
    },
    // A phone using its camera would pop up its keyboard; everything else goes back to the scan field.
    () => {
      if (!scanning.cameraRunning()) $("door-code").focus();
    }
  );
  const scanning = createScanning(messages, scan);
  const search = createSearch(messages, slug, sync, () => guests, admitted, scan);
  createSales(messages, root, sync, verdict, () => {
    sync.refreshCounts();
    sync.refreshBundle();
  });

  // --- deciding a scan -------------------------------------------------------------------------------

  function scan(raw, source) {
    const code = strip(raw);
    if (!code || !device) return;
    const nonce = newNonce();
    const scannedAt = new Date().toISOString();
    if (!sync.isOnline()) {
      decideOffline(code, nonce, scannedAt, source);
      return;
    }
    sync
      .api("POST", "/api/checkin/redeem", { event: slug, secret: code, nonce: nonce, scanned_at: scannedAt }, ONLINE_TIMEOUT_MS)
      .then((response) => {
        if (response.status === 403) return verdict.show({ ok: false, reason: text.not_allowed, sound: "unknown" }, source);
        if (response.status !== 200) return verdict.show({ ok: false, reason: text.server_problem, sound: "unknown" }, source);
        const body = response.data;
        verdict.show(verdict.describe(body.status === "ok", body.reason, body.ticket, false), source);
        sync.refreshCounts();
        sync.syncQueue();
      })
      .catch((error) => {
        if (error instanceof Unauthorised) return;
        // The same nonce goes into the queue, so if the request did arrive the server answers it once.
        decideOffline(code, nonce, scannedAt, source);
      });
  }

  function decideOffline(code, nonce, scannedAt, source) {
    const list = guests;
    if (!list) {
      verdict.show({ ok: false, reason: text.no_bundle, sound: "unknown", offline: true }, source);
      return;
    }
    findTicket(code, list).then((found) => {
      const here = admitted();
      const decision = decideEntry(found, here);
      const ticket = decision.ticket;
      const shown = ticket ? { holder: ticket.holder, type: ticket.type } : null;
      if (decision.reason) {
        if (decision.earlier) {
          shown.checked_in_at = decision.earlier.at;
          shown.checked_in_by = decision.earlier.device;
        }
        verdict.show(verdict.describe(false, decision.reason, shown, true), source);
        return;
      }
      // Only admissions are queued: a refusal let nobody in, so there is nothing for the server to record.
      here[ticket.id] = { at: scannedAt, device: device.device };
      write(keys.admitted, here);
      sync.queueAdmission({ secret: code, nonce: nonce, scanned_at: scannedAt, result: "ok", direction: "in" }, ticket);
      verdict.show(verdict.describe(true, null, shown, true), source);
      showNetwork();
      showCounts();
    });
  }

  // --- start -----------------------------------------------------------------------------------------

  $("door-forget").addEventListener("click", forgetDevice);
  $("door-conflicts-clear").addEventListener("click", () => {
    write(keys.conflicts, []);
    showConflicts();
  });
  window.addEventListener("online", () => sync.setOnline(true));
  window.addEventListener("offline", () => sync.setOnline(false));

  showNetwork();
  showCounts();
  showConflicts();
  if (!device) {
    showSetup();
    return;
  }
  $("door-setup").hidden = true;
  $("door-scanner").hidden = false;
  $("door-counts").hidden = false;
  $("door-device-name").textContent = device.device || "";
  $("door-code").focus();
  const ready = navigator.onLine ? Promise.all([sync.refreshBundle(), sync.refreshCounts(), keepForOffline(slug)]) : Promise.resolve();
  ready.then(() => {
    root.dataset.offlineReady = read(keys.bundle, null) ? "true" : "false";
    sync.syncQueue();
  });
  setInterval(sync.refreshBundle, BUNDLE_EVERY_MS);
  setInterval(() => {
    if (!navigator.onLine) return sync.setOnline(false);
    sync.refreshCounts().then(sync.syncQueue);
  }, COUNTS_EVERY_MS);
}

function newNonce() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes); // works on plain http too, unlike crypto.randomUUID
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
