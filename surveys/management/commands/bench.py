"""make bench: performance goals measured side by side, printed as medians and ratios.

Sections can be chosen with --only; each prints what it measured and the goal next to it.
"""

import random
import statistics
import time

from django.core.management.base import BaseCommand

from surveys import scoring
from surveys.seeding import read_definition

SEED_PATH = "seeds/questionnaire-2026.1.yaml"


def median_time(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def synthetic_answers(definition: scoring.Definition, count: int, seed: int = 7) -> list[dict]:
    """Answers that correlate the way real firms' do: one latent maturity per firm, noise per item."""
    rnd = random.Random(seed)
    items = [item for dim in definition.dimensions for item in dim.items]
    sets = []
    for _ in range(count):
        maturity = rnd.betavariate(2.2, 2.8) * 4
        answers = {}
        for item in items:
            roll = rnd.random()
            if item.allows_unknown and roll < 0.04:
                answers[item.code] = scoring.UNKNOWN
            elif item.allows_na and roll > 0.97:
                answers[item.code] = scoring.NOT_APPLICABLE
            else:
                answers[item.code] = max(0, min(4, round(maturity + rnd.gauss(0, 0.8))))
        sets.append(answers)
    return sets


class Command(BaseCommand):
    help = "Run the benchmarks and print medians, goals and ratios."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=["scoring"], action="append")
        parser.add_argument("--firms", type=int, default=60_000)
        parser.add_argument("--repeat", type=int, default=7)

    def handle(self, *args, only, firms, repeat, **options):
        sections = only or ["scoring"]
        if "scoring" in sections:
            self.bench_scoring(firms, repeat)

    def line(self, name: str, value: str, goal: str, ok: bool) -> None:
        self.stdout.write(f"  {name:<52} {value:>14}   goal {goal:<12} {'OK' if ok else 'MISSED'}")

    def bench_scoring(self, firms: int, repeat: int) -> None:
        definition = scoring.Definition.from_dict(read_definition(SEED_PATH))
        answer_sets = synthetic_answers(definition, firms)
        self.stdout.write(f"scoring engine ({len(definition.items)} items, {firms} synthetic firms, one core)")
        encode = median_time(lambda: scoring.encode_answers(definition, answer_sets), max(3, repeat // 2))
        matrix = scoring.encode_answers(definition, answer_sets)
        batch = median_time(lambda: scoring.score_batch(definition, matrix), repeat)
        sample = answer_sets[:2000]
        per_firm = []
        for answers in sample:
            start = time.perf_counter()
            scoring.score(definition, answers)
            per_firm.append(time.perf_counter() - start)
        one = statistics.median(per_firm)
        self.line(f"batch engine: score {firms} firms (median of {repeat})", f"{batch:.3f} s", "< 1 s", batch < 1)
        self.line(f"encode {firms} answer dicts into the matrix", f"{encode:.3f} s", "-", True)
        self.line("single-firm engine: one firm (median of 2000)", f"{one * 1000:.3f} ms", "< 1 ms", one < 0.001)
        self.line(f"  ratio: single engine × {firms} ÷ batch engine", f"{one * firms / batch:.1f}×", "-", True)
