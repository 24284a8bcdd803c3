"""A tiny but real Argos Translate pack whose model copies its input: a test and
benchmark fixture (a CTranslate2 Transformer built from numpy weights, no torch).

It is NOT a translator. It exists so that tests, the benchmark and the demo can
exercise the real install, loading and CTranslate2 inference path with outputs
that can be predicted exactly: the "translation" of a sentence is the sentence.

How the weights make the model copy (one encoder and one decoder layer, one head):

* The model width is split into two blocks: `token` (a ±1 code per token) and
  `position` (a ±1 code per position).
* Embeddings write a token's code into `token`; position encodings write the
  position's code into `position`. Every code has zero mean and the same norm, so
  the layer norms only rescale vectors by one constant and change no decision.
* Self-attention and feed-forward layers have zero output weights: they add nothing.
* Decoder cross-attention compares `position` blocks only. The codes are checked
  to be nearly orthogonal, so decoder step t attends (with a large scale, i.e. one-hot) to
  source position t, and adds that position's token code, times COPY_GAIN, to the
  decoder's `token` block (which still holds the previous token's code once).
* The output projection reads `token` and scores each token by the dot product of
  codes: the copied token scores COPY_GAIN times more than the previous one, and the
  codes are checked to be far enough apart that the copied token always wins.
* The source gets `</s>` appended (`add_source_eos`), so when the decoder reaches
  the end of the source it copies `</s>` and stops.

Decoder step 0 reads `<s>` at position 0 and emits source token 0, step 1 emits
source token 1, and so on. SentencePiece is trained with byte fallback, identity
normalisation and whitespace kept, so any text (Urdu, Chinese...) survives the
round trip exactly, as long as a sentence fits in `MAX_POSITIONS - 1` pieces.
(CTranslate2 needs position encodings up to `max_decoding_length`, 256 by default,
so the table is longer than any test sentence.)
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

TOKEN_DIMS = 96
POSITION_DIMS = 96
MAX_POSITIONS = 1024
D_MODEL = TOKEN_DIMS + POSITION_DIMS
COPY_GAIN = 3.0
FFN_DIMS = 8
ATTENTION_SCALE = 6.0  # makes attention one-hot: score margin >> 50 after softmax scaling

# A small English corpus of health-message words, so the vocabulary has real pieces
# besides the 256 byte-fallback ones.
CORPUS = """Hello world.
Wash your hands with soap and water for twenty seconds.
Book your flu vaccine at your GP practice or a local pharmacy.
Call NHS 111 if you are worried about your health.
Children aged two and three can have the flu vaccine as a nasal spray.
Your appointment is on Monday at ten in the morning.
Please bring your red book and a list of your medicines.
Measles spreads very easily. Check your child has had two doses of the MMR vaccine.
If you have a fever, stay at home and rest.
Drink plenty of water when it is hot.
Cancer screening saves lives. Take the test when you are invited.
The clinic is open from nine until five, Monday to Friday.
Ask your pharmacist for advice about coughs and colds.
Free interpreters are available. Tell us which language you speak.
Keep medicines out of the reach of children.
Come to the community health day at the mosque, the temple or the church hall.
Mental health support is free and confidential.
If someone has chest pain, call 999 straight away.
""".splitlines()


def _balanced_codes(count: int, dims: int, seed: int) -> np.ndarray:
    """±1 codes with zero mean and equal norm, checked to be far apart."""
    rng = np.random.default_rng(seed)
    half = np.concatenate([np.ones(dims // 2), -np.ones(dims // 2)])
    codes = np.stack([rng.permutation(half) for _ in range(count)]).astype(np.float32)
    gram = codes @ codes.T
    np.fill_diagonal(gram, -np.inf)
    # A code matches itself with score `dims`; it must beat every other by a wide margin.
    if gram.max() > dims * 0.6:
        raise RuntimeError("the copy model's codes are too close; choose another seed")
    return codes


def train_sentencepiece(dest: Path, corpus: list[str] | None = None,
                        vocab_size: int = 320) -> Path:
    """Train a tiny SentencePiece model with byte fallback into `dest`."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus or CORPUS), model_writer=model,
        vocab_size=vocab_size, model_type="unigram", byte_fallback=True,
        character_coverage=1.0, normalization_rule_name="identity",
        remove_extra_whitespaces=False, hard_vocab_limit=False,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2)
    dest.write_bytes(model.getvalue())
    return dest


def _linear(spec, weight: np.ndarray, bias: bool = True) -> None:
    spec.weight = weight.astype(np.float32)
    if bias:
        spec.bias = np.zeros(weight.shape[0], dtype=np.float32)


def _layer_norm(spec) -> None:
    spec.gamma = np.ones(D_MODEL, dtype=np.float32)
    spec.beta = np.zeros(D_MODEL, dtype=np.float32)


