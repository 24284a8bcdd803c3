"""Audio in: decode any accepted upload with FFmpeg's libraries (PyAV), check it is what
it claims to be, and make the 16 kHz mono copy that Whisper and the reviewers listen to.

How the normalised copy is made (no ffmpeg binary is needed or assumed):
- PyAV decodes the original and FFmpeg's libswresample, driven by PyAV while decoding,
  mixes it down to mono and resamples it to 16 kHz 16-bit. It filters against aliasing
  (pydub's audioop-based `set_frame_rate` does not), and streaming lets decoding stop
  as soon as the duration limit is passed, which bounds decompression bombs.
- pydub works on that raw PCM (`AudioSegment(data=...)`) for loudness normalisation
  (peak to -1 dBFS, at most +20 dB so hiss is not blown up) and writes the WAV.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import av
import numpy as np

with warnings.catch_warnings():
    # pydub looks for an ffmpeg binary at import and warns (cohear never asks it to run
    # one), and imports audioop, deprecated in Python 3.11 (audioop-lts replaces it).
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment

from cohear.errors import TooLarge, Unprocessable, UnsupportedMedia

SAMPLE_RATE = 16_000

# Limits on uploads; each can be raised per deployment with an environment variable.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # 50 MB: about 50 minutes of 128 kbit/s MP3
DEFAULT_MAX_SECONDS = 30 * 60  # 30 minutes: longer answers are split by the collector
SILENCE_DBFS = -60.0  # a recording whose loudest moment is quieter than this holds nothing
TARGET_PEAK_DBFS = -1.0
MAX_GAIN_DB = 20.0


def max_bytes() -> int:
    """The upload size limit: COHEAR_SPEECH_MAX_BYTES, else 50 MB."""
    return _env_number("COHEAR_SPEECH_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_seconds() -> float:
    """The duration limit: COHEAR_SPEECH_MAX_SECONDS, else 30 minutes."""
    return float(_env_number("COHEAR_SPEECH_MAX_SECONDS", DEFAULT_MAX_SECONDS))


def _env_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(float(raw))
    except ValueError:
        from cohear.errors import SettingsError
        raise SettingsError(f"{name} is {raw!r}, not a number",
                            fix=f"set {name} to a whole number, or unset it") from None
    return value


# Container families cohear accepts, by the names FFmpeg's demuxers give themselves.
_DEMUXER_FAMILY = {
    "wav": "wav",
    "mp3": "mp3",
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "aac": "aac",
    "ogg": "ogg",
    "matroska,webm": "webm",
    "amr": "amr",
    "flac": "flac",
}
FAMILY_MEDIA_TYPE = {
    "wav": "audio/wav", "mp3": "audio/mpeg", "mp4": "audio/mp4", "aac": "audio/aac",
    "ogg": "audio/ogg", "webm": "audio/webm", "amr": "audio/amr", "flac": "audio/flac",
}
FAMILY_LABEL = {
    "wav": "WAV", "mp3": "MP3", "mp4": "M4A/MP4", "aac": "AAC", "ogg": "Ogg",
    "webm": "WebM", "amr": "AMR", "flac": "FLAC",
}
# What a filename extension or a content type claims: the families that may honour it.
_EXTENSION_CLAIM = {
    ".wav": {"wav"}, ".wave": {"wav"}, ".mp3": {"mp3"},
    ".m4a": {"mp4", "aac"}, ".mp4": {"mp4"}, ".aac": {"aac", "mp4"}, ".3gp": {"mp4", "amr"},
    ".ogg": {"ogg"}, ".oga": {"ogg"}, ".opus": {"ogg", "webm"},
    ".webm": {"webm"}, ".weba": {"webm"}, ".amr": {"amr"}, ".flac": {"flac"},
}
_TYPE_CLAIM = {
    "audio/wav": {"wav"}, "audio/x-wav": {"wav"}, "audio/wave": {"wav"},
    "audio/vnd.wave": {"wav"}, "audio/mpeg": {"mp3"}, "audio/mp3": {"mp3"},
    "audio/mp4": {"mp4", "aac"}, "audio/x-m4a": {"mp4", "aac"}, "audio/m4a": {"mp4", "aac"},
    "video/mp4": {"mp4"}, "audio/aac": {"aac", "mp4"}, "audio/x-aac": {"aac", "mp4"},
    "audio/3gpp": {"mp4", "amr"}, "audio/ogg": {"ogg"}, "audio/opus": {"ogg", "webm"},
    "audio/webm": {"webm"}, "video/webm": {"webm"}, "audio/amr": {"amr"},
    "audio/flac": {"flac"}, "audio/x-flac": {"flac"},
}
ACCEPTED = "WAV (PCM, mu-law, A-law), MP3, M4A/AAC, Ogg/Opus, WebM/Opus, AMR or FLAC"


@dataclass(frozen=True)
class DecodedAudio:
    """An upload decoded and normalised, with the facts a reviewer sees about it."""

    samples: np.ndarray  # float32, mono, 16 kHz, loudness-normalised
    wav: bytes  # the same as a 16-bit WAV file (the normalised blob)
    family: str  # wav, mp3, mp4, aac, ogg, webm, amr, flac
    codec: str  # FFmpeg's decoder name, e.g. pcm_mulaw, opus, amrnb
    sample_rate: int  # of the original
    channels: int  # of the original
    duration: float  # seconds actually decoded
    peak_dbfs: float  # of the original, before normalisation
    gain_db: float  # applied by normalisation
    speech_seconds: float  # heard as speech by the Silero VAD
    media_type: str

    @property
    def speech_ratio(self) -> float:
        return 0.0 if self.duration <= 0 else min(1.0, self.speech_seconds / self.duration)

    def facts(self) -> dict:
        return {"format": self.family, "codec": self.codec, "sample_rate": self.sample_rate,
                "channels": self.channels, "duration_seconds": round(self.duration, 3),
                "peak_dbfs": round(self.peak_dbfs, 1), "gain_db": round(self.gain_db, 1),
                "speech_seconds": round(self.speech_seconds, 2),
                "speech_ratio": round(self.speech_ratio, 3), "media_type": self.media_type}


def claimed_families(filename: str | None, content_type: str | None) -> list[tuple[str, set]]:
    """What the upload says it is: [(where the claim comes from, families), ...]."""
    claims = []
    ext = Path(filename or "").suffix.lower()
    if ext in _EXTENSION_CLAIM:
        claims.append((f"the name {Path(filename or '').name!r}", _EXTENSION_CLAIM[ext]))
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in _TYPE_CLAIM:
        claims.append((f"the content type {ctype}", _TYPE_CLAIM[ctype]))
    return claims


class AudioTooShort(Unprocessable):
    """Less than 0.1 s of audio could be decoded (an empty or nearly empty file)."""


class AudioSilent(Unprocessable):
    """The recording is silent: nothing a person said can be in it."""


class AudioTooLong(TooLarge):
    """The recording decodes to more than the duration limit."""


def decode(source: str | Path | IO[bytes], *, filename: str | None = None,
           content_type: str | None = None, limit_seconds: float | None = None,
           allow_silence: bool = False) -> DecodedAudio:
    """Decode an upload with FFmpeg's libraries and normalise it to 16 kHz mono.

    Raises UnsupportedMedia (415) for something that is not accepted audio or is not
    what its name or content type claims, Unprocessable (422) for an empty, truncated,
    corrupt or silent recording, and TooLarge (413) past the duration limit. With
    `allow_silence`, a silent recording is decoded (a speech server answers it with no
    words, as OpenAI's does) instead of refused.
    """
    limit = max_seconds() if limit_seconds is None else limit_seconds
    name = Path(filename or "").name or "the upload"
    if isinstance(source, (str, Path)) and os.path.getsize(source) == 0:
        raise AudioTooShort(f"{name} is empty (0 bytes)", fix="record the answer again and upload it")
    try:
        container = av.open(str(source) if isinstance(source, Path) else source, mode="r",
                            metadata_errors="ignore")
    except (av.FFmpegError, ValueError, OSError):
        raise UnsupportedMedia(f"{name} is not audio that cohear can read",
                               fix=f"upload {ACCEPTED}") from None
    try:
        return _decode_container(container, name, filename, content_type, limit, source,
                                 allow_silence)
    finally:
        container.close()


def _decode_container(container, name, filename, content_type, limit, source,
                      allow_silence: bool = False) -> DecodedAudio:
    family = _DEMUXER_FAMILY.get(container.format.name)
    if family is None or not container.streams.audio:
        raise UnsupportedMedia(f"{name} is {container.format.long_name or container.format.name}"
                               ", not an accepted audio format", fix=f"upload {ACCEPTED}")
    for where, families in claimed_families(filename, content_type):
        if family not in families:
            raise UnsupportedMedia(
                f"{where} says {'/'.join(sorted(FAMILY_LABEL[f] for f in families))} "
                f"but the file holds {FAMILY_LABEL[family]} audio",
                fix="upload the file as it was recorded, without renaming it")
    stream = container.streams.audio[0]
    codec = stream.codec_context.name
    declared = _declared_seconds(container, stream)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    max_samples = int(limit * SAMPLE_RATE)
    rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
    bad_packets = packets = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets += 1
            try:
                frames = packet.decode()
            except av.FFmpegError:
                bad_packets += 1
                continue
            for frame in frames:
                rate, channels = frame.sample_rate, frame.layout.nb_channels
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                if total > max_samples:
                    raise AudioTooLong(f"{name} is longer than the limit of {_minutes(limit)}",
                                   fix="split the recording, or raise COHEAR_SPEECH_MAX_SECONDS")
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        raise Unprocessable(f"{name} is corrupt: FFmpeg could not read it ({exc.strerror})",
                            fix="upload the original recording again") from None
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    duration = pcm.size / SAMPLE_RATE
    if duration < 0.1:
        raise AudioTooShort(f"{name} holds no audio that could be decoded"
                            + (" (it is corrupt)" if bad_packets else ""),
                            fix="record the answer again and upload it")
    if packets and bad_packets > max(2, packets // 20):
        raise Unprocessable(f"{name} is corrupt: {bad_packets} of its {packets} audio packets "
                            "could not be decoded", fix="upload the original recording again")
    truncated = _truncation(source, family, declared, duration)
    if truncated:
        raise Unprocessable(f"{name} is truncated: {truncated}",
                            fix="the upload was probably cut off; upload the whole file again")
    peak_dbfs = _dbfs(int(np.max(np.abs(pcm.astype(np.int32)))) / 32768.0)
    if peak_dbfs < SILENCE_DBFS and not allow_silence:
        raise AudioSilent(f"{name} is silent: its loudest moment is {peak_dbfs:.0f} dBFS",
                            fix="check the microphone and record the answer again")
    segment = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=SAMPLE_RATE, channels=1)
    gain = 0.0
    if segment.max_dBFS != -math.inf:
        gain = max(0.0, min(MAX_GAIN_DB, TARGET_PEAK_DBFS - segment.max_dBFS))
        segment = segment.apply_gain(gain)
    wav_buffer = io.BytesIO()
    segment.export(wav_buffer, format="wav")
    samples = np.frombuffer(segment.raw_data, dtype=np.int16).astype(np.float32) / 32768.0
    return DecodedAudio(samples=samples, wav=wav_buffer.getvalue(), family=family, codec=codec,
                        sample_rate=int(rate or 0), channels=int(channels or 0),
                        duration=duration, peak_dbfs=peak_dbfs, gain_db=gain,
                        speech_seconds=speech_seconds(samples),
                        media_type=FAMILY_MEDIA_TYPE[family])


def _dbfs(peak: float) -> float:
    """Peak level of 16-bit PCM (full scale 1.0) in dBFS; -inf for digital silence."""
    return -math.inf if peak <= 0 else 20 * math.log10(min(1.0, peak))


def _declared_seconds(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _truncation(source, family: str, declared: float | None, decoded: float) -> str | None:
    """Why the recording looks cut short, or None."""
    if declared is not None and declared - decoded > max(0.5, 0.05 * declared):
        return f"it says it lasts {declared:.1f} s but only {decoded:.1f} s of audio is there"
    if family == "wav" and isinstance(source, (str, Path)) and _wav_data_missing(Path(source)):
        return "its header promises more audio data than the file holds"
    return None


def _wav_data_missing(path: Path) -> bool:
    """FFmpeg trims a WAV's data size to the file; the RIFF header still says the truth."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        size = os.fstat(fh.fileno()).st_size
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return False
            cid, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                # 0 and 0xFFFFFFFF mean "unknown" (streamed recorders write these).
                return length not in (0, 0xFFFFFFFF) and fh.tell() + length > size
            fh.seek(length + (length & 1), os.SEEK_CUR)


def speech_seconds(samples: np.ndarray) -> float:
    """Seconds of speech heard by faster-whisper's bundled Silero VAD (offline)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps
    if samples.size == 0:
        return 0.0
    spans = get_speech_timestamps(samples, VadOptions())
    return sum(s["end"] - s["start"] for s in spans) / SAMPLE_RATE


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"
