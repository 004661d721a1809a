// Showing a scan's verdict: full screen, a sound and a buzz of its own for each reason, read out to screen
// readers, gone after two seconds or at a tap (or Escape).

const RESULT_MS = 2000;

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

// messages: messages.js; afterShown(source) runs once a verdict is up; afterDismissed() when it is gone.
export function createVerdict(messages, afterShown, afterDismissed) {
  const text = messages.text;
  const panel = document.getElementById("door-result");
  const announce = document.getElementById("door-announce");
  let audio = null;
  let timer = null;

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

  // A verdict to show, from the server's answer or the offline decision: {ok, sound, offline, holder, type, reason}.
  function describe(ok, reason, ticket, offline) {
    const result = { ok: ok, sound: ok ? "ok" : reason, offline: offline };
    if (ticket) {
      result.holder = ticket.holder;
      result.type = ticket.type;
    }
    if (!ok) {
      if (reason === "already_redeemed" && ticket && ticket.checked_in_at) {
        result.reason = messages.say(text.already_redeemed, { time: messages.clock(ticket.checked_in_at), door: ticket.checked_in_by || "?" });
      } else {
        result.reason = text[reason === "already_redeemed" ? "already_redeemed_plain" : reason] || text.unknown;
      }
    }
    return result;
  }

  function show(result, source) {
    panel.classList.toggle("door-result-ok", result.ok);
    panel.classList.toggle("door-result-error", !result.ok);
    panel.querySelector(".door-verdict").textContent = result.ok ? text.admit : text.stop;
    panel.querySelector(".door-holder").textContent = result.holder || "";
    panel.querySelector(".door-type").textContent = result.type || "";
    const reason = [result.ok ? "" : result.reason, result.offline ? text.checked_offline : ""].filter(Boolean).join(" · ");
    panel.querySelector(".door-reason").textContent = reason;
    panel.dataset.source = source || "";
    panel.hidden = false;
    announce.textContent = [panel.querySelector(".door-verdict").textContent, result.holder, result.type, reason]
      .filter(Boolean)
      .join(". ");
    beep(result.ok ? "ok" : result.sound);
    clearTimeout(timer);
    timer = setTimeout(dismiss, RESULT_MS);
    afterShown(source);
  }

  function dismiss() {
    clearTimeout(timer);
    panel.hidden = true;
    afterDismissed();
  }

  panel.addEventListener("click", dismiss);
  // From the keyboard (a laptop at the door), Escape does what a tap does.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) dismiss();
  });
  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });

  return { describe: describe, show: show, dismiss: dismiss };
}
