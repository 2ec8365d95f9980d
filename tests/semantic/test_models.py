"""Describing models without loading them: kind, default pooling, identity."""

import json
import logging
import shutil

import pytest
import torch

from iadsr_sk.semantic._models import describe_model, is_decoder_config


@pytest.mark.parametrize(
    ("config", "decoder"),
    [
        ({"model_type": "bert", "architectures": ["BertModel"]}, False),
        ({"model_type": "bert", "is_decoder": True}, True),
        ({"model_type": "xlm-roberta"}, False),
        ({"model_type": "llama"}, True),
        ({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]}, True),
        ({"model_type": "mistral"}, True),
        ({"model_type": "something-new", "architectures": ["NewForCausalLM"]}, True),
        ({"model_type": "something-new", "architectures": ["NewModel"]}, False),
        ({"model_type": "t5", "is_encoder_decoder": True}, False),
    ],
)
def test_decoder_detection(config, decoder):
    assert is_decoder_config(config) is decoder


def test_folders_are_described_without_loading(tiny_folders):
    bert = describe_model(str(tiny_folders["bert"]))
    llama = describe_model(tiny_folders["llama"])  # path-like accepted
    assert (bert.is_decoder, bert.default_pooling) == (False, "mean")
    assert (llama.is_decoder, llama.default_pooling) == (True, "last")
    assert bert.identity == describe_model(str(tiny_folders["bert"])).identity
    assert bert.identity != llama.identity


def test_default_is_minilm_with_its_declared_pooling():
    spec = describe_model("default")
    assert spec.name.startswith("default") and spec.default_pooling == "mean"
    assert not spec.is_decoder


def _sentence_transformers_folder(source, target, pooling, extra_modules=()):
    shutil.copytree(source, target)
    kinds = "sentence_transformers.models."
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": kinds + "Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": kinds + "Pooling"},
        *extra_modules,
    ]
    (target / "modules.json").write_text(json.dumps(modules))
    (target / "1_Pooling").mkdir()
    (target / "1_Pooling" / "config.json").write_text(json.dumps(pooling))


def test_sentence_transformers_pooling_and_modules(tiny_folders, tmp_path, caplog):
    cls = tmp_path / "cls"
    _sentence_transformers_folder(
        tiny_folders["bert"], cls, {"pooling_mode_cls_token": True}
    )
    assert describe_model(str(cls)).default_pooling == "cls"
    dense = tmp_path / "dense"
    _sentence_transformers_folder(
        tiny_folders["bert"],
        dense,
        {"pooling_mode_max_tokens": True},
        [
            {
                "idx": 2,
                "name": "2",
                "path": "2_Dense",
                "type": "sentence_transformers.models.Dense",
            }
        ],
    )
    with caplog.at_level(logging.WARNING, logger="iadsr_sk"):
        spec = describe_model(str(dense))
    assert spec.default_pooling == "mean"
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "['Dense']" in messages and "pooling_mode_max_tokens" in messages


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_objects_identity_survives_the_inference_cast(fresh_model, dtype):
    model, tokenizer = fresh_model("bert")
    before = describe_model((model, tokenizer), dtype=dtype).identity
    model.to(getattr(torch, dtype))  # what fitting with this dtype does, in place
    assert describe_model((model, tokenizer), dtype=dtype).identity == before
    assert describe_model((model, tokenizer), dtype="float32").identity != before


def test_objects_identity_follows_every_weight(fresh_model, tiny_models):
    model, tokenizer = fresh_model("bert")
    first = describe_model((model, tokenizer)).identity
    assert describe_model((model, tokenizer)).identity == first
    model.embeddings.word_embeddings.weight.data[5, 3] += 1e-3  # one value of 1M
    assert describe_model((model, tokenizer)).identity != first
    # a name given by the user is the identity, whatever the weights
    named = describe_model((model, tokenizer, "mine"))
    other = describe_model((*tiny_models["llama"], "mine"))
    assert named.name == "mine" and named.identity == other.identity
    with pytest.raises(TypeError, match="must be a str"):
        describe_model((model, tokenizer, 3))


def test_accelerator_fingerprint_sums(monkeypatch):
    """The on-device reduction (used for GPU tensors), checked on the CPU."""
    from iadsr_sk.semantic import _models

    monkeypatch.setattr(_models, "_FINGERPRINT_CHUNK", 7)  # several chunks
    values = torch.randn(50, generator=torch.Generator().manual_seed(0))
    bits = values.view(torch.int32)
    sums = _models._bit_sums(bits)
    assert sums == _models._bit_sums(bits.clone())
    assert all(0 <= s < 2**64 for s in sums)
    changed = values.clone()
    changed[31] = torch.nextafter(changed[31], torch.tensor(10.0))  # one ulp
    assert _models._bit_sums(changed.view(torch.int32)) != sums
    swapped = values.clone()
    swapped[[3, 4]] = swapped[[4, 3]]
    assert _models._bit_sums(swapped.view(torch.int32)) != sums
