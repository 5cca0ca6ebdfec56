"""The README's walkthrough: which fenced blocks are commands, and how the test shortens them.

Convention (also stated in a comment at the top of ``README.md``):

- a fenced block tagged ``bash`` holds walkthrough commands, one a line (``#`` starts a
  comment, a trailing ``\\`` continues the line); they run in README order, in one folder
  that plays a fresh clone's working folder, with ``../shared`` beside it;
- a fenced block tagged ``python`` is walkthrough code, run with ``python -c`` in that
  same folder at its place in the order;
- the first two ``bash`` blocks are the set-up (:data:`SETUP_COMMANDS`): they are checked
  word for word, not run (the test already runs inside that installation and test run);
- output is shown in blocks tagged ``console`` (a transcript: ``$ command`` lines and what
  they printed) or ``text``; every ``$ ecg ...`` line of a transcript must be a walkthrough
  command, so that what a transcript shows is also what the test runs;
- commands written in prose (`` `ecg export --split published` ``, the benchmark scripts)
  are references to options and to longer measurements, not walkthrough steps.

Every block must carry one of these tags. The test shortens the long commands with
:func:`shorten` (the only difference from the commands as written; on the shipped mini
mirror, also :data:`MINI_MIRROR_EXTRA`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"

#: The two set-up steps, in order: the README's first two ``bash`` blocks, exactly.
SETUP_COMMANDS = ('pip install -c constraints.txt -e ".[dev]"', "python -m pytest")

#: Tags a fenced block may carry (see the module docstring).
RUN_TAGS = ("bash", "python")
OUTPUT_TAGS = ("console", "text")

#: What the test appends to ``ecg train`` and ``ecg transfer`` (after removing any
#: ``--epochs N`` written in the README): one epoch of at most 20 iterations per run,
#: instead of hours of training. The commands keep every other option.
SHORT_TRAINING = ("--epochs", "1", "--max-iters", "20")
SHORTENED_COMMANDS = ("train", "transfer")

#: Only on the shipped mini mirror (``tests/data/``, when ``../shared`` is absent): words
#: appended to the commands that start with these words. The published train/test split
#: needs the class totals of all 48 records, so the mini mirror's beats are exported with
#: the inter-patient split instead.
MINI_MIRROR_EXTRA = {
    ("ecg", "export", "data/beats/mitdb-kaggle.h5"): ("--split", "interpatient"),
}

_FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of the README: its tag, its text and the line its text starts on."""

    tag: str
    text: str
    line: int


@dataclass(frozen=True)
class Step:
    """One walkthrough step: a command line (``bash``) or a code block (``python``)."""

    kind: str  # "bash" or "python"
    text: str
    line: int

    def argv(self) -> list[str]:
        """The step as written, split into words (a python block: ``python -c CODE``)."""
        if self.kind == "python":
            return ["python", "-c", self.text]
        return shlex.split(self.text, comments=True)

    @property
    def command(self) -> str:
        """The step's words joined by single spaces (a bash line without its comment)."""
        return " ".join(self.argv()) if self.kind == "bash" else self.text


def fenced_blocks(markdown: str) -> list[Block]:
    """Every fenced block of ``markdown`` in order (unterminated blocks raise ValueError)."""
    blocks, tag, start, lines = [], None, 0, []
    for number, line in enumerate(markdown.splitlines(), start=1):
        match = _FENCE.match(line)
        if tag is None and match:
            tag, start, lines = match.group(1), number + 1, []
        elif tag is not None and line.strip() == "```":
            blocks.append(Block(tag, "\n".join(lines), start))
            tag = None
        elif tag is not None:
            lines.append(line)
    if tag is not None:
        raise ValueError(f"README line {start - 1}: fenced block never closed")
    return blocks


def block_steps(block: Block) -> list[Step]:
    """The steps of a ``bash`` or ``python`` block (bash: one per logical line)."""
    if block.tag == "python":
        return [Step("python", block.text, block.line)]
    steps, pending, first = [], "", block.line
    for offset, line in enumerate(block.text.splitlines()):
        if not pending:
            first = block.line + offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            steps.append(Step("bash", command, first))
    return steps


def setup_and_walkthrough(markdown: str) -> tuple[list[Step], list[Step]]:
    """Split the README's runnable blocks into the two set-up steps and the walkthrough."""
    runnable = [b for b in fenced_blocks(markdown) if b.tag in RUN_TAGS]
    bash = [i for i, b in enumerate(runnable) if b.tag == "bash"]
    setup_blocks = bash[:len(SETUP_COMMANDS)]
    setup = [s for i in setup_blocks for s in block_steps(runnable[i])]
    rest = [s for i, b in enumerate(runnable) if i not in setup_blocks for s in block_steps(b)]
    return setup, rest


def transcript_commands(markdown: str) -> list[tuple[int, str]]:
    """``(line, command)`` of every ``$ ecg ...`` line in the ``console`` blocks."""
    found = []
    for block in fenced_blocks(markdown):
        if block.tag != "console":
            continue
        for offset, line in enumerate(block.text.splitlines()):
            if line.startswith("$ ecg "):
                found.append((block.line + offset, " ".join(shlex.split(line[2:]))))
    return found


def shorten(argv: list[str], mini_mirror: bool = False) -> list[str]:
    """The command the test runs for ``argv``: ``ecg train``/``transfer`` made short.

    With ``mini_mirror``, also the additions of :data:`MINI_MIRROR_EXTRA`.

    >>> shorten(["ecg", "train", "a.h5", "--epochs", "70", "--threads", "1"])
    ['ecg', 'train', 'a.h5', '--threads', '1', '--epochs', '1', '--max-iters', '20']
    >>> shorten(["ecg", "segment", "--db", "mitdb"])
    ['ecg', 'segment', '--db', 'mitdb']
    """
    if mini_mirror:
        for start, extra in MINI_MIRROR_EXTRA.items():
            if tuple(argv[:len(start)]) == start:
                argv = [*argv, *extra]
    if argv[:1] != ["ecg"] or len(argv) < 2 or argv[1] not in SHORTENED_COMMANDS:
        return list(argv)
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word == "--epochs":
            skip = True
        elif not word.startswith("--epochs="):
            out.append(word)
    return out + list(SHORT_TRAINING)


def run_folders_named(step: Step) -> list[str]:
    """``runs/NAME`` folders a step reads (``runs/NAME/...`` in its words)."""
    return re.findall(r"(?<![\w/.])runs/([\w.-]+)/", step.text)


def run_folder_made(step: Step) -> str | None:
    """The run folder an ``ecg train``/``ecg transfer`` step makes (its ``--name``), if any."""
    argv = step.argv() if step.kind == "bash" else []
    if argv[:1] != ["ecg"] or len(argv) < 2 or argv[1] not in SHORTENED_COMMANDS:
        return None
    for i, word in enumerate(argv[:-1]):
        if word == "--name":
            return argv[i + 1]
    return None
