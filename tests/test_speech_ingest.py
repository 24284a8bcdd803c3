"""Ingest: every accepted format is decoded by FFmpeg's libraries into a 16 kHz mono copy
with its facts; duplicates are recognised; bad input is refused with a clear 4xx and
leaves no row and no blob file behind. No Whisper model is needed here."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from cohear.errors import BadInput, NotFound, TooLarge, Unprocessable, UnsupportedMedia
from speech import audio, formats, service
from speech.transcribe import (
    LanguageFinding,
    Segment,
    needs_review,
    rejection_reason,
    repeated_phrase,
    segment_confidence,
)
from tests.conftest import DEMO_DATA

FLU = DEMO_DATA / "flu-vaccine-en.wav"
CLINIC = DEMO_DATA / "clinic-bus-en-8k-mulaw.wav"
FLU_TEXT = "I would like to know where my mother can get the flu vaccine."
CLINIC_TEXT = "The clinic is too far away, and the bus does not run on Sundays."


# -- making test audio from the shipped WAVs, with PyAV ---------------------------------
def pcm16(path=FLU) -> np.ndarray:
    """The 16 kHz mono 16-bit samples of a shipped recording."""
    decoded = audio.decode(path)
    return np.round(decoded.samples * 32767).astype(np.int16)


def encode(pcm: np.ndarray, container: str, codec: str, *, rate: int = 16_000,
           out_rate: int | None = None, channels: int = 1) -> bytes:
    """Encode 16 kHz mono int16 samples with a real FFmpeg encoder into a real container."""
    buf = io.BytesIO()
    layout = "mono" if channels == 1 else "stereo"
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=out_rate or rate, layout=layout)
        cc = stream.codec_context
        resampler = av.AudioResampler(format=cc.format.name, layout=layout,
                                      rate=out_rate or rate, frame_size=cc.frame_size or None)
        data = pcm.reshape(1, -1)
        if channels == 2:
            data = np.repeat(pcm, 2).reshape(1, -1)  # interleaved L R L R
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="s16",
                                           layout=layout)
        frame.sample_rate = rate
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def with_silence(pcm: np.ndarray, before: float, after: float, noise: float = 0.0,
                 seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    def pad(seconds):
        return (rng.standard_normal(int(seconds * 16_000)) * noise * 32767).astype(np.int16)
    return np.concatenate([pad(before), pcm, pad(after)])


def wav_bytes(pcm: np.ndarray, rate: int = 16_000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


FORMATS = {
    # name: (container, codec, output rate, channels, filename, content type)
    "wav-mulaw-8k": ("wav", "pcm_mulaw", 8000, 1, "answer.wav", "audio/wav"),
    "wav-alaw-8k": ("wav", "pcm_alaw", 8000, 1, "answer.wav", "audio/x-wav"),
    "mp3": ("mp3", "libmp3lame", None, 1, "answer.mp3", "audio/mpeg"),
    "m4a-aac": ("ipod", "aac", None, 1, "answer.m4a", "audio/mp4"),
    "ogg-opus": ("ogg", "libopus", 48000, 1, "answer.ogg", "audio/ogg"),
    "webm-opus": ("webm", "libopus", 48000, 1, "answer.webm", "audio/webm;codecs=opus"),
    "amr-nb": ("amr", "libopencore_amrnb", 8000, 1, "answer.amr", "audio/amr"),
    "flac-stereo": ("flac", "flac", None, 2, "answer.flac", "audio/flac"),
}


@pytest.fixture(scope="module")
def encoded() -> dict[str, bytes]:
    pcm = pcm16()
    return {name: encode(pcm, c, codec, out_rate=rate, channels=ch)
            for name, (c, codec, rate, ch, _, _) in FORMATS.items()}


def nothing_stored(store) -> None:
    assert store.one("SELECT count(*) FROM recordings")[0] == 0
    assert store.one("SELECT count(*) FROM blobs")[0] == 0
    assert list(store.blobs.iter_files()) == []
    assert not store.blobs.tmp.exists() or list(store.blobs.tmp.iterdir()) == []


def upload(store, user, data: bytes, filename="answer.wav", content_type="audio/wav", **kw):
    return service.ingest(store, io.BytesIO(data), filename=filename, content_type=content_type,
                          uploaded_by=user, **kw)


# -- accepted formats ---------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FORMATS))
def test_each_accepted_format_is_decoded_with_its_facts(store, people, encoded, name):
    container, codec, rate, channels, filename, ctype = FORMATS[name]
    collector = people["collector"][0]
    data = encoded[name]
    rec = upload(store, collector, data, filename, ctype, language_hint="en")
    assert rec.format == {"ipod": "mp4"}.get(container, container)
    decoder = {"libmp3lame": "mp3float", "libopus": "opus", "libopencore_amrnb": "amrnb"}
    assert rec.codec == decoder.get(codec, codec)
    assert rec.sample_rate == (rate or 16_000)
    assert rec.channels == channels
    assert rec.duration_seconds == pytest.approx(3.92, abs=0.15)
    assert rec.speech_ratio > 0.6
    assert rec.uploaded_by == collector.id and rec.language_hint == "en"
    assert rec.status == "uploaded" and not rec.duplicate
    # The original bytes are kept exactly; the copy is 16 kHz mono 16-bit WAV.
    assert store.blobs.read(rec.original_sha256) == data
    with wave.open(io.BytesIO(store.blobs.read(rec.normalised_sha256))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 1, 2)
        assert w.getnframes() / 16_000 == pytest.approx(rec.duration_seconds, abs=0.01)


def test_shipped_phone_recording_keeps_its_8k_mulaw_facts(store, people):
    rec = upload(store, people["collector"][0], CLINIC.read_bytes(), CLINIC.name)
    assert (rec.format, rec.codec, rec.sample_rate, rec.channels) == ("wav", "pcm_mulaw", 8000, 1)
    assert rec.original_sha256 == store.blobs.hash_file(CLINIC)


def test_quiet_recording_is_normalised_and_long_silence_lowers_the_speech_share(store, people):
    quiet = (pcm16() * 0.1).astype(np.int16)
    padded = with_silence(quiet, 6.0, 6.0, noise=0.0005)
    rec = upload(store, people["collector"][0], wav_bytes(padded))
    assert rec.peak_dbfs == pytest.approx(-21.4, abs=1.0)
    assert rec.speech_ratio < 0.5 and rec.speech_seconds > 2.5
    copy = np.frombuffer(store.blobs.read(rec.normalised_sha256)[44:], dtype=np.int16)
    assert 20 * np.log10(np.abs(copy.astype(np.int32)).max() / 32768) == pytest.approx(-1.4,
                                                                                       abs=1.0)


def test_duplicate_upload_returns_the_existing_recording(store, people):
    collector = people["collector"][0]
    first = upload(store, collector, FLU.read_bytes())
    blobs = store.one("SELECT count(*) FROM blobs")[0]
    again = upload(store, collector, FLU.read_bytes(), filename="renamed.wav")
    assert again.duplicate and again.id == first.id and again.filename == first.filename
    assert store.one("SELECT count(*) FROM recordings")[0] == 1
    assert store.one("SELECT count(*) FROM blobs")[0] == blobs
    # Someone else's bytes are not handed to another collector, nor is their existence
    # told: the other collector gets a recording of their own, sharing the stored audio.
    theirs = upload(store, people["collector2"][0], FLU.read_bytes())
    assert not theirs.duplicate and theirs.id != first.id
    assert store.one("SELECT count(*) FROM blobs")[0] == blobs


def test_a_collector_sees_only_their_own_recordings(store, people):
    rec = upload(store, people["collector"][0], FLU.read_bytes())
    with pytest.raises(NotFound):
        service.get_recording(store, rec.id, people["collector2"][0])
    assert service.list_recordings(store, people["collector2"][0]) == []
    assert [r.id for r in service.list_recordings(store, people["reviewer"][0])] == [rec.id]


# -- bad input ------------------------------------------------------------------------------
def test_not_audio_is_refused(store, people):
    with pytest.raises(UnsupportedMedia, match="not audio"):
        upload(store, people["collector"][0], b"Dear nurse, this is a letter.\n" * 200,
               filename="answer.wav")
    nothing_stored(store)


def test_a_picture_is_not_audio(store, people):
    png = io.BytesIO()
    with av.open(png, "w", format="image2pipe") as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 8, 8, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.zeros((8, 8, 3), dtype=np.uint8), format="rgb24")
        for packet in list(stream.encode(frame)) + list(stream.encode(None)):
            out.mux(packet)
    with pytest.raises(UnsupportedMedia):
        upload(store, people["collector"][0], png.getvalue(), filename="answer.png",
               content_type="image/png")
    nothing_stored(store)


def test_zero_length_is_refused(store, people):
    with pytest.raises(Unprocessable, match="empty"):
        upload(store, people["collector"][0], b"")
    nothing_stored(store)


def test_truncated_wav_is_refused(store, people):
    data = FLU.read_bytes()
    with pytest.raises(Unprocessable, match="truncated"):
        upload(store, people["collector"][0], data[: len(data) // 2])
    nothing_stored(store)


def test_truncated_flac_is_refused(store, people, encoded):
    data = encoded["flac-stereo"]
    with pytest.raises(Unprocessable, match="truncated"):
        upload(store, people["collector"][0], data[: len(data) // 2], "answer.flac", "audio/flac")
    nothing_stored(store)


def test_corrupt_audio_is_refused(store, people, encoded):
    data = bytearray(encoded["m4a-aac"])
    # Overwrite the middle of the file (the audio and its index) with noise.
    rng = np.random.default_rng(1)
    data[200:-200] = rng.integers(0, 256, len(data) - 400, dtype=np.uint8).tobytes()
    with pytest.raises((Unprocessable, UnsupportedMedia)):
        upload(store, people["collector"][0], bytes(data), "answer.m4a", "audio/mp4")
    nothing_stored(store)


def test_silence_only_is_refused(store, people):
    with pytest.raises(Unprocessable, match="silent"):
        upload(store, people["collector"][0], wav_bytes(np.zeros(16_000 * 5, dtype=np.int16)))
    nothing_stored(store)


def test_longer_than_the_limit_is_refused_while_decoding(store, people, monkeypatch):
    monkeypatch.setenv("COHEAR_SPEECH_MAX_SECONDS", "2")
    with pytest.raises(TooLarge, match="longer than the limit of 2 seconds"):
        upload(store, people["collector"][0], FLU.read_bytes())
    nothing_stored(store)


class CountingContainer:
    """A PyAV container whose packets count the audio they decode (seconds, at each
    frame's own rate): a hook to see how much work decoding did, not a stand-in."""

    def __init__(self, container, decoded: list[float]):
        self._container, self._decoded = container, decoded

    def demux(self, *args, **kwargs):
        for packet in self._container.demux(*args, **kwargs):
            yield CountingPacket(packet, self._decoded)

    def __getattr__(self, name):
        return getattr(self._container, name)


class CountingPacket:
    def __init__(self, packet, decoded: list[float]):
        self._packet, self._decoded = packet, decoded

    def decode(self):
        frames = self._packet.decode()
        self._decoded.extend(f.samples / f.sample_rate for f in frames)
        return frames

    def __getattr__(self, name):
        return getattr(self._packet, name)


def test_decoding_stops_at_the_limit_for_a_decompression_bomb(monkeypatch):
    # A quarter of an hour of FLAC silence is tiny on disk; decoding must stop after the
    # limit, not decode it all and then compare.
    quarter_hour = np.zeros(16_000 * 900, dtype=np.int16)
    bomb = encode(quarter_hour, "flac", "flac")
    assert len(bomb) < 500_000
    decoded: list[float] = []
    real_open = av.open
    monkeypatch.setattr(audio.av, "open", lambda *a, **kw: CountingContainer(real_open(*a, **kw),
                                                                              decoded))
    with pytest.raises(TooLarge, match="longer than the limit of 10 seconds"):
        audio.decode(io.BytesIO(bomb), limit_seconds=10)
    # One FLAC frame (a quarter of a second here) past the limit at most, of 900 seconds.
    assert 10 < sum(decoded) <= 11, sum(decoded)


def test_the_counting_hook_sees_a_whole_recording(monkeypatch):
    # The hook above counts what a decode really does: a full decode counts it all.
    decoded: list[float] = []
    real_open = av.open
    monkeypatch.setattr(audio.av, "open", lambda *a, **kw: CountingContainer(real_open(*a, **kw),
                                                                              decoded))
    clip = audio.decode(io.BytesIO(FLU.read_bytes()), filename="flu.wav")
    assert abs(sum(decoded) - clip.duration) < 0.05


def test_larger_than_the_byte_limit_is_refused(store, people, monkeypatch):
    monkeypatch.setenv("COHEAR_SPEECH_MAX_BYTES", "10000")
    with pytest.raises(TooLarge, match="10,000 bytes"):
        upload(store, people["collector"][0], FLU.read_bytes())
    nothing_stored(store)


@pytest.mark.parametrize("filename, content_type, holds", [
    ("answer.mp3", "audio/wav", "WAV"),
    ("answer.wav", "audio/ogg", "WAV"),
    ("answer.webm", None, "MP3"),
])
def test_a_file_claiming_one_type_but_holding_another_is_refused(
        store, people, encoded, filename, content_type, holds):
    data = FLU.read_bytes() if holds == "WAV" else encoded["mp3"]
    with pytest.raises(UnsupportedMedia, match=f"holds {holds} audio"):
        upload(store, people["collector"][0], data, filename, content_type)
    nothing_stored(store)


def test_a_failed_database_write_leaves_no_blob_file(store, people, monkeypatch):
    from cohear.errors import StoreError

    def full_disk(*args, **kwargs):
        raise StoreError("the disk holding the data directory is full", fix="free some space")
    monkeypatch.setattr(service.audit, "record", full_disk)
    with pytest.raises(StoreError):
        upload(store, people["collector"][0], FLU.read_bytes())
    nothing_stored(store)


def test_a_bad_language_hint_is_refused_before_anything_is_stored(store, people):
    with pytest.raises(BadInput):
        upload(store, people["collector"][0], FLU.read_bytes(), language_hint="not a language!")
    nothing_stored(store)


def test_a_researcher_may_not_upload(store, people):
    from cohear.errors import Forbidden
    with pytest.raises(Forbidden):
        upload(store, people["researcher"][0], FLU.read_bytes())


# -- the guards and the formats, as rules -----------------------------------------------------
def test_confidence_formula():
    assert segment_confidence(0.0, 0.0) == 1.0
    assert segment_confidence(-0.5, 0.2) == pytest.approx(np.exp(-0.5) * 0.8)
    assert segment_confidence(-10, 0.99) < 0.01


def test_repetition_loops_and_text_over_silence_are_rejected_with_a_reason():
    assert repeated_phrase("thank you thank you thank you thank you") == "thank you"
    assert repeated_phrase(FLU_TEXT) is None
    assert "repetition loop" in rejection_reason("I I I I I I", -0.2, 0.1, 1.2)
    assert "compression ratio 3.1" in rejection_reason("la la la", -0.2, 0.1, 3.1)
    assert "text over silence" in rejection_reason("Thanks for watching!", -1.4, 0.9, 1.0)
    assert rejection_reason(FLU_TEXT, -0.2, 0.05, 1.1) is None


def test_needs_review_for_low_confidence_rejections_and_language_mismatch():
    good = Segment(0, 0.0, 3.0, FLU_TEXT, -0.1, 0.01, 1.1)
    shaky = Segment(1, 3.0, 5.0, "maybe words", -1.5, 0.3, 1.1)
    sure = LanguageFinding(None, "en", 0.95, "en")
    assert not needs_review([good], sure)
    assert needs_review([good, shaky], sure)
    assert needs_review([good], LanguageFinding("pl", "en", 0.95, "en", mismatch=True))
    rejected = Segment(1, 3.0, 5.0, "la la", -0.1, 0.9, 3.0, rejected_reason="repetition loop")
    assert needs_review([good, rejected], sure)


def test_srt_and_vtt_leave_out_rejected_segments():
    segs = [{"start": 0.0, "end": 2.5, "text": "Hello there."},
            {"start": 2.5, "end": 4.0, "text": "la la la", "rejected": True},
            {"start": 3661.25, "end": 3662.0, "text": "Goodbye --> now"}]
    assert formats.to_srt(segs) == ("1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n"
                                    "2\n01:01:01,250 --> 01:01:02,000\nGoodbye --> now\n")
    assert formats.to_vtt(segs) == ("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n"
                                    "01:01:01.250 --> 01:01:02.000\nGoodbye -> now\n")
    assert formats.to_text(segs) == "Hello there.\nGoodbye --> now\n"
    assert formats.to_text([]) == ""


def test_deleting_recordings_removes_their_words_rows_and_audio(store, people):
    from cohear.audit import entries
    from speech.transcribe import Transcription
    collector, reviewer = people["collector"][0], people["reviewer"][0]
    rec = upload(store, collector, FLU.read_bytes())
    keep = upload(store, collector, CLINIC.read_bytes())
    heard = Transcription(LanguageFinding(None, "en", 0.9, "en"),
                          [Segment(0, 0.0, 3.9, FLU_TEXT, -0.2, 0.05, 1.0)], 3.9)
    with store.transaction() as conn:
        service.save_machine_transcript(conn, rec.id, None, heard, {"source": FLU_TEXT}, {})
    service.correct(store, rec.id, reviewer, text="My mother needs the flu vaccine.")

    with store.transaction() as conn:
        counts, gone = service.delete_recordings(conn, store, [rec.id])
    for sha in gone:
        store.blobs.delete_file(sha)
    assert counts == {"recordings": 1, "transcripts": 2}
    assert sorted(gone) == sorted({rec.original_sha256, rec.normalised_sha256})
    assert not store.blobs.path(rec.original_sha256).exists()
    assert store.blobs.path(keep.original_sha256).exists()
    for table in ("transcripts", "transcript_segments", "transcript_english"):
        assert store.one(f"SELECT count(*) FROM {table}")[0] == 0
    log = entries(store.conn, entity="recording", entity_id=rec.id)
    assert {e["action"] for e in log} >= {"recording.upload", "transcript.machine",
                                          "transcript.correct"}
    assert all(e["before"] is None and e["after"] is None for e in log)
    assert "flu" not in str([(e["before"], e["after"]) for e in log]).lower()
    with pytest.raises(NotFound):
        service.get_recording(store, rec.id, reviewer)
    # A respondent with no recordings: the withdrawal's report counts nothing deleted.
    with store.transaction() as conn:
        assert service.delete_recordings(conn, store, []) == (
            {"recordings": 0, "transcripts": 0}, [])


def test_deleting_a_recording_keeps_each_file_still_used_and_removes_the_rest(store, people):
    """A file another recording holds, or one the caller still uses (surveys: a question's
    audio prompt), is kept; every other file of the deleted recording goes, whichever of
    its two files (original, normalised) is the one kept."""
    from tests.test_crash_safety import variants
    collector, other = people["collector"][0], people["collector2"][0]
    orders = set()
    for sound in variants(8, offset=20):
        rec = upload(store, collector, sound)
        # Someone sent the 16 kHz copy itself: their recording's original is this one's normalised.
        shared = upload(store, other, store.blobs.path(rec.normalised_sha256).read_bytes())
        assert shared.original_sha256 == rec.normalised_sha256
        orders.add(rec.normalised_sha256 < rec.original_sha256)
        with store.transaction() as conn:
            _, gone = service.delete_recordings(conn, store, [rec.id])
        assert gone == [rec.original_sha256]
        assert store.one("SELECT 1 FROM blobs WHERE sha256 = ?", (rec.normalised_sha256,))
    assert orders == {True, False}  # the kept file came first and last in the loop
    for n, pick in enumerate((min, max)):   # the kept file first, then last, of the two
        rec = upload(store, collector, variants(1, offset=40 + n)[0])
        both = {rec.original_sha256, rec.normalised_sha256}
        kept = pick(both)
        with store.transaction() as conn:
            _, gone = service.delete_recordings(conn, store, [rec.id],
                                                still_used=lambda conn, sha, kept=kept: sha == kept)
        assert gone == sorted(both - {kept})
        assert store.one("SELECT 1 FROM blobs WHERE sha256 = ?", (kept,))
