"""A source written like the public ones: pydantic models, an @init loading a "model" from a
file, an @expose handler, start(). Run it: ``python main.py`` (0.0.0.0:5555), or on a devnet:
``ogpu-devnet serve --provider-source main.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ogpu.service import expose, init, logger, start
from pydantic import BaseModel, Field

LEXICON: dict[str, float] = {}


class Review(BaseModel):
    text: str = Field(min_length=1)
    delay: float = Field(default=0.0, ge=0, le=60)  # lets tests keep a task in flight


class Verdict(BaseModel):
    label: str
    score: float
    words: int


@init()
def load_model() -> None:
    """Load the lexicon (the "model weights") once, before the first task."""
    LEXICON.update(json.loads((Path(__file__).with_name("model.json")).read_text()))
    logger.info("lexicon loaded: %d words", len(LEXICON))


@expose(timeout=30)
def analyze(data: Review) -> Verdict:
    """Score a review with the lexicon."""
    time.sleep(data.delay)
    words = [w.strip(".,!?;:").lower() for w in data.text.split()]
    score = round(sum(LEXICON.get(w, 0.0) for w in words), 3)
    label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
    return Verdict(label=label, score=score, words=len(words))


if __name__ == "__main__":
    start()