def _silent_ffn(spec) -> None:
    _layer_norm(spec.layer_norm)
    _linear(spec.linear_0, np.zeros((FFN_DIMS, D_MODEL)))
    _linear(spec.linear_1, np.zeros((D_MODEL, FFN_DIMS)))


def _silent_self_attention(spec) -> None:
    _layer_norm(spec.layer_norm)
    _linear(spec.linear[0], np.zeros((3 * D_MODEL, D_MODEL)))
    _linear(spec.linear[1], np.zeros((D_MODEL, D_MODEL)))


def build_copy_model(model_dir: Path, vocabulary: list[str], seed: int = 7) -> Path:
    """Write a CTranslate2 model directory that copies its input tokens."""
    import ctranslate2

    spec = ctranslate2.specs.TransformerSpec.from_config(1, 1)
    vocab_size = len(vocabulary)
    codes = _balanced_codes(vocab_size, TOKEN_DIMS, seed)
    tok = slice(0, TOKEN_DIMS)
    pos = slice(TOKEN_DIMS, D_MODEL)

    embeddings = np.zeros((vocab_size, D_MODEL), dtype=np.float32)
    embeddings[:, tok] = codes
    positions = np.zeros((MAX_POSITIONS, D_MODEL), dtype=np.float32)
    positions[:, pos] = _balanced_codes(MAX_POSITIONS, POSITION_DIMS, seed + 1)

    for side in (spec.encoder, spec.decoder):
        side.scale_embeddings = False
        side.position_encodings.encodings = positions
        _layer_norm(side.layer_norm)
    spec.encoder.embeddings[0].weight = embeddings
    spec.decoder.embeddings.weight = embeddings

    encoder_layer = spec.encoder.layer[0]
    _silent_self_attention(encoder_layer.self_attention)
    _silent_ffn(encoder_layer.ffn)

    decoder_layer = spec.decoder.layer[0]
    _silent_self_attention(decoder_layer.self_attention)
    _silent_ffn(decoder_layer.ffn)
    cross = decoder_layer.attention
    _layer_norm(cross.layer_norm)
    query = np.zeros((D_MODEL, D_MODEL))
    query[pos, pos] = np.eye(POSITION_DIMS) * ATTENTION_SCALE
    key_value = np.zeros((2 * D_MODEL, D_MODEL))
    key_value[:D_MODEL][pos, pos] = np.eye(POSITION_DIMS) * ATTENTION_SCALE
    key_value[D_MODEL:][tok, tok] = np.eye(TOKEN_DIMS)
    out = np.zeros((D_MODEL, D_MODEL))
    out[tok, tok] = np.eye(TOKEN_DIMS) * COPY_GAIN
    _linear(cross.linear[0], query)
    _linear(cross.linear[1], key_value)
    _linear(cross.linear[2], out)

    projection = np.zeros((vocab_size, D_MODEL), dtype=np.float32)
    projection[:, tok] = codes
    _linear(spec.decoder.projection, projection)

    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.config.add_source_eos = True
    spec.validate()
    spec.optimize(quantization=None)
    model_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(model_dir))
    return model_dir


def build_copy_pack(dest_path: Path, from_code: str, to_code: str, *,
                    package_version: str = "1.0", corpus: list[str] | None = None,
                    seed: int = 7) -> Path:
    """Build a copy-model `.argosmodel` for `from_code` -> `to_code` at `dest_path`.

    `dest_path` is a file name ending in `.argosmodel`, or else a folder (created if need
    be) to hold `translate-<from>_<to>-<version>.argosmodel`. The zip has the exact Argos layout: one top-level folder
    holding `metadata.json`, `model/` (CTranslate2) and `sentencepiece.model`.
    Returns the path of the written file.
    """
    import sentencepiece as spm

    dest_path = Path(dest_path)
    name = f"translate-{from_code}_{to_code}-{package_version.replace('.', '_')}"
    target = dest_path if dest_path.suffix == ".argosmodel" else dest_path / f"{name}.argosmodel"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="copy-pack-") as tmp:
        root = Path(tmp) / name
        root.mkdir()
        sp_path = train_sentencepiece(root / "sentencepiece.model", corpus)
        processor = spm.SentencePieceProcessor(model_file=str(sp_path))
        vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        build_copy_model(root / "model", vocabulary, seed)
        metadata = {
            "package_version": package_version, "argos_version": "1.9",
            "from_code": from_code, "from_name": from_code,
            "to_code": to_code, "to_name": to_code, "type": "translate",
            "links": [],
            "description": "cohear copy-model test pack: outputs its input unchanged",
        }
        (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        (root / "README.md").write_text("A cohear test fixture: this model copies its input. "
                                        "It is not a translator.\n", encoding="utf-8")
        partial = target.with_name(target.name + ".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(root.rglob("*")):
                zf.write(path, path.relative_to(Path(tmp)).as_posix())
        shutil.move(partial, target)
    return target
