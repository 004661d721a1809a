// Talking to the check-in API: whether the server is reachable, the offline bundle and counts kept fresh, and
// the admissions made offline sent in batches (the server re-decides each one and reports double admissions
// as conflicts). Nothing the device says is trusted by the server.

import { read, write } from "./storage.js";

const SYNC_BATCH = 500;
const TIMEOUT_MS = 10000;
const SYNC_TIMEOUT_MS = 20000;

export class Unauthorised extends Error {}
export class Unreachable extends Error {}

// options: slug, keys (storage.eventKeys), device() (the device or null), and what to do when
// onUnauthorised (the token was revoked), onNetwork (online or the queue changed), onBundle(bundle),
// onCounts, onConflicts.
export function createSync(options) {
  const { slug, keys } = options;
  const eventPath = "/api/checkin/events/" + encodeURIComponent(slug);
  let online = navigator.onLine;
  let syncing = false;

  function api(method, path, body, timeout) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout || TIMEOUT_MS);
    const headers = { Authorization: "Bearer " + options.device().token, Accept: "application/json" };
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
          options.onUnauthorised();
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
    options.onNetwork();
    if (online && !was) {
      syncQueue();
      refreshBundle();
      refreshCounts();
    }
  }

  // Background refreshes try whenever the browser thinks it has a network, so they also notice when the
  // server is reachable again; a scan goes straight to the offline check while the last call failed.
  function refreshBundle() {
    if (!options.device() || !navigator.onLine) return Promise.resolve();
    return api("GET", eventPath + "/offline")
      .then((response) => {
        if (response.status !== 200) return;
        write(keys.bundle, response.data);
        options.onBundle(response.data);
      })
      .catch(() => {});
  }

  function refreshCounts() {
    if (!options.device() || !navigator.onLine) {
      options.onCounts();
      return Promise.resolve();
    }
    return api("GET", eventPath + "/counts")
      .then((response) => {
        if (response.status === 200) write(keys.counts, response.data);
        options.onCounts();
      })
      .catch(options.onCounts);
  }

  // An admission made offline waits here until the server has answered it (by nonce, so a scan that did
  // reach the server before the connection dropped is answered once).
  function queueAdmission(scan, ticket) {
    const queue = read(keys.queue, []);
    queue.push({ scan: scan, holder: ticket.holder, type: ticket.type });
    write(keys.queue, queue);
  }

  function waiting() {
    return read(keys.queue, []).length;
  }

  function syncQueue() {
    const queue = read(keys.queue, []);
    if (syncing || !online || !options.device() || !queue.length) return Promise.resolve();
    syncing = true;
    const batch = queue.slice(0, SYNC_BATCH);
    return api("POST", "/api/checkin/sync", { event: slug, scans: batch.map((entry) => entry.scan) }, SYNC_TIMEOUT_MS)
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
        options.onNetwork();
        options.onConflicts();
        if (synced) {
          refreshCounts();
          if (waiting()) syncQueue();
        }
      });
  }

  return {
    api: api,
    isOnline: () => online,
    setOnline: setOnline,
    refreshBundle: refreshBundle,
    refreshCounts: refreshCounts,
    queueAdmission: queueAdmission,
    waiting: waiting,
    syncQueue: syncQueue,
  };
}
