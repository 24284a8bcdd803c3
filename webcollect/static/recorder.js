// A voice recorder widget: MediaRecorder capture with a level meter and elapsed time,
// playback before saving, and "record again". The recording is handed over as a Blob.
// Recording is unmistakable: a red badge and frame, a red Stop button with its own
// icon and words, and an announcement for screen readers when it starts and stops.

import { apply, fill, t } from "./i18n.js";

const MAX_SECONDS = 15 * 60;  // the server refuses far longer recordings anyway

function bestType() {
  for (const type of ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"]) {
    if (window.MediaRecorder && MediaRecorder.isTypeSupported(type)) return type;
  }
  return "";
}

function clock(seconds) {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class Recorder {
  constructor(container, { onChange } = {}) {
    this.container = container;
    this.onChange = onChange || (() => {});
    container.replaceChildren(document.getElementById("recorder-template").content.cloneNode(true));
    apply(container);
    this.el = (name) => container.querySelector(name);
    this.el(".rec-start").addEventListener("click", () => this.start());
    this.el(".rec-stop").addEventListener("click", () => this.stop());
    this.el(".rec-again").addEventListener("click", () => this.reset(true));
    this.labels();
    this.blob = null;
    this.container.dataset.state = "empty";
    this.container.dataset.seconds = "0";
    this.show(false);
  }

  get recording() { return !!(this.recorder && this.recorder.state === "recording"); }

  announce(key, fallback, values) {
    fill(this.el(".rec-status"), key, fallback, values);
  }

  labels() {
    apply(this.container);
    this.el(".rec-level").setAttribute("aria-label", t("level") || "Sound level");
    this.el(".rec-time").setAttribute("aria-label", t("elapsed") || "Time");
    this.el(".rec-audio").setAttribute("aria-label", t("your_recording") || "The recording");
  }

  show(recording) {
    this.el(".rec-badge").hidden = !recording;
    this.el(".rec-start").hidden = recording || !!this.blob;
    this.el(".rec-stop").hidden = !recording;
    this.el(".rec-again").hidden = recording || !this.blob;
    this.el(".rec-playback").hidden = recording || !this.blob;
  }

  async start() {
    this.el(".rec-error").hidden = true;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      this.el(".rec-error").textContent = t("mic_denied") ||
        "The microphone cannot be used. Allow it in the browser settings, or type the answer.";
      this.el(".rec-error").hidden = false;
      return;
    }
    const type = bestType();
    this.chunks = [];
    this.recorder = new MediaRecorder(this.stream, type ? { mimeType: type, audioBitsPerSecond: 64000 } : {});
    this.recorder.addEventListener("dataavailable", (e) => { if (e.data.size) this.chunks.push(e.data); });
    this.recorder.addEventListener("stop", () => this.finished());
    this.context = new AudioContext();
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 1024;
    this.context.createMediaStreamSource(this.stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this.startedAt = performance.now();
    this.peak = 0;
    this.container.dataset.seconds = "0";
    this.recorder.start(1000);
    this.container.dataset.state = "recording";
    this.show(true);
    this.el(".rec-stop").focus();
    this.announce("rec_started", "Recording started. Press Stop recording when the answer is finished.");
    this.onChange(null);
    const tick = () => {
      if (!this.recorder || this.recorder.state !== "recording") return;
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += v * v;
      // RMS on a rough log scale, so ordinary speech sits mid-meter.
      const rms = Math.sqrt(sum / samples.length);
      const level = Math.min(1, Math.max(0, 1 + Math.log10(rms + 1e-6) / 3));
      this.el(".rec-level").value = level;
      this.peak = Math.max(this.peak, level);
      this.container.dataset.peak = this.peak.toFixed(2);
      const seconds = (performance.now() - this.startedAt) / 1000;
      this.el(".rec-time").value = clock(seconds);
      this.container.dataset.seconds = String(Math.floor(seconds));
      if (seconds >= MAX_SECONDS) this.stop();
    };
    this.timer = setInterval(tick, 100);
  }

  stop() {
    if (this.recorder && this.recorder.state === "recording") this.recorder.stop();
  }

  // Leaving the question while recording: stop, free the microphone, keep nothing.
  dispose() {
    this.discarded = true;
    this.stop();
  }

  finished() {
    clearInterval(this.timer);
    this.stream.getTracks().forEach((track) => track.stop());
    this.context.close();
    if (this.discarded) return;
    this.blob = new Blob(this.chunks, { type: this.recorder.mimeType || "audio/webm" });
    this.recorder = null;
    this.el(".rec-level").value = 0;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = URL.createObjectURL(this.blob);
    this.el(".rec-audio").src = this.url;
    this.container.dataset.state = "recorded";
    this.show(false);
    this.announce("rec_stopped", "Recording stopped: {time} recorded. Listen to it, record again, or save it.",
      { time: this.el(".rec-time").value });
    this.el(".rec-again").focus();
    this.onChange(this.blob);
  }

  reset(andStart = false) {
    this.stop();
    this.blob = null;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
    this.el(".rec-audio").removeAttribute("src");
    this.el(".rec-time").value = "0:00";
    this.container.dataset.state = "empty";
    this.container.dataset.seconds = "0";
    this.show(false);
    this.onChange(null);
    if (andStart) this.start();
  }
}
