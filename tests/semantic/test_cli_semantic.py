"""The command line's semantic denoisers end to end, with a tiny language model read
from a folder (``--embedder FOLDER``) and item texts from ``--item-text``."""

import json

from iadsr_sk.cli import main
from iadsr_sk.denoising import SequenceDenoiser


def test_denoise_params_reach_a_semantic_denoiser(tiny_folders, tmp_path, monkeypatch):
    sequences = tmp_path / "logs.txt"
    sequences.write_text(
        "\n".join(
            " ".join([f"u{u}"] + [f"i{(u * 5 + t) % 12}" for t in range(7)])
            for u in range(30)
        )
        + "\n",
        encoding="utf-8",
    )
    texts = tmp_path / "titles.tsv"
    texts.write_text(
        "".join(f"i{i}\tproduct number {i} of line {i % 3}\n" for i in range(12)),
        encoding="utf-8",
    )
    fitted, gated = [], []
    original_fit, original_mask = SequenceDenoiser.fit, SequenceDenoiser.keep_mask

    def recording_fit(self, X, y=None):
        fitted.append(self.get_params())
        return original_fit(self, X, y)

    def recording_mask(self, X):
        keep = original_mask(self, X)
        if self.user_gate > -1:  # which users the gate left alone, and what they kept
            out = X.user_similarity < self.user_gate
            rows = X.sequences.positions()[0]
            gated.append((out, keep[out[rows]]))
        return keep

    monkeypatch.setattr(SequenceDenoiser, "fit", recording_fit)
    monkeypatch.setattr(SequenceDenoiser, "keep_mask", recording_mask)
    out = tmp_path / "run.json"
    argv = ["run", "--sequences", str(sequences), "--item-text", str(texts)]
    argv += ["--model", "gru4rec", "--max-epochs", "1", "--max-len", "5"]
    argv += ["--denoiser", "iadsr", "--embedder", str(tiny_folders["bert"])]
    argv += ["--embedding-cache", str(tmp_path / "cache"), "--align-epochs", "1"]
    # the tiny model's users agree at about 0.06-0.3 here: 0.15 gates some of them out
    argv += ["--drop-rate", "0.5", "--denoise-param", "user_gate=0.15"]
    assert main([*argv, "--denoise-param", "min_length=2", "--out", str(out), "-q"]) == 0
    assert [(p["user_gate"], p["min_length"], p["removal_rate"]) for p in fitted] == [
        (0.15, 2, 0.5)
    ]
    result = json.loads(out.read_text())
    assert result["denoiser_params"] == {"user_gate": 0.15, "min_length": 2}
    # the users below the gate keep every item; the others lose some
    assert any(out.any() for out, _ in gated)
    assert all(kept.all() for _, kept in gated)
    assert 0 < result["removed_fraction"] < 0.5
