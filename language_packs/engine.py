"""The offline translation engine: installed Argos packs run on CTranslate2, loaded once
per process and kept warm, translating every sentence of every text in one batched call.

No network and no torch: SentencePiece tokenises, cohear's splitter finds sentences,
and `Translator.translate_batch` does the work. Where no pack goes straight from X to
Y, the engine goes X -> en -> Y and marks the result as pivoted.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cohear.errors import BadInput, ModelError, TooLarge
from cohear.store import Store
from cohear.text import machine_text
from language_packs.packs import find_pack
from language_packs.registry import get_language
from language_packs.splitter import split_sentences

MAX_TEXT_CHARS = 5_000
PIVOT = "en"


@dataclass(frozen=True)
class Translation:
    text: str
    source: str        # BCP-47
    target: str        # BCP-47
    pivoted: bool      # True when it went X->en->Y
    engine: str        # "argos:translate-en_ur-1.9", or "argos:...+argos:..." when pivoted


@dataclass
class LoadedPack:
    """A pack's CTranslate2 translator and SentencePiece model, ready to use."""

    name: str
    version: str
    translator: object
    processor: object
    target_prefix: str
    key: tuple

    @property
    def label(self) -> str:
        return f"argos:{self.name}-{self.version}"


class Engine:
    """Translates with the packs installed in one data directory. Thread-safe."""

    # Beam size 4 is Argos Translate's default, so cohear's translations match what the
    # same pack gives in Argos. Batches of 8 sentences (all still sent in one call) used
    # the least CPU per sentence of the sizes tried (1 to 128) on a 2-core machine.
    def __init__(self, store: Store, *, beam_size: int = 4, max_batch_size: int = 8,
                 max_decoding_length: int = 256):
        self.store = store
        self.beam_size = beam_size
        self.max_batch_size = max_batch_size
        self.max_decoding_length = max_decoding_length
        self.loads = 0  # how many times a model was read from disk (kept warm after)
        self._loaded: dict[Path, LoadedPack] = {}
        self._lock = threading.Lock()

    # -- which packs -----------------------------------------------------------------
    def route(self, source: str, target: str) -> list[tuple[str, str]] | None:
        """The pack directions to use, [(source, target)] or two steps via English."""
        source, target = get_language(source).tag, get_language(target).tag
        if source == target:
            return []
        if find_pack(self.store, source, target) is not None:
            return [(source, target)]
        if PIVOT not in (source, target) and find_pack(self.store, source, PIVOT) is not None \
                and find_pack(self.store, PIVOT, target) is not None:
            return [(source, PIVOT), (PIVOT, target)]
        return None

    def can_translate(self, source: str, target: str) -> bool:
        """True when installed packs translate source to target, directly or via English."""
        return self.route(source, target) is not None

    def _no_route(self, source: str, target: str) -> BadInput:
        src, tgt, english = get_language(source), get_language(target), get_language(PIVOT)
        needed = [(src, tgt)] if PIVOT in (src.tag, tgt.tag) else [(src, english),
                                                                   (english, tgt)]
        missing = [(a, b) for a, b in needed if find_pack(self.store, a.tag, b.tag) is None]
        unpublished = [lang.english_name for pair in missing for lang in pair
                       if lang.tag != PIVOT and not lang.argos_code]
        if unpublished:
            fix = (f"no Argos pack exists for {', '.join(sorted(set(unpublished)))}: "
                   "send the text to a human translator")
        else:
            fix = "install " + " and ".join(f"translate-{a.argos_code}_{b.argos_code}"
                                            for a, b in missing) + " with `cohear packs install`"
        return BadInput(f"cohear cannot translate {src.english_name} ({src.tag}) to "
                        f"{tgt.english_name} ({tgt.tag}) on this machine", fix=fix)

    # -- loading ---------------------------------------------------------------------
    def load(self, source: str, target: str) -> LoadedPack:
        """The warm pack for one direction (read from disk once; again only if replaced)."""
        row = find_pack(self.store, source, target)
        if row is None:
            raise self._no_route(source, target)
        folder = (self.store.settings.data_dir / row["path"]).resolve()
        try:
            st = folder.stat()
        except FileNotFoundError:
            raise ModelError(f"the pack {row['name']} is recorded but its folder {folder} "
                             "is missing", fix=f"install it again (`cohear packs install`), or "
                                               f"remove it with `cohear packs remove "
                                               f"{row['name']}`") from None
        key = (st.st_ino, st.st_mtime_ns, row["package_version"])
        with self._lock:
            pack = self._loaded.get(folder)
            if pack is not None and pack.key == key:
                return pack
            import ctranslate2
            import sentencepiece as spm

            metadata = json.loads(row["metadata_json"])
            # Without cpu_threads: a batch is split across up to two CTranslate2 workers of
            # one thread each. Several OpenMP threads per worker (CTranslate2's default)
            # measured many times slower on a 2-core machine; two single-threaded workers
            # use both cores for one batch (bench/translate.py: 2.2x -> 4.0x the baseline).
            if self.store.settings.cpu_threads:
                inter, intra = 1, self.store.settings.cpu_threads
            else:
                inter, intra = max(1, min(2, os.cpu_count() or 1)), 1
            pack = LoadedPack(
                name=row["name"], version=row["package_version"],
                translator=ctranslate2.Translator(str(folder / "model"), device="cpu",
                                                  inter_threads=inter, intra_threads=intra),
                processor=spm.SentencePieceProcessor(
                    model_file=str(folder / "sentencepiece.model")),
                target_prefix=metadata.get("target_prefix", "") or "", key=key)
            self._loaded[folder] = pack
            self.loads += 1
            return pack

    # -- translating -----------------------------------------------------------------
    def translate(self, texts: list[str], source: str, target: str) -> list[Translation]:
        """Translate every text from source to target (BCP-47 tags), all in one batch."""
        source, target = get_language(source).tag, get_language(target).tag
        _check_texts(texts)
        if not texts:
            return []
        steps = self.route(source, target)
        if steps is None:
            raise self._no_route(source, target)
        # Machine-made words leave the engine without control characters (cohear/text.py):
        # a pack's vocabulary, or a text given to it, may hold them.
        if not steps:
            return [Translation(machine_text(t), source, target, False, "identity")
                    for t in texts]
        current = list(texts)
        labels = []
        for step_source, step_target in steps:
            pack = self.load(step_source, step_target)
            current = self._translate_texts(pack, current, step_source)
            labels.append(pack.label)
        return [Translation(machine_text(t), source, target, len(steps) > 1, "+".join(labels))
                for t in current]

    def _translate_texts(self, pack: LoadedPack, texts: list[str], source: str) -> list[str]:
        # Each text becomes (sentence, separator) pairs; only sentences with words go to
        # the model, and separators (spaces, line breaks) come back exactly as they were.
        layouts = [split_sentences(text, source) for text in texts]
        sentences = [s for layout in layouts for s, _ in layout if s.strip()]
        translated = iter(self.translate_sentences(pack, sentences))
        out = []
        for layout in layouts:
            out.append("".join((next(translated) if s.strip() else s) + sep
                               for s, sep in layout))
        return out

    def translate_sentences(self, pack: LoadedPack, sentences: list[str]) -> list[str]:
        """One `translate_batch` call for all sentences (CTranslate2 sorts them by length
        and runs them `max_batch_size` at a time). A sentence that occurs several times
        (messages share boilerplate such as "Call NHS 111.") is translated once."""
        if not sentences:
            return []
        unique = list(dict.fromkeys(sentences))
        done = dict(zip(unique, self._run_batch(pack, unique)))
        return [done[s] for s in sentences]

    def _run_batch(self, pack: LoadedPack, sentences: list[str]) -> list[str]:
        processor = pack.processor
        tokens = [processor.encode(s, out_type=str) for s in sentences]
        prefix = [[pack.target_prefix]] * len(tokens) if pack.target_prefix else None
        results = pack.translator.translate_batch(
            tokens, target_prefix=prefix, max_batch_size=self.max_batch_size,
            beam_size=self.beam_size, replace_unknowns=True,
            max_decoding_length=self.max_decoding_length)
        out = []
        for result in results:
            text = processor.decode(result.hypotheses[0])
            if pack.target_prefix and text.startswith(pack.target_prefix):
                text = text[len(pack.target_prefix):]
            out.append(text.lstrip(" "))
        return out


def _check_texts(texts: list[str]) -> None:
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise BadInput("texts must be a list of strings", fix="pass [text, ...]")
    for i, text in enumerate(texts, 1):
        if not isinstance(text, str):
            raise BadInput(f"text {i} is not a string", fix="send text only")
        if not text.strip():
            raise BadInput(f"text {i} is empty", fix="send some words to translate")
        if len(text) > MAX_TEXT_CHARS:
            raise TooLarge(f"text {i} is {len(text):,} characters long; the limit is "
                           f"{MAX_TEXT_CHARS:,} characters per text",
                           fix="split it into shorter messages")


_engines: dict[Path, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(store: Store) -> Engine:
    """The warm engine for this store's data directory (one per process and directory)."""
    key = store.settings.data_dir.resolve()
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = Engine(store)
        return engine
