// Deciding a scan with no connection, from the signed code and the guest list kept on the device: the same
// order of checks as the server's checkin/rules.py decide_entry, on what the offline bundle says of each
// ticket (checkin/service.py offline_bundle). Pure but for WebCrypto; tests/js/door.test.mjs checks it
// against tests/vectors/door.json, as the Python tests check the server.

import { fromBase64Url, readCode } from "./codes.js";

// The bundle indexed for scanning: {eventId, byId, bySecret, verify}, or null with no bundle.
export function guestList(bundle, subtle) {
  if (!bundle) return null;
  const byId = new Map();
  const bySecret = new Map();
  const revoked = new Set(bundle.revoked || []);
  for (const ticket of bundle.tickets) {
    const entry = Object.assign({}, ticket);
    if (revoked.has(entry.id) && entry.status === "valid") entry.status = "void";
    byId.set(entry.id, entry);
    bySecret.set(entry.secret.toLowerCase(), entry);
  }
  return { eventId: bundle.event.id, byId, bySecret, verify: signatureChecker(bundle.keys || {}, subtle) };
}

// verify(keyId, message, signature): true, false, or null when this browser cannot check Ed25519 (then the
// secret in the code must match the ticket's). A key the bundle does not hold is false.
function signatureChecker(keys, subtle) {
  const imported = new Map();
  return (keyId, message, signature) => {
    const raw = Object.prototype.hasOwnProperty.call(keys, keyId) ? keys[keyId] : null;
    if (!raw) return Promise.resolve(false);
    if (!subtle) return Promise.resolve(null);
    if (!imported.has(keyId)) imported.set(keyId, subtle.importKey("raw", fromBase64Url(raw), { name: "Ed25519" }, false, ["verify"]));
    return imported
      .get(keyId)
      .then((key) => subtle.verify({ name: "Ed25519" }, key, signature, message))
      .catch(() => null);
  };
}

// The ticket a scanned text names, checked as far as this device can: {ticket, version} (version null for a
// bare secret) or {reason}.
export function findTicket(scanned, list) {
  const read = readCode(scanned);
  if (read.kind === "secret") {
    const ticket = list.bySecret.get(read.secret);
    return Promise.resolve(ticket ? { ticket: ticket, version: null } : { reason: "unknown" });
  }
  if (read.kind !== "signed") return Promise.resolve({ reason: "unknown" });
  const claims = read.claims;
  return list.verify(claims.keyId, read.message, read.signature).then((good) => {
    if (good === false) return { reason: "unknown" };
    if (claims.eventId !== list.eventId) return { reason: "wrong_event" };
    const ticket = list.byId.get(claims.ticketId);
    if (!ticket || ticket.secret.toLowerCase() !== claims.secret.toLowerCase()) return { reason: "unknown" };
    return { ticket: ticket, version: claims.version };
  });
}

// rules.decide_entry's order of checks, on a found ticket and the admissions this device has not synced yet
// ({ticketId: {at, device}}): {ticket} to admit, or {reason, ticket, earlier}.
export function decideEntry(found, admitted) {
  if (!found.ticket) return { reason: found.reason };
  const ticket = found.ticket;
  if (ticket.status === "refunded") return { reason: "refunded", ticket: ticket };
  if (ticket.status === "void" || (found.version !== null && found.version !== ticket.version)) return { reason: "void", ticket: ticket };
  if (ticket.status !== "valid") return { reason: "unpaid", ticket: ticket };
  // Offline the device cannot know whether a guest has gone out again, so re-entry waits for a connection.
  if (ticket.checked_in || admitted[ticket.id]) return { reason: "already_redeemed", ticket: ticket, earlier: admitted[ticket.id] };
  return { ticket: ticket };
}
