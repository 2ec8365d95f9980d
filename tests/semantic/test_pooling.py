"""Pooling is correct whichever side is padded, alone and through real (tiny) models."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from semantic_data import TITLES

from iadsr_sk.semantic._models import TextEncoder
from iadsr_sk.semantic._pooling import cls_pool, last_token_pool, mean_pool, pool

SETTINGS = {
    "prompt": None,
    "max_length": 64,
    "truncation_side": "right",
    "normalize": False,
}


def _hidden_and_masks():
    """Two rows of 3 and 1 real tokens, padded to 5 on the right and on the left."""
    generator = torch.Generator().manual_seed(0)
    states = [
        torch.randn(3, 4, generator=generator),
        torch.randn(1, 4, generator=generator),
    ]
    right = torch.full((2, 5, 4), float("nan"))
    left = torch.full((2, 5, 4), float("nan"))
    right_mask = torch.zeros(2, 5, dtype=torch.long)
    left_mask = torch.zeros(2, 5, dtype=torch.long)
    for row, s in enumerate(states):
        n = s.shape[0]
        right[row, :n], right_mask[row, :n] = s, 1
        left[row, 5 - n :], left_mask[row, 5 - n :] = s, 1
    return states, (right, right_mask), (left, left_mask)


@pytest.mark.parametrize("side", ["right", "left"])
def test_pooling_functions_read_only_real_tokens(side):
    states, right, left = _hidden_and_masks()
    hidden, mask = right if side == "right" else left
    # padding holds NaN: a result that touched it would be NaN
    mean, first, last = (
        mean_pool(hidden, mask),
        cls_pool(hidden, mask),
        last_token_pool(hidden, mask),
    )
    for row, s in enumerate(states):
        torch.testing.assert_close(mean[row], s.mean(dim=0))
        torch.testing.assert_close(first[row], s[0])
        torch.testing.assert_close(last[row], s[-1])


def test_pool_dispatch_and_unknown_mode():
    _, (hidden, mask), _ = _hidden_and_masks()
    torch.testing.assert_close(pool(hidden, mask, "last"), last_token_pool(hidden, mask))
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        pool(hidden, mask, "max")


def _encoder(model_and_tokenizer, *, decoder: bool, side: str) -> TextEncoder:
    model, tokenizer = model_and_tokenizer
    encoder = TextEncoder(model, tokenizer, is_decoder=decoder, device=torch.device("cpu"))
    encoder.padding_side = side
    return encoder


@pytest.mark.parametrize("kind", ["bert", "llama", "qwen2"])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("pooling", ["mean", "cls", "last"])
def test_padded_batch_equals_each_text_alone(tiny_models, kind, side, pooling):
    """Texts of different lengths batched together (padded on ``side``) give the same
    vectors as each text run alone, without any padding."""
    encoder = _encoder(tiny_models[kind], decoder=kind != "bert", side=side)
    texts = TITLES[:6]
    batched = encoder.encode(texts, pooling=pooling, batch_size=6, **SETTINGS)
    lengths = [len(ids) for ids in encoder.tokenize(texts, **_tokenize_settings())]
    assert len(set(lengths)) > 2  # the batch really is padded
    alone = np.vstack(
        [encoder.encode([t], pooling=pooling, batch_size=1, **SETTINGS) for t in texts]
    )
    np.testing.assert_allclose(batched, alone, rtol=1e-4, atol=1e-5)


def _tokenize_settings():
    return {k: SETTINGS[k] for k in ("prompt", "max_length", "truncation_side")}


@pytest.mark.parametrize("kind", ["llama", "qwen2"])
def test_last_token_pooling_is_the_state_of_the_last_real_token(tiny_models, kind):
    """Checked against the model's own output on the unpadded text."""
    model, tokenizer = tiny_models[kind]
    encoder = _encoder(tiny_models[kind], decoder=True, side="left")
    texts = ["red lipstick for women", "wig"]
    pooled = encoder.encode(texts, pooling="last", batch_size=2, **SETTINGS)
    with torch.inference_mode():
        for row, text in enumerate(texts):
            ids = torch.tensor([tokenizer(text)["input_ids"]])
            expected = model(input_ids=ids).last_hidden_state[0, -1]
            np.testing.assert_allclose(pooled[row], expected.numpy(), rtol=1e-4, atol=1e-5)


def test_decoders_pad_left_with_eos_when_the_tokenizer_has_no_pad(tiny_models):
    model, tokenizer = tiny_models["llama"]
    assert tokenizer.pad_token_id is None
    encoder = TextEncoder(model, tokenizer, is_decoder=True, device=torch.device("cpu"))
    assert encoder.padding_side == "left"
    assert encoder.pad_token_id == tokenizer.eos_token_id
    input_ids, mask = encoder._batch_tensors([[1, 5, 6], [1]])
    assert input_ids.tolist() == [[1, 5, 6], [2, 2, 1]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    bert = TextEncoder(*tiny_models["bert"], is_decoder=False, device=torch.device("cpu"))
    assert bert.padding_side == "right"
    assert bert._batch_tensors([[101, 7, 102], [101, 102]])[0].tolist() == [
        [101, 7, 102],
        [101, 102, 0],
    ]


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    side=st.sampled_from(["left", "right"]),
    seed=st.integers(0, 2**16),
)
def test_pooling_matches_a_per_row_reference(lengths, side, seed):
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths) + 1
    hidden = torch.randn(len(lengths), width, 3, generator=generator)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, n in enumerate(lengths):
        if side == "left":
            mask[row, width - n :] = 1
        else:
            mask[row, :n] = 1
    hidden[mask == 0] = float("inf")  # padding must never leak into a result
    for row in range(len(lengths)):
        real = hidden[row][mask[row].bool()]
        torch.testing.assert_close(mean_pool(hidden, mask)[row], real.mean(dim=0))
        torch.testing.assert_close(cls_pool(hidden, mask)[row], real[0])
        torch.testing.assert_close(last_token_pool(hidden, mask)[row], real[-1])
