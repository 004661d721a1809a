// What the door page keeps on the device across reloads: the device's door token, and per event the guest
// list, the admissions waiting to sync, conflicts and counts. Everything is in localStorage as JSON.

const PREFIX = "events.door.";

export function read(key, fallback) {
  try {
    const text = localStorage.getItem(PREFIX + key);
    return text === null ? fallback : JSON.parse(text);
  } catch (error) {
    return fallback;
  }
}

export function write(key, value) {
  localStorage.setItem(PREFIX + key, JSON.stringify(value));
}

// The keys of one event's state.
export function eventKeys(slug) {
  return {
    bundle: slug + ".bundle",
    queue: slug + ".queue",
    admitted: slug + ".admitted",
    conflicts: slug + ".conflicts",
    counts: slug + ".counts",
  };
}

// --- the device's door token: {token, user, device} ------------------------------------------------------

const DEVICE = "device";

export function saveDevice(token, user, device) {
  write(DEVICE, { token: token, user: user, device: device });
}

// The token of this browser, if it is the signed-in user's (not someone else's left on a shared browser).
export function loadDevice(userId) {
  const device = read(DEVICE, null);
  return device && String(device.user) === String(userId) ? device : null;
}

export function removeDevice() {
  localStorage.removeItem(PREFIX + DEVICE);
}
