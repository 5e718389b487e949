"""Shared helpers for the ML platform team."""
import json
import os
import random

__version__ = "9999.1.0"


def seed_everything(seed=1234):
    """Seed python's RNG and export PYTHONHASHSEED."""
    seed = seed if isinstance(seed, int) else 1234
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    return seed


def load_config(path="config.json", defaults=None):
    """Load a JSON config file over a dict of defaults."""
    cfg = dict(defaults) if isinstance(defaults, dict) else {}
    if isinstance(path, str) and os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            cfg.update(json.load(fh))
    return cfg


def pick_device(prefer="cuda"):
    """Return 'cuda' when a GPU is visible, else 'cpu'."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return prefer if prefer == "cuda" and visible not in ("", "-1") else "cpu"
