// Reading a scanned text as the server does (tickets/signing.py for signed codes, checkin/service.py _identify
// for the rest): a signed code of either format, a bare ticket secret typed from paper, or nothing. Pure: no
// DOM, no storage; tests/js/door.test.mjs checks it against tests/vectors/door.json, as the Python tests check
// the server.

const SECRET_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"; // orders/codes.py
const SECRET_LENGTH = 20;
const SECRET_TEXT_MAX = 64; // a longer text is no secret
const COMPACT = new RegExp("^EVT2\\.([" + SECRET_ALPHABET.toUpperCase() + "]{" + SECRET_LENGTH + "})\\.([A-Z2-7]{148})$");
const FIELDS_BYTES = 28;
const PACKED_BYTES = FIELDS_BYTES + 64;
const LEGACY_FIELDS = ["k", "t", "n", "e", "y", "s", "f", "u"];
const ASCII = /^[\x00-\x7f]*$/;
// What Python's str.strip() takes off (str.isspace), which is not what String.prototype.trim() takes off:
// handheld scanners can send a group separator (\x1d) before the code.
const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const EDGES = new RegExp("^[" + SPACE + "]+|[" + SPACE + "]+$", "g");

export function strip(text) {
  return String(text == null ? "" : text).replace(EDGES, "");
}

// signing.looks_signed: meant as a signed code (of either format), genuine or not.
export function looksSigned(text) {
  return text.slice(0, 5).toUpperCase() === "EVT2." || text.startsWith("EVT1.");
}

// What a scanned text names, before any guest list or key is consulted:
//   {kind: "signed", claims, message, signature}  a signed code (genuine or not: see the signature)
//   {kind: "malformed"}                            meant as a signed code, but not one
//   {kind: "secret", secret}                       a bare ticket secret, in lower case, to look up
//   {kind: "none"}                                 names no ticket
// claims: {keyId, ticketId, version, eventId, ticketTypeId, secret, validFrom, validUntil}.
export function readCode(scanned) {
  const text = strip(scanned);
  if (looksSigned(text)) {
    // Before any case change: toUpperCase() would turn "ſ" into "S" and "ı" into "I".
    const signed = ASCII.test(text) ? (text.startsWith("EVT1.") ? readLegacy(text) : readCompact(text.toUpperCase())) : null;
    return signed ? Object.assign({ kind: "signed" }, signed) : { kind: "malformed" };
  }
  if (!text || text.length > SECRET_TEXT_MAX || !ASCII.test(text)) return { kind: "none" };
  return { kind: "secret", secret: text.toLowerCase() };
}

// "EVT2.<SECRET>.<BASE32>": 28 bytes of fields, big-endian, then the signature of "EVT2.<SECRET>." and those bytes.
function readCompact(text) {
  const match = COMPACT.exec(text);
  if (!match) return null;
  const raw = fromBase32(match[2]);
  if (!raw || raw.length !== PACKED_BYTES) return null;
  const fields = raw.subarray(0, FIELDS_BYTES);
  const view = new DataView(raw.buffer, raw.byteOffset, FIELDS_BYTES);
  const prefix = new TextEncoder().encode("EVT2." + match[1] + ".");
  const message = new Uint8Array(prefix.length + FIELDS_BYTES);
  message.set(prefix);
  message.set(fields, prefix.length);
  return {
    claims: {
      keyId: hex(fields.subarray(0, 6)),
      ticketId: view.getUint32(6),
      version: view.getUint16(10),
      eventId: view.getUint32(12),
      ticketTypeId: view.getUint32(16),
      secret: match[1].toLowerCase(),
      validFrom: view.getUint32(20),
      validUntil: view.getUint32(24),
    },
    message: message,
    signature: raw.subarray(FIELDS_BYTES),
  };
}

// "EVT1.<base64url JSON claims>.<base64url signature>": codes issued before EVT2.
function readLegacy(text) {
  const parts = text.split(".");
  if (parts.length !== 3) return null;
  let data;
  let signature;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(parts[1])));
    signature = fromBase64Url(parts[2]);
  } catch (error) {
    return null;
  }
  if (!data || typeof data !== "object" || LEGACY_FIELDS.some((name) => !(name in data))) return null;
  const numbers = ["t", "n", "e", "y", "f", "u"].map((name) => data[name]);
  if (!numbers.every(Number.isInteger) || typeof data.k !== "string" || typeof data.s !== "string") return null;
  const [ticketId, version, eventId, ticketTypeId, validFrom, validUntil] = numbers;
  return {
    claims: {
      keyId: data.k, ticketId, version, eventId, ticketTypeId, secret: data.s, validFrom, validUntil,
    },
    message: new TextEncoder().encode(parts[0] + "." + parts[1]),
    signature: signature,
  };
}

// RFC 4648 base64url exactly as signing.py writes it (no padding, no stray bits in the last character), so that
// one text stands for one code; throws on anything else (atob alone would take "+", "/", "=" and spaces).
export function fromBase64Url(value) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const spare = [0, 0, 0b1111, 0b11][value.length % 4]; // unused bits of the last character
  if (!/^[A-Za-z0-9_-]*$/.test(value) || value.length % 4 === 1 || alphabet.indexOf(value.slice(-1)) & spare) {
    throw new SyntaxError("not base64url as codes are written");
  }
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (value.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

// RFC 4648 base32 without padding, or null if it is not base32 as signing.py writes it.
function fromBase32(value) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes = [];
  let bits = 0;
  let buffer = 0;
  for (const char of value) {
    const digit = alphabet.indexOf(char);
    if (digit < 0) return null;
    buffer = ((buffer << 5) | digit) & 0x1fff; // at most 12 bits are ever pending
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  if (buffer & ((1 << bits) - 1)) return null; // stray bits in the last character: not how codes are written
  return Uint8Array.from(bytes);
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
