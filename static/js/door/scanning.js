// Where scanned texts come from: a handheld scanner or a person typing (the scanner types the QR's text into
// the focused field and presses Enter), and the camera: BarcodeDetector where the browser has it, the
// vendored jsQR everywhere else.

const CAMERA_REPEAT_MS = 2500;
const CAMERA_EVERY_MS = 120;
export const JSQR = "/static/vendor/jsqr/jsQR.js";

// onScan(text, source) for each code read; source is "keyboard" or "camera".
export function createScanning(messages, onScan) {
  const text = messages.text;
  const $ = (id) => document.getElementById(id);
  const video = $("door-video");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let stream = null;
  let detector = null;
  let timer = null;
  let last = { text: "", seen: 0 };

  $("door-scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("door-code");
    const value = input.value;
    input.value = "";
    onScan(value, "keyboard");
  });

  function running() {
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
    return loadScript(JSQR).then(() => ({
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
      if (stream) timer = setTimeout(lookForCodes, CAMERA_EVERY_MS);
    };
    if (video.readyState < 2 || !video.videoWidth) return next();
    detector
      .detect()
      .then((found) => {
        const now = Date.now();
        if (found) {
          // A code held in front of the camera is read once; it must leave the view to be read again.
          const repeat = found === last.text && now - last.seen < CAMERA_REPEAT_MS;
          last = { text: found, seen: now };
          if (!repeat) onScan(found, "camera");
        }
      })
      .catch(() => {})
      .then(next);
  }

  function start() {
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
        stop();
        error.textContent = text.camera_failed;
        error.hidden = false;
      });
  }

  function stop() {
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.srcObject = null;
    $("door-camera-view").hidden = true;
    $("door-camera-toggle").textContent = text.camera_start;
  }

  $("door-camera-toggle").addEventListener("click", () => (running() ? stop() : start()));

  return { cameraRunning: running, stopCamera: stop };
}
